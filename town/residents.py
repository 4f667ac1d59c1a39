"""Residents' lifecycle at the counter: a birth (a new resident in a household) and a change of address
or household. Segments select on district, household size and children, so these keep the household's
facts true: a birth adds one to every member's household size and one child to each parent; a move
takes one from the old household and adds one to the new."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import registry
from ledger.clock import jst_date
from ledger.db import Database
from ledger.errors import AlreadyDone, InvalidInput, NotAllowed, NotFound
from ledger.models import Resident
from town.staff_tx import staff_write

LINE_ID = re.compile(r"^U[0-9a-f]{32}$")
HOUSEHOLD = re.compile(r"^[0-9A-Za-z_-]{1,32}$")


@dataclass(frozen=True)
class BirthResult:
    resident_id: int
    district: str
    household_code: str | None
    household_size: int
    parents: list[int]
    card_only: bool
    dry_run: bool


@dataclass(frozen=True)
class MoveResult:
    resident_id: int
    before: dict[str, object]
    after: dict[str, object]
    old_household_members: int  # others whose household size went down by one
    new_household_members: int  # others whose household size went up by one
    dry_run: bool
    changed: list[str] = field(default_factory=list)


def _text(value: str | None) -> str:
    return unicodedata.normalize("NFKC", value or "").strip()


def _resident(s: Session, resident_id: int) -> Resident:
    """Locked (PostgreSQL) for the transaction: its household facts are read, then changed."""
    r = s.execute(select(Resident).where(Resident.id == resident_id).with_for_update()).scalar()
    if r is None:
        raise NotFound(f"利用者（番号 {resident_id}）が見つかりません。")
    return r


def _household_code(value: str | None) -> str | None:
    code = _text(value) or None
    if code is not None and not HOUSEHOLD.match(code):
        raise InvalidInput("世帯番号は英数字・_・- の32文字以内です（例: H001）。")
    return code


def _members(s: Session, household_code: str | None, *, but: int | None = None) -> list[Resident]:
    if household_code is None:
        return []
    q = select(Resident).where(Resident.household_code == household_code, Resident.status == "active")
    if but is not None:
        q = q.where(Resident.id != but)
    return list(s.execute(q.order_by(Resident.id).with_for_update()).scalars())  # sizes read, then changed


def record_birth(db: Database, *, now: datetime, actor: str, name: str, kana: str, birth: date,
                 parents: list[int], district: str | None = None, household_code: str | None = None,
                 line_user_id: str | None = None, dry_run: bool = False) -> BirthResult:
    """出生: the child joins the parents' household (or the district/household given), card-only unless a
    LINE user id is given. Registered at the counter (出生届), so verified."""
    name, kana = _text(name), _text(kana)
    if not name or not kana:
        raise InvalidInput("お子さんの氏名とカナを入れてください。")
    if birth > jst_date(now):
        raise InvalidInput("生年月日が未来の日付です。")
    if birth.year < jst_date(now).year - 18:
        raise InvalidInput("出生の届けは18歳未満の方だけです。それ以外の方は `machi resident add` で登録してください。")
    line_user_id = _text(line_user_id) or None
    if line_user_id is not None and not LINE_ID.match(line_user_id):
        raise InvalidInput("LINEユーザーIDは U と32桁の英数字（0-9, a-f）です。")
    household_code = _household_code(household_code)
    if not parents and not (district and _text(district)):
        raise InvalidInput("親（--parent）か地区（--district）を指定してください。")

    def work(s: Session) -> tuple[BirthResult, dict, str]:
        folks = [_resident(s, p) for p in dict.fromkeys(parents)]
        for p in folks:
            if p.status != "active":
                raise NotAllowed(f"番号 {p.id} の方は利用中ではないため、親として登録できません。")
        home = folks[0] if folks else None
        where = _text(district) or (home.district if home else "")
        household = household_code or (home.household_code if home else None)
        if home is not None and any(p.household_code != home.household_code for p in folks[1:]) and not household_code:
            raise InvalidInput("親の世帯番号が違います。どの世帯に入るかを --household で指定してください。")
        if line_user_id and s.execute(select(Resident.id).where(Resident.line_user_id == line_user_id)).first():
            raise AlreadyDone("このLINEユーザーIDの方はすでに登録されています。")
        members = _members(s, household) if household else folks  # no household number: the parents are it
        size = max([m.household_size or 0 for m in members] + [len(members)]) + 1
        for m in members:
            m.household_size = (m.household_size or len(members)) + 1
        for p in folks:
            p.children = (p.children or 0) + 1
        child = registry.create_resident(s, line_user_id=line_user_id, name=name, name_kana=kana, birth_date=birth,
                                         district=where, household_code=household, household_size=size, children=0,
                                         verification="counter", verified_at=now, registered_at=now)
        result = BirthResult(child.id, where, household, size, [p.id for p in folks], line_user_id is None, dry_run)
        params = {"resident_id": child.id, "parents": result.parents, "district": where, "household": household}
        return result, params, f"birth recorded; household size {size}"

    return staff_write(db, actor=actor, action="resident.birth", dry_run=dry_run, work=work)


def change_household(db: Database, *, actor: str, resident_id: int, district: str | None = None,
                     household_code: str | None = None, household_size: int | None = None,
                     children: int | None = None, dry_run: bool = False) -> MoveResult:
    """転居・世帯変更: a new district and/or household. Leaving a household takes one from the size its
    other members have on record; joining one adds one (unless the size is given)."""
    new_district = _text(district) or None
    new_household = _household_code(household_code)
    if household_size is not None and not 1 <= household_size <= 30:
        raise InvalidInput("世帯人数は1から30までです。")
    if children is not None and not 0 <= children <= 20:
        raise InvalidInput("子どもの数は0から20までです。")
    if new_district is None and new_household is None and household_size is None and children is None:
        raise InvalidInput("変更する項目（--district・--household・--household-size・--children）を指定してください。")

    def work(s: Session) -> tuple[MoveResult, dict, str]:
        r = _resident(s, resident_id)
        if r.status not in ("active", "suspended"):
            raise NotAllowed(f"番号 {r.id} の方は利用中ではないため、住所・世帯を変更できません。")
        before = {"district": r.district, "household_code": r.household_code, "household_size": r.household_size,
                  "children": r.children}
        after = dict(before)
        if new_district is not None:
            after["district"] = new_district
        if new_household is not None:
            after["household_code"] = new_household
        if children is not None:
            after["children"] = children
        left = joined = 0
        if after["household_code"] != before["household_code"]:
            old = _members(s, r.household_code, but=r.id)
            new = _members(s, after["household_code"], but=r.id)
            for m in old:
                m.household_size = max(1, (m.household_size or len(old) + 1) - 1)
            for m in new:
                m.household_size = (m.household_size or len(new)) + 1
            left, joined = len(old), len(new)
            after["household_size"] = max([m.household_size or 0 for m in new] + [len(new) + 1])
        if household_size is not None:
            after["household_size"] = household_size
        changed = [k for k in after if after[k] != before[k]]
        if not changed:
            raise AlreadyDone(f"番号 {r.id} の方の住所・世帯はすでにその内容です。")
        r.district, r.household_code = str(after["district"]), after["household_code"]
        r.household_size, r.children = after["household_size"], int(after["children"] or 0)
        result = MoveResult(r.id, before, after, left, joined, dry_run, changed)
        params = {"resident_id": r.id, "changed": changed, "district": after["district"],
                  "household": after["household_code"]}
        return result, params, "address/household changed"

    return staff_write(db, actor=actor, action="resident.move", dry_run=dry_run, work=work)
