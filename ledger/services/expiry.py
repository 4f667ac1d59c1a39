"""Expiry: lots past their end move to the breakage account; reminders before they do."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, func, select, update

from ledger.clock import end_of_jst_day, jst_midnight_utc
from ledger.events import LotsExpired
from ledger.journal import Leg, add_entry, add_postings, internal_account
from ledger.models import Lot, MoneyType, Resident
from ledger.uow import Tx, UnitOfWork

CHUNK = 500


@dataclass(frozen=True)
class ExpiryResult:
    lots: int
    total: int
    by_type: dict[str, int]


def expire(uow: UnitOfWork, *, now: datetime | None = None, actor: str = "scheduler") -> ExpiryResult:
    """One entry per money type, one posting per expired lot: each resident's history shows its loss."""

    def work(tx: Tx) -> ExpiryResult:
        at = now or tx.now
        q = (select(Lot.id, Lot.account_id, Lot.money_type_id, Lot.remaining)
             .where(Lot.expires_at <= at, Lot.remaining > 0).order_by(Lot.id))
        if not tx.sqlite:
            q = q.with_for_update()
        rows = tx.conn.execute(q).all()
        by_type: dict[int, list] = defaultdict(list)
        for r in rows:
            by_type[r.money_type_id].append(r)
        codes = dict(tx.conn.execute(select(MoneyType.id, MoneyType.code)).all())
        summary: dict[str, int] = {}
        for mt_id, lots in by_type.items():
            total = sum(r.remaining for r in lots)
            entry_id = add_entry(tx, "expiry", key=f"expiry:{mt_id}:{at.isoformat()}", amount=total,
                                 actor=actor, memo=f"有効期限切れ {len(lots)}件")
            ids = [r.id for r in lots]
            for i in range(0, len(ids), CHUNK):
                tx.conn.execute(update(Lot).where(Lot.id.in_(ids[i:i + CHUNK])).values(remaining=0))
            legs = [Leg(r.account_id, mt_id, -r.remaining, r.id) for r in lots]
            legs.append(Leg(internal_account(tx, "breakage", mt_id), mt_id, total))
            add_postings(tx, entry_id, legs)
            summary[codes[mt_id]] = total
            tx.events.append(LotsExpired(entry_id, codes[mt_id], total, len(lots)))
        return ExpiryResult(len(rows), sum(summary.values()), summary)

    return uow.run(work)


@dataclass(frozen=True)
class Expiring:
    resident_id: int
    line_user_id: str | None
    language: str
    money_type: str
    amount: int
    expires_on: date


def expiring_on(conn: Connection, day: date) -> list[Expiring]:
    """What each resident holds that ends on `day` (Tokyo), per money type: the reminder list."""
    start, end = jst_midnight_utc(day), end_of_jst_day(day)
    rows = conn.execute(
        select(Resident.id, Resident.line_user_id, Resident.language, MoneyType.code,
               func.sum(Lot.remaining).label("amount"))
        .join(Resident, Resident.account_id == Lot.account_id)
        .join(MoneyType, MoneyType.id == Lot.money_type_id)
        .where(Lot.remaining > 0, Lot.expires_at > start, Lot.expires_at <= end, Resident.status == "active")
        .group_by(Resident.id, Resident.line_user_id, Resident.language, MoneyType.code)
        .order_by(Resident.id)
    ).all()
    return [Expiring(r.id, r.line_user_id, r.language, r.code, int(r.amount), day) for r in rows]
