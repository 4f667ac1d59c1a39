"""The caller of an API request: their LINE id, their wallet if they are a resident, their shops.

Loaded once per request from the verified ID token, so each route only asks for what it needs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app, g

from ledger.sql import Statement
from liff import errors

# Asked on every API call, so written once as plain SQL (the ledger's fast path for hot statements).
_RESIDENT = Statement("SELECT id, account_id, name, language, status FROM residents WHERE line_user_id = :sub")
_SHOPS = Statement(
    "SELECT m.id, m.code, m.name, m.category, s.role FROM merchant_staff s JOIN merchants m ON m.id = s.merchant_id"
    " WHERE s.line_user_id = :sub AND m.active = :yes ORDER BY m.code")


@dataclass(frozen=True)
class Shop:
    id: int
    code: str
    name: str
    category: str
    role: str


@dataclass
class Caller:
    sub: str
    display_name: str = ""
    resident_id: int | None = None
    account_id: int | None = None
    name: str = ""
    language: str = "ja"
    status: str | None = None
    _shops: list[Shop] = field(default_factory=list, repr=False)

    def require_resident(self) -> int:
        if self.resident_id is None:
            raise errors.not_registered()
        return self.resident_id

    def shops(self) -> list[Shop]:
        """The (active) shops whose till this LINE user may work."""
        return self._shops

    def shop(self, merchant_code: Any = None) -> Shop:
        """The shop this till acts for: the only one, or the one `merchant_code` chooses."""
        shops = self.shops()
        if not shops:
            raise errors.not_staff()
        if merchant_code not in (None, ""):
            for shop in shops:
                if shop.code == merchant_code:
                    return shop
            raise errors.not_staff()
        if len(shops) > 1:
            raise errors.choose_merchant()
        return shops[0]

    def shop_by_id(self, merchant_id: int | None) -> Shop | None:
        return next((s for s in self.shops() if s.id == merchant_id), None)


def machi() -> Any:
    return current_app.extensions["machi"]


def load_caller(sub: str, display_name: str = "") -> Caller:
    """The resident (if registered) and the shop roles of a LINE user, in one connection."""
    db = machi().db
    with db.engine.connect() as conn:
        row = _RESIDENT.run(conn, db.sqlite, {"sub": sub}).first()
        shops = [Shop(r.id, r.code, r.name, r.category, r.role)
                 for r in _SHOPS.run(conn, db.sqlite, {"sub": sub, "yes": True})]
    if row is None:
        return Caller(sub=sub, display_name=display_name, _shops=shops)
    language = "en" if (row.language or "").lower().startswith("en") else "ja"
    return Caller(sub=sub, display_name=display_name, resident_id=row.id, account_id=row.account_id,
                  name=row.name, language=language, status=row.status, _shops=shops)


def caller() -> Caller:
    return g.caller


def language() -> str:
    found = g.get("caller")
    return found.language if found is not None else "ja"
