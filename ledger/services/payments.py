"""One payment service for all three ways to pay (customer QR, shop QR, card), and refunds."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from ledger.categories import label
from ledger.clock import end_of_jst_day, jst_date
from ledger.errors import (
    AlreadyDone,
    InsufficientFunds,
    NotFound,
    OverPaymentLimit,
    RefundNotAllowed,
    TokenUsed,
)
from ledger.events import PaymentCompleted, PaymentRefunded
from ledger.journal import Leg, add_entry, add_postings, credit_lot, draw_lots, find_replay, open_lots
from ledger.models import Entry, Lot, Merchant, MoneyType, Nonce, Posting
from ledger.services._common import check_amount, merchant_row, money_type_codes, resident_row
from ledger.uow import Tx, UnitOfWork, request_fingerprint

CHANNELS = ("cpm", "mpm", "card")


@dataclass(frozen=True)
class PaymentResult:
    entry_id: int
    resident_id: int
    merchant_id: int
    merchant_name: str
    amount: int
    channel: str
    created_at: datetime
    breakdown: dict[str, int] = field(default_factory=dict)  # money type code -> yen
    replayed: bool = False
    kind: str = "payment"


def pay(uow: UnitOfWork, *, resident_id: int, amount: int, idempotency_key: str,
        merchant_id: int | None = None, merchant_code: str | None = None, channel: str = "cpm",
        actor: str = "", nonce: str | None = None) -> PaymentResult:
    """Draw the resident's lots this shop accepts (専用券 first, then soonest expiry) into the shop."""
    check_amount(amount)
    if amount > uow.policy.max_payment:
        raise OverPaymentLimit(f"1回のお支払いは{uow.policy.max_payment:,}円までです。",
                               message_en=f"One payment can be at most {uow.policy.max_payment:,} yen.")
    if channel not in CHANNELS:
        raise ValueError(channel)
    fp = request_fingerprint({"op": "pay", "r": resident_id, "m": merchant_id, "mc": merchant_code,
                              "a": amount, "c": channel})

    def work(tx: Tx) -> PaymentResult:
        replay = find_replay(tx, idempotency_key, fp)
        if replay is not None:
            return payment_result(tx, replay, replayed=True)
        shop = merchant_row(tx, merchant_id=merchant_id, code=merchant_code)
        payer = resident_row(tx, resident_id, lock=True)  # the only account a payment locks
        if nonce:
            _spend_nonce(tx, nonce)
        lots = open_lots(tx, payer.account_id, merchant_category=shop.category, spendable_only=True)
        available = sum(r.remaining for r in lots)
        if available < amount:
            raise insufficient(tx, payer.account_id, shop.category, available)
        entry_id = add_entry(tx, "payment", key=idempotency_key, fingerprint=fp, amount=amount,
                             resident_id=resident_id, merchant_id=shop.id, channel=channel,
                             actor=actor or f"resident:{resident_id}")
        draws = draw_lots(tx, lots, amount)
        legs = [Leg(payer.account_id, d.money_type_id, -d.amount, d.lot_id) for d in draws]
        per_type: dict[int, int] = defaultdict(int)
        for d in draws:
            per_type[d.money_type_id] += d.amount
        for mt_id, amt in per_type.items():
            lot_id = credit_lot(tx, shop.account_id, mt_id, amt, entry_id, expires_at=None, accepted_category=None)
            legs.append(Leg(shop.account_id, mt_id, amt, lot_id))
        add_postings(tx, entry_id, legs)
        breakdown = _codes(tx, per_type)
        tx.events.append(PaymentCompleted(entry_id, resident_id, shop.id, amount, channel, breakdown, tx.now))
        return PaymentResult(entry_id, resident_id, shop.id, shop.name, amount, channel, tx.now, breakdown)

    return uow.run(work)


def _spend_nonce(tx: Tx, nonce: str) -> None:
    if tx.conn.execute(select(Nonce.id).where(Nonce.id == nonce)).first() is not None:
        raise TokenUsed()
    try:
        with tx.conn.begin_nested():
            tx.conn.execute(insert(Nonce).values(id=nonce, used_at=tx.now))
    except IntegrityError as exc:
        raise TokenUsed() from exc


def insufficient(tx: Tx, account_id: int, category: str, available: int) -> InsufficientFunds:
    """Say what the person can do: how much this shop accepts, and which 専用券 it does not."""
    elsewhere = [r for r in open_lots(tx, account_id, spendable_only=True)
                 if r.accepted_category not in (None, category)]
    blocked = sum(r.remaining for r in elsewhere)
    msg = f"残高が足りません。このお店で使える残高は {available:,}円です。"
    msg_en = f"Not enough balance. You can use {available:,} yen at this shop."
    if blocked:
        cats = sorted({r.accepted_category for r in elsewhere})
        where = "・".join(label(c) for c in cats)
        msg += f"（専用券 {blocked:,}円は{where}専用のため、このお店では使えません）"
        # named as her balance names them, so one voucher has one English name everywhere
        names = tx.conn.execute(select(MoneyType.name_en, MoneyType.name).where(
            MoneyType.id.in_({r.money_type_id for r in elsewhere})).order_by(MoneyType.id)).all()
        held = ", ".join(f"“{n.name_en or n.name}”" for n in names)
        msg_en += f" ({blocked:,} yen of {held} can be used only at {', '.join(label(c, 'en') for c in cats)}.)"
    return InsufficientFunds(msg, message_en=msg_en, available=available, blocked=blocked)


