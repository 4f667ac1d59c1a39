"""精算: each shop's receipts up to the period end are paid out, less its fee, by bank transfer.

A run is per period (a batch) and per shop (a payout with its own idempotency key), so a run
that crashed half-way is run again and only finishes the shops it had not done.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, insert, select, update

from ledger import bank_days
from ledger.clock import end_of_jst_day, jst_date, jst_midnight_utc
from ledger.errors import InvalidInput, NotFound
from ledger.events import PayoutReady
from ledger.journal import Leg, add_entry, add_postings, internal_account
from ledger.models import Entry, Lot, Merchant, Payout, PayoutBatch
from ledger.uow import Tx, UnitOfWork


@dataclass(frozen=True)
class PayoutRun:
    batch_id: int
    created: int
    skipped: int
    total_net: int


def fee_for(amount: int, fee_rate_bp: int) -> int:
    """Fees round down to the yen, in the shop's favour."""
    return amount * fee_rate_bp // 10_000


def check_period(period_start: date, period_end: date, transfer_date: date, today: date) -> None:
    """What a payout period and its transfer date must be, for the run and its dry run alike."""
    if period_end < period_start:
        raise InvalidInput("期間の終わりが始まりより前です。")
    if period_end >= today:
        raise InvalidInput("精算できるのは終わった期間だけです（期間の終わりは昨日以前にしてください）。")
    if transfer_date <= period_end:
        raise InvalidInput("振込日は期間の終わりより後の日にしてください。")
    if transfer_date <= today:
        raise InvalidInput(f"振込日 {transfer_date} は過ぎています。明日以降の銀行営業日にしてください"
                           f"（例: {bank_days.transfer_date(period_end, 1, today)}）。")
    if not bank_days.is_business_day(transfer_date):
        raise InvalidInput(f"振込日 {transfer_date} は銀行の休業日（土日・祝日・年末年始）です。"
                           f"次の営業日は {bank_days.next_business_day(transfer_date)} です。")


def open_batch(uow: UnitOfWork, period_start: date, period_end: date, transfer_date: date) -> int:
    """The batch for exactly this period (found again on a re-run); a period overlapping another batch's is
    refused, since its receipts were paid out there and it would only make an empty batch."""
    today = jst_date(uow.clock())

    def work(tx: Tx) -> int:
        found = tx.conn.execute(select(PayoutBatch.id).where(
            PayoutBatch.period_start == period_start, PayoutBatch.period_end == period_end)).scalar()
        if found is not None:
            return found
        check_period(period_start, period_end, transfer_date, today)
        other = tx.conn.execute(select(PayoutBatch.id, PayoutBatch.period_start, PayoutBatch.period_end).where(
            PayoutBatch.period_start <= period_end, PayoutBatch.period_end >= period_start)).first()
        if other is not None:
            raise InvalidInput(f"期間が精算バッチ {other.id}（{other.period_start}〜{other.period_end}）と重なっています。"
                               f"{other.period_end + timedelta(days=1)} からの期間にしてください。")
        return tx.conn.execute(insert(PayoutBatch).values(
            period_start=period_start, period_end=period_end, transfer_date=transfer_date, status="open",
            created_at=tx.now).returning(PayoutBatch.id)).scalar_one()

    return uow.run(work)


