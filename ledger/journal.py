"""The double-entry primitives every service builds on: post an entry, draw lots, credit lots."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update

from ledger.errors import Conflict, IdempotencyConflict, InsufficientFunds
from ledger.models import Account, Entry, Lot, MoneyType, Posting
from ledger.uow import Tx


@dataclass(frozen=True)
class Leg:
    account_id: int
    money_type_id: int
    amount: int
    lot_id: int | None = None


@dataclass(frozen=True)
class Draw:
    lot_id: int
    money_type_id: int
    amount: int
    expires_at: datetime | None


def find_replay(tx: Tx, key: str | None, fingerprint: str) -> int | None:
    """The entry a retried request already made, or None. A key reused for other parameters is refused."""
    if not key:
        return None
    row = tx.conn.execute(
        select(Entry.id, Entry.request_hash).where(Entry.idempotency_key == key)
    ).first()
    if row is None:
        return None
    if row.request_hash != fingerprint:
        raise IdempotencyConflict()
    return row.id


def add_entry(tx: Tx, kind: str, *, key: str | None = None, fingerprint: str = "", **fields: Any) -> int:
    values = {"kind": kind, "idempotency_key": key, "request_hash": fingerprint,
              "created_at": tx.now, **fields}
    return tx.conn.execute(insert(Entry).values(values).returning(Entry.id)).scalar_one()


def add_postings(tx: Tx, entry_id: int, legs: list[Leg]) -> None:
    """Insert the legs; they must balance to zero per money type (invariant 1)."""
    sums: dict[int, int] = defaultdict(int)
    for leg in legs:
        if not isinstance(leg.amount, int) or isinstance(leg.amount, bool):
            raise TypeError("amounts are integer yen")
        sums[leg.money_type_id] += leg.amount
    unbalanced = {mt: s for mt, s in sums.items() if s != 0}
    if unbalanced:
        raise AssertionError(f"unbalanced entry: {unbalanced}")
    if legs:
        tx.conn.execute(insert(Posting), [
            {"entry_id": entry_id, "account_id": leg.account_id, "money_type_id": leg.money_type_id,
             "amount": leg.amount, "lot_id": leg.lot_id} for leg in legs
        ])


def open_lots(tx: Tx, account_id: int, *, money_type_id: int | None = None,
              merchant_category: str | None = None, spendable_only: bool = False) -> list[Any]:
    """Lots with money left, in draw order: the most restricted first, then the soonest to expire.

    `merchant_category` keeps only lots that shop may accept (専用券 of its category, 共通券).
    """
    q = (select(Lot.id, Lot.money_type_id, Lot.remaining, Lot.expires_at, Lot.accepted_category)
         .where(Lot.account_id == account_id, Lot.remaining > 0,
                or_(Lot.expires_at.is_(None), Lot.expires_at > tx.now)))
    if money_type_id is not None:
        q = q.where(Lot.money_type_id == money_type_id)
    if merchant_category is not None:
        q = q.where(or_(Lot.accepted_category.is_(None), Lot.accepted_category == merchant_category))
    if spendable_only:
        q = q.join(MoneyType, MoneyType.id == Lot.money_type_id).where(MoneyType.spendable.is_(True))
    rows = tx.conn.execute(q).all()
    far = datetime.max
    return sorted(rows, key=lambda r: (r.accepted_category is None, r.expires_at or far, r.id))


def draw_lots(tx: Tx, lots: list[Any], amount: int) -> list[Draw]:
    """Take `amount` from `lots` in the order given. Guarded updates: a lot changed under us is a Conflict."""
    if sum(r.remaining for r in lots) < amount:
        raise InsufficientFunds()
    draws: list[Draw] = []
    left = amount
    for r in lots:
        if left == 0:
            break
        take = min(left, r.remaining)
        res = tx.conn.execute(
            update(Lot).where(and_(Lot.id == r.id, Lot.remaining >= take))
            .values(remaining=Lot.remaining - take)
        )
        if res.rowcount != 1:
            raise Conflict()
        draws.append(Draw(r.id, r.money_type_id, take, r.expires_at))
        left -= take
    return draws


def credit_lot(tx: Tx, account_id: int, money_type_id: int, amount: int, entry_id: int, *,
               expires_at: datetime | None, accepted_category: str | None) -> int:
    return tx.conn.execute(
        insert(Lot).values(account_id=account_id, money_type_id=money_type_id, amount=amount,
                           remaining=amount, expires_at=expires_at, accepted_category=accepted_category,
                           entry_id=entry_id, created_at=tx.now).returning(Lot.id)
    ).scalar_one()


def wallet_total(tx: Tx, account_id: int) -> int:
    """What a wallet holds now, all money types, expired lots left out."""
    return tx.conn.execute(
        select(func.coalesce(func.sum(Lot.remaining), 0)).where(
            Lot.account_id == account_id, Lot.remaining > 0,
            or_(Lot.expires_at.is_(None), Lot.expires_at > tx.now))
    ).scalar_one()


def internal_account(tx: Tx, kind: str, money_type_id: int) -> int:
    """The issuer / breakage / fee / clearing / correction account of a money type, made on first use."""
    code = f"{kind}:{money_type_id}"
    acc = tx.conn.execute(select(Account.id).where(Account.code == code)).scalar()
    if acc is not None:
        return acc
    return tx.conn.execute(
        insert(Account).values(kind=kind, code=code, money_type_id=money_type_id, created_at=tx.now)
        .returning(Account.id)
    ).scalar_one()
