"""Read-only views of the ledger: balances by money type, history. No locks, no writes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, and_, func, or_, select

from ledger.clock import last_valid_day, utcnow
from ledger.models import Entry, Lot, Merchant, MoneyType, Posting


@dataclass(frozen=True)
class Balance:
    money_type: str
    name: str
    name_en: str
    kind: str
    amount: int
    accepted_category: str | None
    next_expiry: date | None
    expiring_amount: int


def balances(conn: Connection, account_id: int, now: datetime | None = None) -> list[Balance]:
    """Per money type: what is held, and how much of it ends first (and when)."""
    now = now or utcnow()
    rows = conn.execute(
        select(MoneyType.code, MoneyType.name, MoneyType.name_en, MoneyType.kind, MoneyType.accepted_category,
               Lot.remaining, Lot.expires_at)
        .join(MoneyType, MoneyType.id == Lot.money_type_id)
        .where(Lot.account_id == account_id, Lot.remaining > 0, or_(Lot.expires_at.is_(None), Lot.expires_at > now))
        .order_by(MoneyType.id, Lot.expires_at)
    ).all()
    out: dict[str, dict] = {}
    for r in rows:
        b = out.setdefault(r.code, {"money_type": r.code, "name": r.name, "name_en": r.name_en, "kind": r.kind,
                                    "amount": 0, "accepted_category": r.accepted_category, "next_expiry": None,
                                    "expiring_amount": 0})
        b["amount"] += r.remaining
        if r.expires_at is not None:
            day = last_valid_day(r.expires_at)
            if b["next_expiry"] is None or day < b["next_expiry"]:
                b["next_expiry"], b["expiring_amount"] = day, r.remaining
            elif day == b["next_expiry"]:
                b["expiring_amount"] += r.remaining
    return [Balance(**b) for b in out.values()]


@dataclass(frozen=True)
class HistoryItem:
    entry_id: int
    kind: str
    at: datetime
    amount: int  # signed: + into this wallet, − out of it
    money_types: list[str]
    merchant: str | None
    memo: str
    refunded: bool
    only_points: bool = False  # every posting of this wallet in the entry is in points, so it is told in points


def history(conn: Connection, account_id: int, *, limit: int = 10, before_id: int | None = None) -> list[HistoryItem]:
    """Newest first, paged by entry id."""
    q = (select(Entry.id, Entry.kind, Entry.created_at, Entry.memo, Merchant.name.label("merchant"),
                func.sum(Posting.amount).label("amount"))
         .join(Posting, Posting.entry_id == Entry.id)
         .outerjoin(Merchant, Merchant.id == Entry.merchant_id)
         .where(Posting.account_id == account_id)
         .group_by(Entry.id, Entry.kind, Entry.created_at, Entry.memo, Merchant.name)
         .order_by(Entry.id.desc()).limit(limit))
    if before_id is not None:
        q = q.where(Entry.id < before_id)
    rows = conn.execute(q).all()
    if not rows:
        return []
    ids = [r.id for r in rows]
    types: dict[int, list[str]] = {}
    kinds: dict[int, set[str]] = {}
    for eid, name, kind in conn.execute(
        select(Posting.entry_id, MoneyType.name, MoneyType.kind).join(MoneyType, MoneyType.id == Posting.money_type_id)
        .where(Posting.entry_id.in_(ids), Posting.account_id == account_id).distinct()
    ).all():
        types.setdefault(eid, []).append(name)
        kinds.setdefault(eid, set()).add(kind)
    refunded = set(conn.execute(select(Entry.reverses_entry_id).where(
        and_(Entry.reverses_entry_id.in_(ids)))).scalars())
    return [HistoryItem(r.id, r.kind, r.created_at, int(r.amount), sorted(types.get(r.id, [])), r.merchant,
                        r.memo, r.id in refunded, kinds.get(r.id) == {"point"}) for r in rows]
