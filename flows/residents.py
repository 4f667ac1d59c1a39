"""Who is talking: the resident behind a LINE user id, as the resident actions need it.

Actions receive the app's services (`ctx.services.db`, `.uow`, ...) and the LINE user id
(`ctx.user_id`); these helpers turn that into the resident's row, and answer a person who has
not registered yet with one button that starts registration.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, select

from flows.context import ActionContext, ActionResult
from flows.inputs import postback_data
from flows.messages import QuickReply, Text
from flows.present import say
from ledger.db import Database
from ledger.models import Resident


@dataclass(frozen=True)
class Me:
    id: int
    account_id: int
    name: str
    name_kana: str
    birth_date: date | None
    district: str
    phone: str | None
    language: str
    status: str
    verification: str
    registered_at: datetime | None

    @property
    def verified(self) -> bool:
        return self.verification != "unverified"


_COLUMNS = (Resident.id, Resident.account_id, Resident.name, Resident.name_kana, Resident.birth_date,
            Resident.district, Resident.phone, Resident.language, Resident.status, Resident.verification,
            Resident.registered_at)
# Built once: every conversation turn looks the resident up two or three times.
_BY_LINE_ID = select(*_COLUMNS).where(Resident.line_user_id == bindparam("line_user_id"))


def lookup(db: Database, line_user_id: str) -> Me | None:
    """The resident with this LINE user id, whatever their status."""
    with db.engine.connect() as conn:
        row = conn.execute(_BY_LINE_ID, {"line_user_id": line_user_id}).first()
    return Me(*row) if row is not None else None


def db_of(ctx: ActionContext) -> Database:
    return ctx.services.db


def uow_of(ctx: ActionContext) -> Any:
    return ctx.services.uow


def current(ctx: ActionContext) -> Me | None:
    """The registered, active resident talking, or None."""
    me = lookup(db_of(ctx), ctx.user_id)
    return me if me is not None and me.status == "active" else None


def register_button(lang: str) -> QuickReply:
    return QuickReply.postback(say(lang, "登録する", "Sign up"), postback_data(flow="register"))


def not_registered(ctx: ActionContext) -> ActionResult:
    """For a guest who asked for something only residents have: say so, offer registration."""
    text = say(ctx.lang, "この機能は、まちウォレットに登録した方がご利用になれます。下の「登録する」から登録できます。",
               "This is for registered residents. Tap “Sign up” below to register.")
    return ActionResult(messages=[Text(text, [register_button(ctx.lang)])], end=True)


def districts() -> list[str]:
    """The town's districts: the choices residents pick from when they register in LINE (register.yaml),
    so the counter and the chat accept the same list."""
    from flows.loader import DEFINITIONS, load_flow_file  # noqa: PLC0415 - read once per staff command

    ask = load_flow_file(DEFINITIONS / "register.yaml").ask_for("district")
    return [str(c.value) for c in ask.choices] if ask is not None else []
