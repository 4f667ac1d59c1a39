"""Relink after a lost phone: a resident's wallet moves to a new LINE account without losing a yen.

Only the resident's `line_user_id` changes; no journal entry is written or rewritten, so balances,
history and the hash chain stay as they were. The move is written to the audit log in the same
transaction (the only place the old and new LINE ids are kept). The old account becomes a guest at
once: the bot and the LIFF API look residents up by LINE id on every request. Clearing the old
account's conversation and switching both rich menus is the faces' part (see `after_relink`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ledger.db import Database
from ledger.errors import AlreadyDone, InvalidInput, NotAllowed, NotFound
from ledger.models import AuditLog, Resident

LINE_ID = re.compile(r"^U[0-9a-f]{32}$")
ACTION = "resident.relink"


@dataclass(frozen=True)
class Relinked:
    resident_id: int
    name: str
    old_line_user_id: str | None
    new_line_user_id: str


def check(s: Session, resident: Resident, new_line_user_id: str) -> str:
    """The new LINE id, checked: well formed, not the same, not anybody's; the resident active."""
    new = (new_line_user_id or "").strip()
    if not LINE_ID.match(new):
        raise InvalidInput("LINEユーザーIDは U と32桁の英数字（0-9, a-f）です。")
    if resident.status != "active":
        raise NotAllowed(f"番号 {resident.id} の方は利用中ではないため、引き継ぎできません。")
    if resident.line_user_id == new:
        raise AlreadyDone(f"番号 {resident.id} の方は、すでにこのLINEアカウントで利用しています。")
    if s.execute(select(Resident.id).where(Resident.line_user_id == new)).first() is not None:
        raise AlreadyDone("このLINEアカウントは、すでに別の利用者の登録で使われています。")
    return new


def relink(db: Database, resident_id: int, new_line_user_id: str, *, actor: str, via: str,
           dry_run: bool = False) -> Relinked:
    """Move the wallet of `resident_id` to `new_line_user_id` and record who did it (one transaction)."""
    try:
        with db.write() as s:
            resident = s.execute(select(Resident).where(Resident.id == resident_id).with_for_update()).scalar()
            if resident is None:
                raise NotFound("利用者が見つかりません。")
            new = check(s, resident, new_line_user_id)
            done = Relinked(resident.id, resident.name, resident.line_user_id, new)
            if dry_run:
                return done
            resident.line_user_id, resident.reachable = new, True
            s.add(AuditLog(actor=actor[:64], action=ACTION, result="relinked",
                           params={"resident_id": resident.id, "via": via,
                                   "old_line_user_id": done.old_line_user_id, "new_line_user_id": new}))
    except IntegrityError:  # the same new account registered or relinked at the same moment
        raise AlreadyDone("このLINEアカウントは、すでに別の利用者の登録で使われています。") from None
    return done
