"""Lookups and checks the services share."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from ledger.clock import end_of_jst_day, jst_date
from ledger.errors import AccountInactive, InvalidAmount, NotFound, OutsideWindow, OverBalanceLimit, inactive
from ledger.journal import wallet_total
from ledger.models import MoneyType
from ledger.sql import Statement
from ledger.uow import Tx


def check_amount(amount: object) -> int:
    """Positive integer yen; bools and floats are refused, not rounded."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidAmount()
    return amount


_RESIDENT = Statement("SELECT id, account_id, status, line_user_id FROM residents WHERE id = :id")
# PostgreSQL: the wallet's row lock comes with the lookup, saving a round trip per payment.
_RESIDENT_LOCKED = Statement(
    "SELECT r.id, r.account_id, r.status, r.line_user_id FROM residents r JOIN accounts a ON a.id = r.account_id"
    " WHERE r.id = :id FOR UPDATE OF a")
_MERCHANT = "SELECT id, account_id, category, active, name, fee_rate_bp FROM merchants WHERE {col} = :v"
_MERCHANT_BY_ID = Statement(_MERCHANT.format(col="id"))
_MERCHANT_BY_CODE = Statement(_MERCHANT.format(col="code"))


def resident_row(tx: Tx, resident_id: int, *, active: bool = True, lock: bool = False) -> Any:
    """The resident's wallet; with `lock`, its account row is locked (PostgreSQL) for the transaction."""
    stmt = _RESIDENT_LOCKED if lock and not tx.sqlite else _RESIDENT
    row = stmt.run(tx.conn, tx.sqlite, {"id": resident_id}).first()
    if row is None:
        raise NotFound("利用者が見つかりません。", message_en="Resident not found.")
    if active and row.status != "active":
        raise inactive(row.status)
    return row


def merchant_row(tx: Tx, *, merchant_id: int | None = None, code: str | None = None) -> Any:
    if merchant_id is not None:
        row = _MERCHANT_BY_ID.run(tx.conn, tx.sqlite, {"v": merchant_id}).first()
    else:
        row = _MERCHANT_BY_CODE.run(tx.conn, tx.sqlite, {"v": code}).first()
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


def new_money_expiry(mt: MoneyType, now: datetime) -> datetime | None:
    """`expiry_for` for money being handed out now (a sale, a grant, an issue, an exchange): refused when
    the money type has already ended, so nobody pays for, or is told of, money that is gone on arrival."""
    ends = expiry_for(mt, now)
    if ends is not None and ends <= now:
        last = jst_date(ends - timedelta(seconds=1))
        raise OutsideWindow(f"「{mt.name}」は{last:%Y年%-m月%-d日}で有効期限が終わっています。",
                            message_en=f"{mt.name_en or mt.name} expired on {last:%Y-%m-%d}.")
    return ends


def check_balance_limit(tx: Tx, account_id: int, adding: int) -> None:
    """Refuse what would take the wallet over its maximum. The wallet's row is locked before its
    balance is read, so credits arriving at once are checked one after another (PostgreSQL)."""
    tx.lock_accounts([account_id])
    if wallet_total(tx, account_id) + adding > tx.policy.max_wallet_balance:
        raise OverBalanceLimit(
            f"お財布の残高上限（{tx.policy.max_wallet_balance:,}円）を超えるため受け取れません。",
            message_en=f"This would go over the wallet limit of {tx.policy.max_wallet_balance:,} yen.")


def money_type_codes(tx: Tx, ids: list[int]) -> dict[int, str]:
    """Codes never change once made, so each database remembers them for the life of the process."""
    known = tx.cache.setdefault("money_type_codes", {})
    missing = [i for i in ids if i not in known]
    if missing:
        known.update(tx.conn.execute(select(MoneyType.id, MoneyType.code).where(MoneyType.id.in_(missing))).all())
    return {i: known[i] for i in ids}
