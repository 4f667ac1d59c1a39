"""Who won an offer's lottery and whether they have bought: the list staff call or write to before the
purchase period ends. Reading it is recorded in the audit log (it shows names)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from ledger.db import Database
from ledger.errors import NotAllowed, NotFound
from ledger.models import Entry, Resident, SaleApplication, SaleDraw, SaleOffer
from ledger.queries import last_valid_day
from town.staff_tx import staff_write


@dataclass(frozen=True)
class Winner:
    application_id: int
    resident_id: int
    name: str
    district: str
    sets_won: int
    sets_bought: int
    bought: bool
    purchase_until: date | None
    line: bool  # can be told on LINE (otherwise by post or phone)


@dataclass(frozen=True)
class Winners:
    offer: str
    name: str
    drawn: bool
    winners: list[Winner]

    @property
    def bought(self) -> int:
        return sum(w.bought for w in self.winners)


def winners(db: Database, offer_code: str, *, actor: str) -> Winners:
    code = (offer_code or "").strip().upper()

    def work(s) -> tuple[Winners, dict, str]:
        offer = s.execute(select(SaleOffer).where(SaleOffer.code == code)).scalar()
        if offer is None:
            raise NotFound(f"商品券「{code}」はありません。`machi sale offers` で確かめてください。")
        if not offer.lottery:
            raise NotAllowed(f"「{offer.name}」は抽選販売ではありません（当選者はいません）。")
        drawn = s.execute(select(SaleDraw.id).where(SaleDraw.offer_id == offer.id)).first() is not None
        rows = s.execute(select(SaleApplication, Resident)
                         .join(Resident, Resident.id == SaleApplication.resident_id)
                         .where(SaleApplication.offer_id == offer.id,
                                SaleApplication.status.in_(("won", "bought")))
                         .order_by(SaleApplication.id)).all()
        bought: dict[int, int] = {}
        for rid, meta in s.execute(select(Entry.resident_id, Entry.meta).where(
                Entry.ref == f"sale:{offer.code}", Entry.kind == "sale")).all():
            bought[rid] = bought.get(rid, 0) + int((meta or {}).get("sets", 0))
        out = [Winner(a.id, r.id, r.name, r.district, a.sets, bought.get(r.id, 0),
                      a.status == "bought" or bought.get(r.id, 0) > 0,
                      last_valid_day(a.purchase_until) if a.purchase_until else None,
                      bool(r.line_user_id) and r.reachable) for a, r in rows]
        result = Winners(offer.code, offer.name, drawn, out)
        return result, {"offer": offer.code, "rows": len(out)}, "winners listed"

    return staff_write(db, actor=actor, action="sale.winners", dry_run=False, work=work)
