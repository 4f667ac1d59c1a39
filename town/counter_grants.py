"""給付 at the counter: one resident credited one grant by a staff member — someone a push-type run
missed, or a claim-type grant for a resident without LINE (card-only) who cannot tap 受け取る.

The ledger's `grants.award` keeps every rule (eligibility, period, budget, once per resident, wallet
active and under its limit) inside its transaction; this adds the staff member's audit record to the
same transaction, and a dry run runs it all and rolls back.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from ledger.errors import AccountInactive, NotFound
from ledger.models import GrantProgram, MoneyType, Resident
from ledger.services import grants
from ledger.uow import UnitOfWork
from town.staff_tx import staff_uow

STATUS_JA = {"suspended": "利用停止", "moved_out": "転出", "deceased": "死亡", "withdrawn": "退会"}


@dataclass(frozen=True)
class CounterGrant:
    program: str
    name: str
    mode: str
    resident_id: int
    amount: int
    money_type: str
    expires_on: date | None
    entry_id: int
    card_only: bool
    dry_run: bool


def credit(uow: UnitOfWork, *, program_code: str, resident_id: int, actor: str, dry_run: bool = False) -> CounterGrant:
    code = (program_code or "").strip().upper()
    with uow.db.session() as s:
        prog = s.execute(select(GrantProgram).where(GrantProgram.code == code)).scalar()
        if prog is None:
            raise NotFound(f"給付事業「{program_code}」はありません。`machi grant list` で確かめてください。")
        person = s.get(Resident, resident_id)
        if person is None:
            raise NotFound(f"利用者（番号 {resident_id}）が見つかりません。")
        if person.status != "active":  # the segment would only say "not eligible"; staff need to know why
            raise AccountInactive(f"番号 {resident_id} の方のお財布は利用中ではない（{STATUS_JA.get(person.status, person.status)}）"
                                  "ため、入金できません。")
        name, mode = prog.name, prog.mode
        mt_code = s.get(MoneyType, prog.money_type_id).code
        card_only = person.line_user_id is None
    params = {"program": code, "resident_id": resident_id, "channel": "counter"}
    audited = staff_uow(uow, actor=actor, action="grant.counter", params=params,
                        outcome=lambda r: f"credited {r.amount} entry {r.entry_id}", dry_run=dry_run)
    res = grants.award(audited, program_code=code, resident_id=resident_id, actor=actor)
    return CounterGrant(code, name, mode, resident_id, res.amount, mt_code, res.expires_on, res.entry_id, card_only,
                        dry_run)
