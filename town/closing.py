"""Ending an offer, an event or a grant programme early: its end moves to now. The ledger's services
already refuse anything after the end (a sale, a check-in, a claim) with their Japanese message, and
nothing already received is touched — no entry is written or reversed."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.clock import fmt_jst
from ledger.db import Database
from ledger.errors import AlreadyDone, InvalidInput, NotFound
from ledger.models import Entry, Event, GrantProgram, SaleOffer
from town.staff_tx import staff_write

KINDS = {"offer": (SaleOffer, "商品券", "販売"), "event": (Event, "イベント", "受付"),
         "grant": (GrantProgram, "給付事業", "受付")}


@dataclass(frozen=True)
class Closed:
    kind: str
    code: str
    name: str
    ends_before: datetime | None
    ends_now: datetime
    received: int  # entries already made under it, left as they are
    received_amount: int
    dry_run: bool


def _ref(kind: str, row: object) -> str:
    if kind == "offer":
        return f"sale:{row.code}"
    if kind == "event":
        return f"event:{row.id}"
    return f"grant:{row.code}"


def close_early(db: Database, *, kind: str, code: str, now: datetime, actor: str, reason: str = "",
                dry_run: bool = False) -> Closed:
    if kind not in KINDS:
        raise InvalidInput(f"終了できるのは {', '.join(KINDS)} です。")
    model, what, verb = KINDS[kind]
    code = (code or "").strip().upper()

    def work(s: Session) -> tuple[Closed, dict, str]:
        row = s.execute(select(model).where(func.upper(model.code) == code).with_for_update()).scalar()
        if row is None:
            raise NotFound(f"{what}「{code}」はありません。")
        if row.ends_at is not None and row.ends_at <= now:
            raise AlreadyDone(f"「{row.name}」の{verb}はすでに終了しています（{fmt_jst(row.ends_at)}）。")
        before = row.ends_at
        row.ends_at = now
        if row.starts_at is not None and row.starts_at > now:
            row.starts_at = now  # never began: an empty period
        n, total = s.execute(select(func.count(), func.coalesce(func.sum(Entry.amount), 0))
                             .where(Entry.ref == _ref(kind, row))).one()
        result = Closed(kind, row.code, row.name, before, now, int(n), int(total), dry_run)
        params = {"kind": kind, "code": row.code, "ends_before": before, "ends_now": now, "reason": reason[:200]}
        return result, params, f"closed early; {n} received before"

    return staff_write(db, actor=actor, action=f"{kind}.close", dry_run=dry_run, work=work)
