"""The period a report covers: Tokyo days `start`..`end`, both included. One rule for every report (KPI,
exports, the staff's period options), so no figure counts what happened after the period's end."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, and_

from ledger.clock import end_of_jst_day, jst_midnight_utc, today_jst
from ledger.errors import InvalidInput

MAX_DAYS = 3660


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @property
    def lo(self) -> datetime:
        """The first instant of the period (00:00 Tokyo on `start`), as stored (naive UTC)."""
        return jst_midnight_utc(self.start)

    @property
    def hi(self) -> datetime:
        """The first instant after the period (00:00 Tokyo the day after `end`)."""
        return end_of_jst_day(self.end)

    def covers(self, at: ColumnElement) -> ColumnElement[bool]:
        """`at` falls inside the period."""
        return and_(at >= self.lo, at < self.hi)

    def by_end(self, at: ColumnElement) -> ColumnElement[bool]:
        """`at` falls before the period's end (for totals so far: grants received, residents registered)."""
        return at < self.hi


def period(start: date | None, end: date | None, *, today: date | None = None) -> Period:
    """The period staff asked for: by default the month so far up to yesterday. Refused when backwards or
    longer than ten years."""
    end = end or (today or today_jst()) - timedelta(days=1)
    start = start or end.replace(day=1)
    if end < start:
        raise InvalidInput("期間の終わりが始まりより前です。")
    if (end - start).days > MAX_DAYS:
        raise InvalidInput("期間は10年以内にしてください。")
    return Period(start, end)