def pay_out_merchant(uow: UnitOfWork, batch_id: int, merchant_id: int, actor: str = "system") -> Payout | None:
    """Pay out one shop for a batch; None when it has nothing to be paid. Safe to call twice."""

    def work(tx: Tx) -> Payout | None:
        batch = tx.session.execute(select(PayoutBatch).where(PayoutBatch.id == batch_id)).scalar()
        if batch is None:
            raise NotFound("精算バッチが見つかりません。")
        shop = tx.session.execute(select(Merchant).where(Merchant.id == merchant_id)).scalar_one()
        # Looked for after the shop's lock: a run at the same moment that paid it first is found,
        # rather than its emptied receipts read as "nothing to be paid".
        tx.lock_accounts([shop.account_id])
        existing = tx.session.execute(select(Payout).where(Payout.batch_id == batch_id,
                                                        Payout.merchant_id == merchant_id)).scalar()
        if existing is not None:
            return existing
        cutoff = end_of_jst_day(batch.period_end)
        open_receipts = (Lot.account_id == shop.account_id, Lot.remaining > 0, Lot.created_at < cutoff)
        per_type = {mt: int(total) for mt, total in tx.conn.execute(
            select(Lot.money_type_id, func.sum(Lot.remaining)).where(*open_receipts).group_by(Lot.money_type_id))}
        if not per_type:
            return None
        start = jst_midnight_utc(batch.period_start)
        stats = dict(tx.conn.execute(
            select(Entry.kind, func.coalesce(func.sum(Entry.amount), 0))
            .where(Entry.merchant_id == shop.id, Entry.created_at >= start, Entry.created_at < cutoff,
                   Entry.kind.in_(("payment", "refund"))).group_by(Entry.kind)).all())
        count = tx.conn.execute(select(func.count()).select_from(Entry).where(
            Entry.merchant_id == shop.id, Entry.kind == "payment", Entry.created_at >= start,
            Entry.created_at < cutoff)).scalar_one()
        gross = sum(per_type.values())
        entry_id = add_entry(tx, "payout", key=f"payout:{batch_id}:{shop.id}", amount=gross, merchant_id=shop.id,
                             ref=f"payout:{batch_id}", actor=actor, memo=f"{batch.period_start}〜{batch.period_end}")
        # The shop's account is locked and the period is over, so no receipt before the cutoff can
        # change between the sum above and this update.
        tx.conn.execute(update(Lot).where(*open_receipts).values(remaining=0))
        legs: list[Leg] = []
        fee_total = 0
        for mt_id, amt in per_type.items():
            fee = fee_for(amt, shop.fee_rate_bp)
            fee_total += fee
            legs.append(Leg(shop.account_id, mt_id, -amt))
            if fee:
                legs.append(Leg(internal_account(tx, "fee", mt_id), mt_id, fee))
            legs.append(Leg(internal_account(tx, "clearing", mt_id), mt_id, amt - fee))
        add_postings(tx, entry_id, legs)
        payout_id = tx.conn.execute(insert(Payout).values(
            batch_id=batch_id, merchant_id=shop.id, gross=int(stats.get("payment", 0)),
            refunds=int(stats.get("refund", 0)), fee=fee_total, net=gross - fee_total, payments=count,
            entry_id=entry_id, status="ready", created_at=tx.now).returning(Payout.id)).scalar_one()
        tx.events.append(PayoutReady(payout_id, shop.id, gross - fee_total, batch.period_start, batch.period_end))
        return tx.session.execute(select(Payout).where(Payout.id == payout_id)).scalar_one()

    return uow.run(work)


def run_payouts(uow: UnitOfWork, period_start: date, period_end: date, transfer_date: date,
                actor: str = "system", progress=None) -> PayoutRun:
    """Every active shop, one transaction each; re-running finishes what a crash left."""
    batch_id = open_batch(uow, period_start, period_end, transfer_date)
    with uow.db.session() as s:
        shops = s.execute(select(Merchant.id).where(Merchant.active.is_(True)).order_by(Merchant.id)).scalars().all()
        done = set(s.execute(select(Payout.merchant_id).where(Payout.batch_id == batch_id)).scalars())
    created = skipped = 0
    for shop_id in shops:
        if shop_id in done:
            skipped += 1
        elif pay_out_merchant(uow, batch_id, shop_id, actor) is not None:
            created += 1
        if progress:
            progress(1)
    with uow.db.session() as s:
        total = s.execute(select(func.coalesce(func.sum(Payout.net), 0)).where(Payout.batch_id == batch_id)
                          ).scalar_one()
    return PayoutRun(batch_id, created, skipped, int(total))


def mark_paid(uow: UnitOfWork, batch_id: int) -> int:
    """After the bank confirms the transfer. Returns how many payouts changed."""

    def work(tx: Tx) -> int:
        res = tx.conn.execute(update(Payout).where(Payout.batch_id == batch_id, Payout.status == "ready")
                              .values(status="paid", paid_at=tx.now))
        tx.conn.execute(update(PayoutBatch).where(PayoutBatch.id == batch_id).values(status="paid"))
        return res.rowcount

    return uow.run(work)
