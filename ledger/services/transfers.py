"""Moving money between wallets: resident → resident (where the money type allows), shop → shop,
and exchanging points into certificates."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.clock import utcnow
from ledger.errors import InsufficientFunds, InvalidInput, NotAllowed, NotFound
from ledger.events import PointsExchanged, TransferCompleted
from ledger.exchange_rules import rule_at
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
from ledger.models import ExchangeRule, Merchant, MoneyType
from ledger.services._common import (
    check_amount,
    check_balance_limit,
    money_type_row,
    new_money_expiry,
    resident_row,
)
from ledger.uow import Tx, UnitOfWork, request_fingerprint


@dataclass(frozen=True)
class TransferResult:
    entry_id: int
    amount: int
    money_type: str
    replayed: bool = False


def _wallet(tx: Tx, code: str) -> tuple[int, str]:
    """A wallet by code: `resident:<id>` or `merchant:<code>`."""
    kind, _, ident = code.partition(":")
    if kind == "resident" and ident.isdigit():
        row = resident_row(tx, int(ident))
        return row.account_id, "resident"
    if kind == "merchant":
        acc = tx.conn.execute(select(Merchant.account_id).where(Merchant.code == ident, Merchant.active.is_(True))
                              ).scalar()
        if acc is not None:
            return acc, "merchant"
    raise NotFound(f"お財布「{code}」が見つかりません。", message_en=f"Wallet {code!r} not found.")


def transfer(uow: UnitOfWork, *, from_wallet: str, to_wallet: str, money_type: str, amount: int,
             idempotency_key: str, actor: str = "") -> TransferResult:
    """Money keeps its expiry when it changes hands, so a transfer never extends validity."""
    check_amount(amount)
    fp = request_fingerprint({"op": "transfer", "f": from_wallet, "t": to_wallet, "mt": money_type, "a": amount})

    def work(tx: Tx) -> TransferResult:
        replay = find_replay(tx, idempotency_key, fp)
        if replay is not None:
            return TransferResult(replay, amount, money_type, replayed=True)
        src, src_kind = _wallet(tx, from_wallet)
        dst, dst_kind = _wallet(tx, to_wallet)
        if src == dst:
            raise InvalidInput("同じお財布には送れません。", message_en="Cannot send to the same wallet.")
        mt = money_type_row(tx, money_type)
        if src_kind != dst_kind:
            raise NotAllowed("利用者とお店の間では送金できません。", message_en="Residents and shops cannot transfer to each other.")
        if src_kind == "resident" and not mt.transferable:
            raise NotAllowed(f"「{mt.name}」は他の方に譲れません。", message_en=f"{mt.name_en or mt.name} is not transferable.")
        tx.lock_accounts([src, dst])
        if dst_kind == "resident":
            check_balance_limit(tx, dst, amount)
        lots = open_lots(tx, src, money_type_id=mt.id)
        if sum(r.remaining for r in lots) < amount:
            raise InsufficientFunds(f"「{mt.name}」の残高が足りません。", message_en="Not enough balance.")
        entry_id = add_entry(tx, "transfer", key=idempotency_key, fingerprint=fp, amount=amount, actor=actor,
                             meta={"from": from_wallet, "to": to_wallet})
        legs: list[Leg] = []
        for d in draw_lots(tx, sorted(lots, key=lambda r: (r.expires_at is None, r.expires_at, r.id)), amount):
            lot_id = credit_lot(tx, dst, mt.id, d.amount, entry_id, expires_at=d.expires_at,
                                accepted_category=mt.accepted_category if dst_kind == "resident" else None)
            legs += [Leg(src, mt.id, -d.amount, d.lot_id), Leg(dst, mt.id, d.amount, lot_id)]
        add_postings(tx, entry_id, legs)
        tx.events.append(TransferCompleted(entry_id, from_wallet, to_wallet, mt.code, amount))
        return TransferResult(entry_id, amount, mt.code)

    return uow.run(work)


@dataclass(frozen=True)
class ExchangeResult:
    entry_id: int
    spent: int
    received: int
    from_type: str
    to_type: str
    replayed: bool = False


def exchange_quote(session: Session, from_type: str, to_type: str, amount: int,
                   at: datetime | None = None) -> tuple[ExchangeRule, int]:
    """What `amount` of one type becomes by the rule in effect `at` (now); refuses amounts that are not
    whole units."""
    ids = dict(session.execute(select(MoneyType.code, MoneyType.id)
                               .where(MoneyType.code.in_([from_type, to_type]))).all())
    rule = None
    if from_type in ids and to_type in ids:
        rule = rule_at(session, ids[from_type], ids[to_type], at or utcnow())
    if rule is None:
        raise NotFound("この交換はできません。", message_en="This exchange is not offered.")
    if amount % rule.from_units:
        raise InvalidInput(f"{rule.from_units:,}ポイント単位で交換できます。",
                           message_en=f"Exchange in units of {rule.from_units:,}.")
    return rule, amount // rule.from_units * rule.to_units


def exchange(uow: UnitOfWork, *, resident_id: int, from_type: str, to_type: str, amount: int,
             idempotency_key: str) -> ExchangeResult:
    check_amount(amount)
    fp = request_fingerprint({"op": "exchange", "r": resident_id, "f": from_type, "t": to_type, "a": amount})

    def work(tx: Tx) -> ExchangeResult:
        replay = find_replay(tx, idempotency_key, fp)
        rule, received = exchange_quote(tx.session, from_type, to_type, amount, tx.now)
        if replay is not None:
            return ExchangeResult(replay, amount, received, from_type, to_type, replayed=True)
        payer = resident_row(tx, resident_id)
        src_mt, dst_mt = money_type_row(tx, from_type), money_type_row(tx, to_type)
        tx.lock_accounts([payer.account_id])
        lots = open_lots(tx, payer.account_id, money_type_id=src_mt.id)
        if sum(r.remaining for r in lots) < amount:
            have = sum(r.remaining for r in lots)
            raise InsufficientFunds(f"ポイントが足りません（お持ちのポイント {have:,}）。",
                                    message_en=f"Not enough points (you have {have:,}).")
        check_balance_limit(tx, payer.account_id, received - amount)
        entry_id = add_entry(tx, "exchange", key=idempotency_key, fingerprint=fp, amount=received,
                             resident_id=resident_id, actor=f"resident:{resident_id}",
                             meta={"spent": amount, "from": from_type, "to": to_type})
        legs = [Leg(payer.account_id, src_mt.id, -d.amount, d.lot_id) for d in draw_lots(tx, lots, amount)]
        legs.append(Leg(internal_account(tx, "issuer", src_mt.id), src_mt.id, amount))
        lot_id = credit_lot(tx, payer.account_id, dst_mt.id, received, entry_id,
                            expires_at=new_money_expiry(dst_mt, tx.now), accepted_category=dst_mt.accepted_category)
        legs += [Leg(internal_account(tx, "issuer", dst_mt.id), dst_mt.id, -received),
                 Leg(payer.account_id, dst_mt.id, received, lot_id)]
        add_postings(tx, entry_id, legs)
        tx.events.append(PointsExchanged(entry_id, resident_id, from_type, to_type, amount, received))
        return ExchangeResult(entry_id, amount, received, from_type, to_type)

    return uow.run(work)


