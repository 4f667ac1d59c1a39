"""Ages and the ten-year bands reports, exports and segment previews show (never a birth date)."""
from __future__ import annotations

from datetime import date

AGE_BANDS = ((0, 19, "0-19"), (20, 29, "20代"), (30, 39, "30代"), (40, 49, "40代"), (50, 59, "50代"),
             (60, 69, "60代"), (70, 79, "70代"), (80, 200, "80歳以上"))


def age_on(birth: date | None, day: date) -> int | None:
    if birth is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def age_band(birth: date | None, day: date) -> str:
    """Ten-year bands (under 20 and 80+ grouped), the grain an export or report may show."""
    age = age_on(birth, day)
    if age is None:
        return "不明"
    for low, high, label in AGE_BANDS:
        if low <= age <= high:
            return label
    return "不明"
