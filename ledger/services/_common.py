"""Lookups and checks the services share."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from ledger.clock import end_of_jst_day, jst_date
from ledger.errors import AccountInactive, InvalidAmount, NotFound, OverBalanceLimit
from ledger.journal import wallet_total
from ledger.models import Merchant, MoneyType, Resident
from ledger.uow import Tx


def check_amount(amount: object) -> int:
    """Positive integer yen; bools and floats are refused, not rounded."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidAmount()
    return amount


def resident_row(tx: Tx, resident_id: int, *, active: bool = True) -> Any:
    row = tx.conn.execute(
        select(Resident.id, Resident.account_id, Resident.status, Resident.line_user_id)
        .where(Resident.id == resident_id)
    ).first()
    if row is None:
        raise NotFound("利用者が見つかりません。", message_en="Resident not found.")
    if active and row.status != "active":
        raise AccountInactive()
    return row


def merchant_row(tx: Tx, *, merchant_id: int | None = None, code: str | None = None) -> Any:
    q = select(Merchant.id, Merchant.account_id, Merchant.category, Merchant.active, Merchant.name,
               Merchant.fee_rate_bp)
    q = q.where(Merchant.id == merchant_id) if merchant_id is not None else q.where(Merchant.code == code)
    row = tx.conn.execute(q).first()
    if row is None:
        raise NotFound("お店が見つかりません。QRコードをもう一度読み取ってください。",
                       message_en="Shop not found. Scan the code again.")
    if not row.active:
        raise AccountInactive("このお店は現在お支払いを受け付けていません。",
                              message_en="This shop is not taking payments now.")
    return row


def money_type_row(tx: Tx, code: str) -> Any:
    mt = tx.session.execute(select(MoneyType).where(MoneyType.code == code)).scalar()
    if mt is None or not mt.active:
        raise NotFound(f"券種「{code}」はありません。", message_en=f"No money type {code!r}.")
    return mt


def expiry_for(mt: MoneyType, now: datetime) -> datetime | None:
    """The end of validity for money credited now: N days from issue, a fixed date, or the earlier."""
    ends: list[datetime] = []
    if mt.validity_days:
        ends.append(end_of_jst_day(jst_date(now) + timedelta(days=mt.validity_days - 1)))
    if mt.valid_until:
        ends.append(end_of_jst_day(mt.valid_until))
    return min(ends) if ends else None


def check_balance_limit(tx: Tx, account_id: int, adding: int) -> None:
    if wallet_total(tx, account_id) + adding > tx.policy.max_wallet_balance:
        raise OverBalanceLimit(
            f"お財布の残高上限（{tx.policy.max_wallet_balance:,}円）を超えるため受け取れません。",
            message_en=f"This would go over the wallet limit of {tx.policy.max_wallet_balance:,} yen.")
