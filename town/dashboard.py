"""The console's front page figures: registered residents and payment volume, against the plan's targets.

The plan (事業計画) aims at 400 / 800 / 1,200 registered residents and 40 / 80 / 120 million yen a
year of payments in its first, second and third year. Each figure is one aggregate in SQL.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, func, select

from ledger.clock import jst_midnight_utc, today_jst
from ledger.models import Entry, Resident

REGISTRATION_TARGETS = (400, 800, 1_200)
VOLUME_TARGETS = (40_000_000, 80_000_000, 120_000_000)


@dataclass(frozen=True)
class Figures:
    today: date
    registered: int
    month_volume: int
    month_payments: int
    year_volume: int
    year_payments: int

    @staticmethod
    def share(value: int, target: int) -> int:
        """Percent of a target reached, 0-100 (for a bar's width)."""
        return max(0, min(100, value * 100 // target)) if target else 0


def _payments_since(conn: Connection, start: datetime) -> tuple[int, int]:
    """Payments less refunds since `start`: (yen, number of payments)."""
    rows = dict(conn.execute(select(Entry.kind, func.coalesce(func.sum(Entry.amount), 0))
                             .where(Entry.kind.in_(("payment", "refund")), Entry.created_at >= start)
                             .group_by(Entry.kind)).all())
    count = conn.execute(select(func.count()).select_from(Entry)
                         .where(Entry.kind == "payment", Entry.created_at >= start)).scalar_one()
    return int(rows.get("payment", 0)) - int(rows.get("refund", 0)), int(count)


def compute(conn: Connection, now: datetime) -> Figures:
    """Registered (active) residents now; this calendar month's and this calendar year's payments (JST)."""
    today = today_jst(now)
    registered = conn.execute(select(func.count()).select_from(Resident).where(
        Resident.registered_at.is_not(None), Resident.status == "active")).scalar_one()
    month = _payments_since(conn, jst_midnight_utc(today.replace(day=1)))
    year = _payments_since(conn, jst_midnight_utc(today.replace(month=1, day=1)))
    return Figures(today, int(registered), month[0], month[1], year[0], year[1])
