"""Times are stored as naive UTC and shown in Asia/Tokyo, whatever TZ the machine has."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def to_jst(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC).astimezone(JST)


def jst_date(dt: datetime) -> date:
    return to_jst(dt).date()


def today_jst(now: datetime | None = None) -> date:
    return jst_date(now or utcnow())


def jst_midnight_utc(day: date) -> datetime:
    """The UTC instant at which `day` begins in Tokyo."""
    return datetime.combine(day, time(0), JST).astimezone(UTC).replace(tzinfo=None)


def end_of_jst_day(day: date) -> datetime:
    """Money valid 'until 3/31' stays usable through 3/31 in Tokyo: it ends at 4/1 00:00 JST."""
    return jst_midnight_utc(day + timedelta(days=1))


def last_valid_day(expires_at: datetime) -> date:
    """The one expiry date people are told: lots end at 00:00 Tokyo (`end_of_jst_day`), so the last day
    they can still be spent is the day before that instant. Every message, card, page and file uses this."""
    return jst_date(expires_at - timedelta(seconds=1))


def fmt_jst(dt: datetime | None, with_time: bool = True) -> str:
    if dt is None:
        return ""
    local = to_jst(dt)
    return local.strftime("%Y/%m/%d %H:%M") if with_time else local.strftime("%Y/%m/%d")
