"""A shop's charge on a customer's QR that she confirms on her own phone before the money moves.

The till scans her code and keys in the amount: `open_request` checks at once what a payment would
(her wallet, what this shop accepts), spends the code and keeps the request for a short while.
Her pay page shows the shop and the amount with 支払う / やめる: `approve` pays through
`payments.pay` under the request's own idempotency key, so a retry pays once; `decline` closes it.
The till polls `read` and shows the receipt when the journal holds the payment.
(Card payments need none of this: the PIN she types is her consent.)
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from ledger.errors import (
    IdempotencyConflict,
    LedgerError,
    NotAllowed,
    NotFound,
    OutsideWindow,
    OverPaymentLimit,
    TokenUsed,
)
from ledger.journal import open_lots
from ledger.models import Entry, Merchant, Nonce, PaymentRequest
from ledger.services import payments
from ledger.services._common import check_amount, merchant_row, resident_row
from ledger.uow import Tx, UnitOfWork

STATES = ("pending", "paid", "declined", "expired", "failed")


class RequestExpired(OutsideWindow):
    code = "request_expired"
    message = "確認の時間が過ぎました。お店の方にもう一度QRコードを読み取ってもらってください。"
    message_en = "The time to confirm has passed. Ask the shop to scan your code again."


class RequestClosed(NotAllowed):
    code = "request_closed"
    http_status = 409
    message = "このお支払いは取り消されました。"
    message_en = "This payment was cancelled."


@dataclass(frozen=True)
class RequestView:
    id: str
    resident_id: int
    merchant_id: int
    merchant_name: str
    amount: int
    state: str  # one of STATES
    expires_at: datetime
    entry_id: int | None
    reason: str = ""
    reason_en: str = ""
    replayed: bool = False

    def seconds_left(self, now: datetime) -> int:
        return max(0, int((self.expires_at - now).total_seconds())) if self.state == "pending" else 0


def needs_confirmation(policy: Any, amount: int) -> bool:
    """Whether a charge on a customer's QR waits for her 支払う (the town's rule, in `Policy`)."""
    return policy.cpm_confirm_from is not None and amount >= policy.cpm_confirm_from


def open_request(uow: UnitOfWork, *, resident_id: int, merchant_id: int, amount: int, token_id: str,
                 idempotency_key: str, actor: str = "") -> RequestView:
    """Check the charge as a payment would, spend the QR code, and wait for the customer."""
    check_amount(amount)
    if amount > uow.policy.max_payment:
        raise OverPaymentLimit(f"1回のお支払いは{uow.policy.max_payment:,}円までです。",
                               message_en=f"One payment can be at most {uow.policy.max_payment:,} yen.")

    def work(tx: Tx) -> RequestView:
        found = tx.conn.execute(select(PaymentRequest).where(PaymentRequest.idempotency_key == idempotency_key)).first()
        if found is not None:  # the till's retry: the same request
            if (found.token_id, found.merchant_id, found.amount) != (token_id, merchant_id, amount):
                raise IdempotencyConflict()
            return _view(tx.conn, found, tx.now, replayed=True)
        shop = merchant_row(tx, merchant_id=merchant_id)
        payer = resident_row(tx, resident_id)
        lots = open_lots(tx, payer.account_id, merchant_category=shop.category, spendable_only=True)
        available = sum(r.remaining for r in lots)
        if available < amount:
            raise payments.insufficient(tx, payer.account_id, shop.category, available)
        try:
            with tx.conn.begin_nested():
                tx.conn.execute(insert(Nonce).values(id=f"cpm:{token_id}", used_at=tx.now))
        except IntegrityError as exc:
            raise TokenUsed() from exc
        request_id = secrets.token_urlsafe(16)
        expires = tx.now + timedelta(seconds=tx.policy.cpm_confirm_seconds)
        tx.conn.execute(insert(PaymentRequest).values(
            id=request_id, token_id=token_id, resident_id=resident_id, merchant_id=shop.id, amount=amount,
            idempotency_key=idempotency_key, status="pending", reason="", reason_en="", actor=actor,
            created_at=tx.now, expires_at=expires))
        return RequestView(request_id, resident_id, shop.id, shop.name, amount, "pending", expires, None)

    return uow.run(work)


def approve(uow: UnitOfWork, *, request_id: str, resident_id: int) -> payments.PaymentResult:
    """Her 支払う: the payment itself, once, under the request's key (a second tap answers with the first)."""
    def claim(tx: Tx) -> Any:
        row = _mine(tx.conn, request_id, resident_id)
        if row.status == "pending" and row.expires_at <= tx.now:
            raise RequestExpired()
        if row.status == "declined":
            raise RequestClosed()
        if row.status == "failed":
            raise RequestClosed(row.reason, message_en=row.reason_en or None)
        done = tx.conn.execute(update(PaymentRequest).where(
            PaymentRequest.id == request_id, PaymentRequest.status.in_(("pending", "approved")))
            .values(status="approved"))
        if done.rowcount != 1:  # declined a moment ago, by her or by the shop
            raise RequestClosed()
        return row

    row = uow.run(claim)
    try:
        return payments.pay(uow, resident_id=resident_id, merchant_id=row.merchant_id, amount=row.amount,
                            idempotency_key=row.idempotency_key, channel="cpm", actor=row.actor)
    except LedgerError as exc:
        _failed(uow, request_id, exc)
        raise


