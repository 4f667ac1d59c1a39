"""The town office's counter, for the staff persona of the simulator.

On a real channel the town's staff work from the `machi` command; the simulator gives its staff
persona the three counter jobs a demo needs on one screen: confirm a resident's identity, take a
birth notice (子どもの数 +1, which puts the family in the childbirth grant's segment) and credit
a push-type grant to one resident now. Money moves only through `ledger.services.grants.award`,
so the resident gets the same LINE notice a `machi grant run` would send.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from ledger.clock import utcnow
from ledger.errors import LedgerError
from ledger.models import GrantProgram, Resident
from ledger.services import grants

ACTOR = "simulator:office"
MAX_LISTED = 50
MAX_CHILDREN = 20
ACTIONS = ("verify", "birth", "grant")


class OfficeError(ValueError):
    """A counter job that cannot be done; the message is for the person at the screen."""


@dataclass(frozen=True)
class OfficeResult:
    message: str
    resident: dict[str, Any]


def _row(r: Resident) -> dict[str, Any]:
    return {"id": r.id, "name": r.name, "line_user_id": r.line_user_id, "verification": r.verification,
            "children": r.children, "district": r.district, "status": r.status}


def overview(db: Any, first_ids: list[str]) -> dict[str, Any]:
    """Residents on LINE (the demo personas first, newest registrations next) and the push grants."""
    with db.session() as s:
        known = list(s.execute(select(Resident).where(Resident.line_user_id.in_(first_ids))).scalars())
        known.sort(key=lambda r: first_ids.index(r.line_user_id))
        recent = s.execute(select(Resident).where(Resident.line_user_id.is_not(None), Resident.status == "active")
                           .order_by(Resident.id.desc()).limit(MAX_LISTED)).scalars()
        seen = {r.id for r in known}
        rows = [_row(r) for r in known if r.status == "active"]
        rows += [_row(r) for r in recent if r.id not in seen]
        programs = [{"code": p.code, "name": p.name, "amount": p.amount} for p in s.execute(
            select(GrantProgram).where(GrantProgram.mode == "push", GrantProgram.active.is_(True))
            .order_by(GrantProgram.id)).scalars()]
    return {"residents": rows[:MAX_LISTED], "programs": programs}


def act(machi: Any, action: str, resident_id: Any, program: str = "") -> OfficeResult:
    """Do one counter job for one resident; every refusal is an `OfficeError` in Japanese."""
    if action not in ACTIONS:
        raise OfficeError("できる手続きは 本人確認・出生届・給付金の入金 です。")
    try:
        rid = int(resident_id)
    except (TypeError, ValueError) as exc:
        raise OfficeError("住民を選んでください。") from exc
    if action == "grant":
        return _grant(machi, rid, program)
    with machi.db.write() as s:
        r = s.get(Resident, rid)
        if r is None or r.status != "active":
            raise OfficeError("この住民は見つからないか、利用を止めています。")
        if action == "verify":
            if r.verification != "unverified":
                raise OfficeError(f"{r.name}さんは本人確認済みです。")
            r.verification, r.verified_at = "counter", utcnow()
            message = f"{r.name}さんを本人確認済み（窓口）にしました。"
        else:
            if r.children >= MAX_CHILDREN:
                raise OfficeError("子どもの数が多すぎます。")
            r.children += 1
            message = f"{r.name}さんの出生届を受け付けました（子ども {r.children} 人）。"
        return OfficeResult(message, _row(r))


def _grant(machi: Any, rid: int, program: str) -> OfficeResult:
    try:
        res = grants.award(machi.uow, program_code=str(program), resident_id=rid, actor=ACTOR)
    except LedgerError as exc:
        raise OfficeError(exc.message) from exc
    with machi.db.session() as s:
        r = s.get(Resident, rid)
        name = s.execute(select(GrantProgram.name).where(GrantProgram.code == str(program))).scalar_one()
        return OfficeResult(f"{r.name}さんに「{name}」{res.amount:,}円を入金しました。", _row(r))
