"""窓口での住民登録: the checks a counter registration makes before a wallet is opened.

A resident who already registered in LINE and is registered again at the counter would hold two wallets,
and a push-type grant would pay them twice. So a registration whose name or kana and birth date match
someone already registered is refused, naming who, unless staff confirm it is a different person.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from ledger import registry
from ledger.db import Database
from ledger.errors import AlreadyDone, InvalidInput, NotAllowed
from ledger.models import Resident


@dataclass(frozen=True)
class CounterRegistration:
    name: str
    kana: str        # already read as katakana by the face (flows.normalize.parse_kana)
    birth: date
    district: str
    household_size: int | None = None
    children: int = 0
    line_user_id: str | None = None


def _plain(text: str | None) -> str:
    """Names compared without spaces or width differences: '山田　太郎' is '山田太郎'."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))


def likely_duplicates(db: Database, name: str, kana: str, birth: date) -> list[Resident]:
    """Residents (of any status) born that day whose name or kana is the same."""
    with db.session() as s:
        born = s.execute(select(Resident).where(Resident.birth_date == birth)).scalars().all()
    return [r for r in born if _plain(r.name) == _plain(name) or (kana and _plain(r.name_kana) == _plain(kana))]


def check(db: Database, reg: CounterRegistration, *, today: date, districts: list[str],
          not_duplicate: bool = False) -> None:
    """Every refusal of a counter registration, before anything is written (the dry run asks this too)."""
    if not reg.name.strip() or not reg.kana.strip() or not reg.district.strip():
        raise InvalidInput("氏名・カナ・地区を入れてください。")
    if reg.birth > today or reg.birth.year < 1900:
        raise InvalidInput("生年月日が正しくありません。")
    if districts and reg.district.strip() not in districts:
        raise InvalidInput(f"地区「{reg.district}」はありません。次のどれかで指定してください: {'、'.join(districts)}")
    if reg.line_user_id:
        with db.session() as s:
            if s.execute(select(Resident.id).where(Resident.line_user_id == reg.line_user_id)).first():
                raise AlreadyDone("このLINEユーザーIDの方はすでに登録されています（`machi resident show` で確かめてください）。")
    if not not_duplicate:
        same = likely_duplicates(db, reg.name, reg.kana, reg.birth)
        if same:
            who = "、".join(f"番号 {r.id}（{'LINE登録' if r.line_user_id else '窓口登録'}・{r.district or '地区なし'}）"
                           for r in same)
            raise NotAllowed(f"同じ氏名（またはカナ）と生年月日の方がすでに登録されています: {who}。"
                             "二重に登録すると給付金が二重に支払われます。`machi resident show` で確かめ、"
                             "別の方であれば --not-duplicate を付けて登録してください。")


def register(db: Database, reg: CounterRegistration, *, now: datetime, today: date, districts: list[str],
             not_duplicate: bool = False) -> int:
    """Open the wallet of a resident registered (and so verified) at the counter; returns their number."""
    check(db, reg, today=today, districts=districts, not_duplicate=not_duplicate)
    with db.write() as s:
        r = registry.create_resident(s, line_user_id=reg.line_user_id, name=reg.name.strip(), name_kana=reg.kana,
                                     birth_date=reg.birth, district=reg.district.strip(),
                                     household_size=reg.household_size, children=reg.children,
                                     verification="counter", verified_at=now, registered_at=now,
                                     terms_consented_at=now, privacy_consented_at=now)
        return r.id
