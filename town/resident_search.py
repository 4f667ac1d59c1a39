"""Finding a resident at the counter: by name, by reading (kana) or by birth date.

Readings are stored in full-width katakana; what staff type in hiragana, half-width or full-width
katakana is brought to that form with jaconv, and spaces may be left out or put anywhere.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

import jaconv
from sqlalchemy import Connection, and_, select

from ledger.errors import InvalidInput
from ledger.models import Resident

LIMIT = 50
_DATE = re.compile(r"^(\d{4})[-/年.](\d{1,2})[-/月.](\d{1,2})日?$")
_KANA = re.compile(r"^[\u30a0-\u30ff]+$")


@dataclass(frozen=True)
class Hit:
    id: int
    name: str
    name_kana: str
    birth_date: date | None
    district: str
    status: str
    verification: str


def to_katakana(text: str) -> str:
    """Hiragana, half-width or full-width katakana → full-width katakana, without spaces."""
    text = jaconv.h2z(text, kana=True, ascii=False, digit=False)
    return jaconv.hira2kata("".join(text.split()))


def parse_birth(text: str) -> date:
    """1938-03-03, 1938/3/3 or 1938年3月3日 (digits of any width)."""
    m = _DATE.match(unicodedata.normalize("NFKC", text).strip().replace(" ", ""))
    try:
        if m is None:
            raise ValueError
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise InvalidInput("生年月日は 1938-03-03 のように入れてください。", field="birth") from None


def _pattern(text: str) -> str:
    """Every character in order with anything (a space) between: 'サトウハナコ' finds 'サトウ ハナコ'."""
    escaped = [c for c in text if c not in "%_\\"]
    return "%" + "%".join(escaped) + "%"


def search(conn: Connection, name: str = "", kana: str = "", birth: str = "") -> list[Hit]:
    """Residents matching every field given (at least one); at most LIMIT, by reading."""
    name, kana, birth = name.strip(), kana.strip(), birth.strip()
    if not (name or kana or birth):
        raise InvalidInput("氏名・ふりがな・生年月日のどれかを入れてください。", field="name")
    where = []
    if name:
        where.append(Resident.name.like(_pattern("".join(unicodedata.normalize("NFKC", name).split()))))
    if kana:
        reading = to_katakana(kana)
        if not _KANA.match(reading):
            raise InvalidInput("ふりがなは、ひらがなかカタカナで入れてください。", field="kana")
        where.append(Resident.name_kana.like(_pattern(reading)))
    if birth:
        where.append(Resident.birth_date == parse_birth(birth))
    rows = conn.execute(select(Resident.id, Resident.name, Resident.name_kana, Resident.birth_date,
                               Resident.district, Resident.status, Resident.verification)
                        .where(and_(*where)).order_by(Resident.name_kana, Resident.id).limit(LIMIT)).all()
    return [Hit(*r) for r in rows]


