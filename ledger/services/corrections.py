"""Corrections: a mistake is put right by a new entry against the correction account, with a reason."""
from __future__ import annotations

from dataclasses import dataclass

from ledger.errors import InsufficientFunds, InvalidInput
from ledger.journal import (
    Leg,
    add_entry,
    add_postings,
    credit_lot,
    draw_lots,
    find_replay,
    internal_account,
    open_lots,
)
from ledger.services._common import expiry_for, money_type_row
from ledger.services.transfers import _wallet
from ledger.uow import Tx, UnitOfWork, request_fingerprint


@dataclass(frozen=True)
class CorrectionResult:
    entry_id: int
    amount: int
    replayed: bool = False


def correct(uow: UnitOfWork, *, wallet: str, money_type: str, amount: int, reason: str, actor: str,
            idempotency_key: str) -> CorrectionResult:
    """Positive `amount` credits the wallet, negative takes it back (soonest-expiring lots first)."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0:
        raise InvalidInput("訂正額は0以外の整数で指定してください。")
    if not reason.strip():
        raise InvalidInput("訂正には理由が必要です。")
    fp = request_fingerprint({"op": "correct", "w": wallet, "mt": money_type, "a": amount})

    def work(tx: Tx) -> CorrectionResult:
        replay = find_replay(tx, idempotency_key, fp)
        if replay is not None:
            return CorrectionResult(replay, amount, replayed=True)
        acc, _ = _wallet(tx, wallet)
        mt = money_type_row(tx, money_type)
        tx.lock_accounts([acc])
        corr = internal_account(tx, "correction", mt.id)
        entry_id = add_entry(tx, "correction", key=idempotency_key, fingerprint=fp, amount=abs(amount),
                             actor=actor, memo=reason[:400], meta={"wallet": wallet})
        if amount > 0:
            lot_id = credit_lot(tx, acc, mt.id, amount, entry_id, expires_at=expiry_for(mt, tx.now),
                                accepted_category=mt.accepted_category)
            legs = [Leg(corr, mt.id, -amount), Leg(acc, mt.id, amount, lot_id)]
        else:
            lots = open_lots(tx, acc, money_type_id=mt.id)
            if sum(r.remaining for r in lots) < -amount:
                raise InsufficientFunds("訂正で差し引く額が残高を超えています。")
            legs = [Leg(acc, mt.id, -d.amount, d.lot_id) for d in draw_lots(tx, lots, -amount)]
            legs.append(Leg(corr, mt.id, -amount))
        add_postings(tx, entry_id, legs)
        return CorrectionResult(entry_id, amount)

    return uow.run(work)
