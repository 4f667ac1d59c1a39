"""Japanese eras (和暦): many residents know their birth date as 昭和40年5月3日, not 1965.

Each era runs from its first day to its last; a date outside its era (昭和64年2月1日, 平成31年5月1日)
or a year past the era's end (昭和65年) does not exist and is refused with the reason.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flows.errors import InputError


@dataclass(frozen=True)
class Era:
    name: str
    name_en: str
    letter: str
    first_day: date
    last_day: date | None

    @property
    def first_year(self) -> int:
        return self.first_day.year

    @property
    def last_era_year(self) -> int | None:
        return None if self.last_day is None else self.last_day.year - self.first_year + 1


# Meiji is treated as starting on 1 January 1868 (year 1); nobody's birthday needs more precision.
ERAS: tuple[Era, ...] = (
    Era("明治", "Meiji", "M", date(1868, 1, 1), date(1912, 7, 29)),
    Era("大正", "Taisho", "T", date(1912, 7, 30), date(1926, 12, 24)),
    Era("昭和", "Showa", "S", date(1926, 12, 25), date(1989, 1, 7)),
    Era("平成", "Heisei", "H", date(1989, 1, 8), date(2019, 4, 30)),
    Era("令和", "Reiwa", "R", date(2019, 5, 1), None),
)

_BY_KEY: dict[str, Era] = {}
for _era in ERAS:
    _BY_KEY[_era.name] = _era
    _BY_KEY[_era.name[0]] = _era
    _BY_KEY[_era.letter] = _era
    _BY_KEY[_era.letter.lower()] = _era

#: Regex alternation for an era written as 昭和, 昭 or S/s (longest first).
ERA_PATTERN = "|".join(sorted(_BY_KEY, key=len, reverse=True))


def era_by_key(key: str) -> Era:
    return _BY_KEY[key]


def era_of(day: date) -> Era:
    for era in reversed(ERAS):
        if day >= era.first_day:
            return era
    raise ValueError(f"{day} is before Meiji")


def western_year(era: Era, era_year: int) -> int:
    """昭和40 → 1965, refusing years the era never had (昭和65, 平成32, 昭和0)."""
    last = era.last_era_year
    if era_year < 1 or (last is not None and era_year > last):
        upto = f"{last}年" if last else ""
        raise InputError(f"{era.name}{era_year}年はありません（{era.name}は{upto}までです）。",
                         f"{era.name_en} {era_year} does not exist ({era.name_en} ends in year {last}).")
    return era.first_year + era_year - 1


def to_wareki(day: date) -> str:
    """1965-05-03 → '昭和40年', 1989-01-08 → '平成元年'."""
    era = era_of(day)
    year = day.year - era.first_year + 1
    return f"{era.name}{'元' if year == 1 else year}年"