def _codes(tx: Tx, per_type: dict[int, int]) -> dict[str, int]:
    code = money_type_codes(tx, list(per_type))
    return {code[k]: v for k, v in per_type.items()}


def payment_result(tx: Tx, entry_id: int, *, replayed: bool = False) -> PaymentResult:
    e = tx.session.execute(select(Entry).where(Entry.id == entry_id)).scalar_one()
    name = tx.conn.execute(select(Merchant.name).where(Merchant.id == e.merchant_id)).scalar() or ""
    rows = tx.conn.execute(
        select(MoneyType.code, Posting.amount).join(MoneyType, MoneyType.id == Posting.money_type_id)
        .where(Posting.entry_id == entry_id, Posting.lot_id.is_not(None), Posting.amount < 0)
    ).all()
    breakdown: dict[str, int] = defaultdict(int)
    for r in rows:
        breakdown[r.code] += -r.amount if e.kind == "payment" else r.amount
    return PaymentResult(e.id, e.resident_id or 0, e.merchant_id or 0, name, e.amount, e.channel or "",
                         e.created_at, dict(breakdown), replayed, e.kind)


def refund(uow: UnitOfWork, *, payment_entry_id: int, merchant_id: int, idempotency_key: str,
           actor: str = "") -> PaymentResult:
    """Give a whole payment back, once, inside the window, into the lots it came from.

    A lot that expired since the payment cannot take money back; the refunded part becomes a
    new lot of the same money type valid for `refund_grace_days` from today (stated in README).
    """
    fp = request_fingerprint({"op": "refund", "p": payment_entry_id, "m": merchant_id})

    def work(tx: Tx) -> PaymentResult:
        replay = find_replay(tx, idempotency_key, fp)
        if replay is not None:
            return payment_result(tx, replay, replayed=True)
        pay_e = tx.session.execute(select(Entry).where(Entry.id == payment_entry_id)).scalar()
        if pay_e is None or pay_e.kind != "payment" or pay_e.merchant_id != merchant_id:
            raise NotFound("この支払いは見つかりません。", message_en="Payment not found.")
        if tx.conn.execute(select(Entry.id).where(Entry.reverses_entry_id == pay_e.id)).first():
            # A double tap whose twin committed after our first look (PostgreSQL reads each statement
            # afresh): the refund it made carries our key, so this tap answers with it too.
            replay = find_replay(tx, idempotency_key, fp)
            if replay is not None:
                return payment_result(tx, replay, replayed=True)
            raise AlreadyDone("この支払いはすでに返金済みです。", message_en="This payment was already refunded.")
        if tx.now - pay_e.created_at > timedelta(days=tx.policy.refund_window_days):
            raise RefundNotAllowed(
                f"お支払いから{tx.policy.refund_window_days}日を過ぎたため、返金できません。役場にご相談ください。",
                message_en=f"Refunds are possible for {tx.policy.refund_window_days} days after payment.")
        payer = resident_row(tx, pay_e.resident_id, active=False)
        shop = merchant_row(tx, merchant_id=merchant_id)
        tx.lock_accounts([payer.account_id, shop.account_id])
        drawn = tx.conn.execute(
            select(Posting.lot_id, Posting.money_type_id, Posting.amount, Lot.expires_at, Lot.accepted_category)
            .join(Lot, Lot.id == Posting.lot_id)
            .where(Posting.entry_id == pay_e.id, Posting.account_id == payer.account_id)
        ).all()
        entry_id = add_entry(tx, "refund", key=idempotency_key, fingerprint=fp, amount=pay_e.amount,
                             resident_id=pay_e.resident_id, merchant_id=shop.id, channel=pay_e.channel,
                             reverses_entry_id=pay_e.id, actor=actor or f"merchant:{merchant_id}")
        legs: list[Leg] = []
        per_type: dict[int, int] = defaultdict(int)
        for d in drawn:
            amt = -d.amount
            per_type[d.money_type_id] += amt
            if d.expires_at is not None and d.expires_at <= tx.now:
                new_exp = end_of_jst_day(jst_date(tx.now) + timedelta(days=tx.policy.refund_grace_days))
                lot_id = credit_lot(tx, payer.account_id, d.money_type_id, amt, entry_id,
                                    expires_at=new_exp, accepted_category=d.accepted_category)
            else:
                lot_id = d.lot_id
                tx.conn.execute(update(Lot).where(Lot.id == lot_id).values(remaining=Lot.remaining + amt))
            legs.append(Leg(payer.account_id, d.money_type_id, amt, lot_id))
        for mt_id, amt in per_type.items():
            lots = open_lots(tx, shop.account_id, money_type_id=mt_id)
            if sum(r.remaining for r in lots) < amt:
                raise RefundNotAllowed(
                    "この支払いの売上はすでに精算済みのため、ここでは返金できません。役場にご相談ください。",
                    message_en="This sale has already been paid out to the shop. Please ask the town office.")
            for d in draw_lots(tx, lots, amt):
                legs.append(Leg(shop.account_id, mt_id, -d.amount, d.lot_id))
        add_postings(tx, entry_id, legs)
        tx.events.append(PaymentRefunded(entry_id, pay_e.id, pay_e.resident_id, shop.id, pay_e.amount, tx.now))
        return PaymentResult(entry_id, pay_e.resident_id, shop.id, shop.name, pay_e.amount,
                             pay_e.channel or "", tx.now, _codes(tx, per_type), kind="refund")

    return uow.run(work)
