"""銀行営業日: the days a bank transfer can be dated.

Banks in Japan do not transfer on Saturdays, Sundays, national holidays (祝日・振替休日・国民の休日) or over
the New Year bank holidays (12/31–1/3). The holidays come from the maintained `holidays` library, so moved
and substitute holidays are right without a table of our own.
"""
from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _public_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("JP", years=year))


def is_new_year_bank_holiday(day: date) -> bool:
    return (day.month, day.day) == (12, 31) or (day.month == 1 and day.day <= 3)


def is_business_day(day: date) -> bool:
    """A day a bank transfer can be dated: not a weekend, a public holiday nor 12/31–1/3."""
    return day.weekday() < 5 and day not in _public_holidays(day.year) and not is_new_year_bank_holiday(day)


def next_business_day(day: date) -> date:
    """`day` itself when banks work then, else the next day they do."""
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def transfer_date(period_end: date, after_days: int, today: date) -> date:
    """The transfer date for a period: `after_days` after its end, never earlier than tomorrow (a late or
    caught-up run cannot date a transfer in the past), moved to the next bank business day."""
    return next_business_day(max(period_end + timedelta(days=after_days), today + timedelta(days=1)))