def _failed(uow: UnitOfWork, request_id: str, exc: LedgerError) -> None:
    """The payment was refused after all (she spent the money elsewhere meanwhile): the till hears why."""
    uow.run(lambda tx: tx.conn.execute(update(PaymentRequest).where(
        PaymentRequest.id == request_id, PaymentRequest.status == "approved")
        .values(status="failed", reason=exc.message[:400], reason_en=(exc.message_en or "")[:400])))


def decline(uow: UnitOfWork, *, request_id: str, resident_id: int | None = None,
            merchant_id: int | None = None) -> RequestView:
    """やめる, on her phone or at the till: closes a request not yet paid; nothing moves."""
    def work(tx: Tx) -> RequestView:
        row = tx.conn.execute(select(PaymentRequest).where(PaymentRequest.id == request_id)).first()
        if row is None or (resident_id is not None and row.resident_id != resident_id) or (
                merchant_id is not None and row.merchant_id != merchant_id):
            raise _not_found()
        tx.conn.execute(update(PaymentRequest).where(PaymentRequest.id == request_id,
                                                     PaymentRequest.status == "pending").values(status="declined"))
        return _view(tx.conn, tx.conn.execute(select(PaymentRequest).where(PaymentRequest.id == request_id)).one(),
                     tx.now)

    return uow.run(work)


def read(conn: Connection, request_id: str, now: datetime) -> RequestView | None:
    row = conn.execute(select(PaymentRequest).where(PaymentRequest.id == request_id)).first()
    return _view(conn, row, now) if row is not None else None


def for_token(conn: Connection, token_id: str, now: datetime) -> RequestView | None:
    """The request made on this QR code, if the shop has scanned it."""
    row = conn.execute(select(PaymentRequest).where(PaymentRequest.token_id == token_id)).first()
    return _view(conn, row, now) if row is not None else None


def _mine(conn: Connection, request_id: str, resident_id: int) -> Any:
    row = conn.execute(select(PaymentRequest).where(PaymentRequest.id == request_id)).first()
    if row is None or row.resident_id != resident_id:
        raise _not_found()
    return row


def _not_found() -> NotFound:
    return NotFound("このお支払いの依頼は見つかりません。", message_en="This payment request was not found.")


def _view(conn: Connection, row: Any, now: datetime, *, replayed: bool = False) -> RequestView:
    """Paid is what the journal says (an entry under the request's key), not a flag set beside it."""
    entry_id = conn.execute(select(Entry.id).where(Entry.idempotency_key == row.idempotency_key)).scalar()
    if entry_id is not None:
        state = "paid"
    elif row.status in ("declined", "failed"):
        state = row.status
    elif row.expires_at <= now:
        state = "expired"
    else:
        state = "pending"  # an approved request whose payment is under way still reads as waiting
    name = conn.execute(select(Merchant.name).where(Merchant.id == row.merchant_id)).scalar() or ""
    return RequestView(row.id, row.resident_id, row.merchant_id, name, row.amount, state, row.expires_at, entry_id,
                       row.reason, row.reason_en, replayed)
