"""Money coming into residents' wallets: grants, points, coupons, event check-ins, certificate sales."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from ledger.clock import last_valid_day
from ledger.events import MoneyIssued
from ledger.journal import Leg, add_entry, add_postings, credit_lot, find_replay, internal_account
from ledger.models import Entry, Lot, MoneyType
from ledger.services._common import (
    check_amount,
    check_balance_limit,
    money_type_row,
    new_money_expiry,
    resident_row,
)
from ledger.uow import Tx, UnitOfWork, request_fingerprint


@dataclass(frozen=True)
class IssueResult:
    entry_id: int
    resident_id: int
    amount: int
    money_type: str
    expires_on: date | None
    replayed: bool = False


def _credit_from_issuer(tx: Tx, *, kind: str, resident_id: int, mt: MoneyType, amount: int, key: str | None,
                        fp: str, ref: str | None, actor: str, memo: str = "", meta: dict | None = None,
                        check_limit: bool = True, issuer: int | None = None) -> IssueResult:
    payer = resident_row(tx, resident_id)
    if check_limit:
        check_balance_limit(tx, payer.account_id, amount)
    issuer = issuer or internal_account(tx, "issuer", mt.id)
    expires_at = new_money_expiry(mt, tx.now)
    entry_id = add_entry(tx, kind, key=key, fingerprint=fp, amount=amount, resident_id=resident_id,
                         ref=ref, actor=actor, memo=memo, meta=meta)
    lot_id = credit_lot(tx, payer.account_id, mt.id, amount, entry_id, expires_at=expires_at,
                        accepted_category=mt.accepted_category)
    add_postings(tx, entry_id, [Leg(issuer, mt.id, -amount), Leg(payer.account_id, mt.id, amount, lot_id)])
    expires_on = last_valid_day(expires_at) if expires_at else None
    return IssueResult(entry_id, resident_id, amount, mt.code, expires_on)


def _replayed(tx: Tx, entry_id: int) -> IssueResult:
    """The first result of a retried request, read back from its entry."""
    e = tx.session.execute(select(Entry).where(Entry.id == entry_id)).scalar_one()
    row = tx.conn.execute(
        select(MoneyType.code, Lot.expires_at).join(Lot, Lot.money_type_id == MoneyType.id)
        .where(Lot.entry_id == entry_id).limit(1)
    ).first()
    code, expires = (row.code, row.expires_at) if row else ("", None)
    return IssueResult(e.id, e.resident_id or 0, e.amount, code, last_valid_day(expires) if expires else None,
                       replayed=True)


def issue(uow: UnitOfWork, *, resident_id: int, money_type: str, amount: int, idempotency_key: str,
          reason: str = "issue", ref: str | None = None, actor: str = "system", memo: str = "") -> IssueResult:
    """Credit points, a coupon or a one-off grant from the money type's issuer account."""
    check_amount(amount)
    fp = request_fingerprint({"op": "issue", "r": resident_id, "mt": money_type, "a": amount, "ref": ref})

    def work(tx: Tx) -> IssueResult:
        replay = find_replay(tx, idempotency_key, fp)
        if replay is not None:
            return _replayed(tx, replay)
        mt = money_type_row(tx, money_type)
        res = _credit_from_issuer(tx, kind="issue", resident_id=resident_id, mt=mt, amount=amount,
                                  key=idempotency_key, fp=fp, ref=ref, actor=actor, memo=memo)
        tx.events.append(MoneyIssued(res.entry_id, resident_id, mt.code, amount, reason, ref, res.expires_on))
        return res

    return uow.run(work)
