"""The double-entry primitives every service builds on: post an entry, draw lots, credit lots.

These run on every payment, so they use the prepared statements of `ledger.sql`.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import insert, select

from ledger.errors import Conflict, IdempotencyConflict, InsufficientFunds
from ledger.models import Account, Entry, Lot, Posting
from ledger.sql import Statement, db_time, py_time
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


class OpenLot(NamedTuple):
    id: int
    money_type_id: int
    remaining: int
    expires_at: datetime | None
    accepted_category: str | None


_FIND_KEY = Statement("SELECT id, request_hash FROM entries WHERE idempotency_key = :key")
_ENTRY_COLUMNS = ("kind", "idempotency_key", "request_hash", "amount", "resident_id", "merchant_id",
                  "reverses_entry_id", "channel", "ref", "actor", "memo", "meta", "created_at")
_INSERT_ENTRY = Statement(
    f"INSERT INTO entries ({', '.join(_ENTRY_COLUMNS)}) VALUES ({', '.join(':' + c for c in _ENTRY_COLUMNS)}) RETURNING id")
_INSERT_POSTING = Statement(
    "INSERT INTO postings (entry_id, account_id, money_type_id, amount, lot_id)"
    " VALUES (:entry_id, :account_id, :money_type_id, :amount, :lot_id)")
_OPEN_LOTS = "SELECT l.id, l.money_type_id, l.remaining, l.expires_at, l.accepted_category FROM lots l {join}" \
             " WHERE l.account_id = :account AND l.remaining > 0 AND (l.expires_at IS NULL OR l.expires_at > :now) {more}"
_OPEN_LOTS_ALL = Statement(_OPEN_LOTS.format(join="", more=""))
_OPEN_LOTS_TYPE = Statement(_OPEN_LOTS.format(join="", more="AND l.money_type_id = :mt"))
_OPEN_LOTS_SPENDABLE = Statement(_OPEN_LOTS.format(
    join="JOIN money_types m ON m.id = l.money_type_id", more="AND m.spendable = :true"))
_OPEN_LOTS_SHOP = Statement(_OPEN_LOTS.format(
    join="JOIN money_types m ON m.id = l.money_type_id",
    more="AND m.spendable = :true AND (l.accepted_category IS NULL OR l.accepted_category = :category)"))
_DRAW = Statement("UPDATE lots SET remaining = remaining - :take WHERE id = :id AND remaining >= :take")
_CREDIT = Statement(
    "INSERT INTO lots (account_id, money_type_id, amount, remaining, expires_at, accepted_category, entry_id, created_at)"
    " VALUES (:account, :mt, :amount, :amount, :expires, :category, :entry, :now) RETURNING id")
_WALLET_TOTAL = Statement(
    "SELECT COALESCE(SUM(remaining), 0) FROM lots"
    " WHERE account_id = :account AND remaining > 0 AND (expires_at IS NULL OR expires_at > :now)")


def find_replay(tx: Tx, key: str | None, fingerprint: str) -> int | None:
    """The entry a retried request already made, or None. A key reused for other parameters is refused."""
    if not key:
        return None
    row = _FIND_KEY.run(tx.conn, tx.sqlite, {"key": key}).first()
    if row is None:
        return None
    if row.request_hash != fingerprint:
        raise IdempotencyConflict()
    return row.id


def add_entry(tx: Tx, kind: str, *, key: str | None = None, fingerprint: str = "", **fields: Any) -> int:
    values = dict.fromkeys(_ENTRY_COLUMNS)
    values.update(kind=kind, idempotency_key=key, request_hash=fingerprint, amount=0, actor="system", memo="")
    values.update(fields)
    values["created_at"] = db_time(tx.now, tx.sqlite)
    if values["meta"] is not None:
        values["meta"] = json.dumps(values["meta"], ensure_ascii=False)
        if not tx.sqlite:
            values["meta"] = _pg_json(fields["meta"])
    return _INSERT_ENTRY.run(tx.conn, tx.sqlite, values).scalar_one()


def _pg_json(value: Any) -> Any:
    """psycopg's jsonb wrapper, imported only on PostgreSQL: a SQLite install never loads the driver."""
    from psycopg.types.json import Json

    return Json(value)


def check_balanced(legs: list[Leg], entry_id: int | None = None) -> None:
    """Integer yen, summing to zero per money type (invariant 1): checked before anything is written."""
    sums: dict[int, int] = defaultdict(int)
    for leg in legs:
        if not isinstance(leg.amount, int) or isinstance(leg.amount, bool):
            raise TypeError("amounts are integer yen")
        sums[leg.money_type_id] += leg.amount
    unbalanced = {mt: s for mt, s in sums.items() if s != 0}
    if unbalanced:
        raise AssertionError(f"unbalanced entry {entry_id or ''}: {unbalanced}")


def add_postings(tx: Tx, entry_id: int, legs: list[Leg]) -> None:
    """Insert the legs; they must balance to zero per money type (invariant 1)."""
    check_balanced(legs)
    if legs:
        _INSERT_POSTING.run(tx.conn, tx.sqlite, [
            {"entry_id": entry_id, "account_id": leg.account_id, "money_type_id": leg.money_type_id,
             "amount": leg.amount, "lot_id": leg.lot_id} for leg in legs])


def open_lots(tx: Tx, account_id: int, *, money_type_id: int | None = None,
              merchant_category: str | None = None, spendable_only: bool = False) -> list[OpenLot]:
    """Lots with money left, in draw order: the most restricted first, then the soonest to expire.

    `merchant_category` keeps only spendable lots that shop may accept (専用券 of its category, 共通券).
    """
    params: dict[str, Any] = {"account": account_id, "now": db_time(tx.now, tx.sqlite), "true": True}
    if merchant_category is not None:
        stmt, params["category"] = _OPEN_LOTS_SHOP, merchant_category
    elif money_type_id is not None:
        stmt, params["mt"] = _OPEN_LOTS_TYPE, money_type_id
    elif spendable_only:
        stmt = _OPEN_LOTS_SPENDABLE
    else:
        stmt = _OPEN_LOTS_ALL
    rows = [OpenLot(r[0], r[1], r[2], py_time(r[3]), r[4]) for r in stmt.run(tx.conn, tx.sqlite, params)]
    far = datetime.max
    return sorted(rows, key=lambda r: (r.accepted_category is None, r.expires_at or far, r.id))


def draw_lots(tx: Tx, lots: list[OpenLot], amount: int) -> list[Draw]:
    """Take `amount` from `lots` in the order given. Guarded updates: a lot changed under us is a Conflict."""
    if sum(r.remaining for r in lots) < amount:
        raise InsufficientFunds()
    draws: list[Draw] = []
    left = amount
    for r in lots:
        if left == 0:
            break
        take = min(left, r.remaining)
        if _DRAW.run(tx.conn, tx.sqlite, {"take": take, "id": r.id}).rowcount != 1:
            raise Conflict()
        draws.append(Draw(r.id, r.money_type_id, take, r.expires_at))
        left -= take
    return draws


def credit_lot(tx: Tx, account_id: int, money_type_id: int, amount: int, entry_id: int, *,
               expires_at: datetime | None, accepted_category: str | None) -> int:
    return _CREDIT.run(tx.conn, tx.sqlite, {
        "account": account_id, "mt": money_type_id, "amount": amount, "expires": db_time(expires_at, tx.sqlite),
        "category": accepted_category, "entry": entry_id, "now": db_time(tx.now, tx.sqlite)}).scalar_one()


def wallet_total(tx: Tx, account_id: int) -> int:
    """What a wallet holds now, all money types, expired lots left out."""
    return int(_WALLET_TOTAL.run(tx.conn, tx.sqlite, {"account": account_id,
                                                      "now": db_time(tx.now, tx.sqlite)}).scalar_one())


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


def add_entries(tx: Tx, kind: str, rows: list[dict[str, Any]]) -> list[int]:
    """`add_entry` for many at once (a grant run): multi-row INSERTs, ids returned in the order given.

    Each row holds `key`, `fingerprint` and the entry's other fields, as for `add_entry` (no `meta`).
    """
    if not rows:
        return []
    values = []
    for row in rows:
        v: dict[str, Any] = dict.fromkeys(_ENTRY_COLUMNS)
        v.update(kind=kind, request_hash="", amount=0, actor="system", memo="")
        fields = dict(row)
        v["idempotency_key"] = fields.pop("key", None)
        v["request_hash"] = fields.pop("fingerprint", "")
        v.update(fields)
        v["created_at"] = tx.now
        if v.pop("meta") is not None:  # a JSON None would be stored as 'null', not SQL NULL as add_entry does
            raise ValueError("add_entries takes no meta")
        values.append(v)
    if tx.sqlite:
        return list(tx.conn.execute(insert(Entry).returning(Entry.id, sort_by_parameter_order=True), values).scalars())
    cols = [c for c in _ENTRY_COLUMNS if c not in ("meta", "created_at")]
    ids = dict(_unnest_insert(tx, "entries", cols, values, {"created_at": tx.now}, "idempotency_key"))
    return [ids[v["idempotency_key"]] for v in values]


def credit_lots(tx: Tx, rows: list[dict[str, Any]]) -> list[int]:
    """`credit_lot` for many at once; rows hold account_id, money_type_id, amount, entry_id, expires_at,
    accepted_category. Ids come back in the order given."""
    if not rows:
        return []
    values = [{**r, "remaining": r["amount"], "created_at": tx.now} for r in rows]
    if tx.sqlite:
        return list(tx.conn.execute(insert(Lot).returning(Lot.id, sort_by_parameter_order=True), values).scalars())
    cols = ["account_id", "money_type_id", "amount", "remaining", "expires_at", "accepted_category", "entry_id"]
    ids = dict(_unnest_insert(tx, "lots", cols, values, {"created_at": tx.now}, "entry_id"))
    return [ids[v["entry_id"]] for v in values]


def add_postings_many(tx: Tx, legs_by_entry: list[tuple[int, list[Leg]]]) -> None:
    """`add_postings` for many entries in one statement; each entry must balance (invariant 1)."""
    rows: list[dict[str, Any]] = []
    for entry_id, legs in legs_by_entry:
        check_balanced(legs, entry_id)
        rows.extend({"entry_id": entry_id, "account_id": leg.account_id, "money_type_id": leg.money_type_id,
                     "amount": leg.amount, "lot_id": leg.lot_id} for leg in legs)
    if rows and tx.sqlite:
        tx.conn.execute(insert(Posting), rows)
    elif rows:
        _unnest_insert(tx, "postings", ["entry_id", "account_id", "money_type_id", "amount", "lot_id"], rows, {}, None)


_PG_TYPES = {"kind": "text", "idempotency_key": "text", "request_hash": "text", "channel": "text", "ref": "text",
             "actor": "text", "memo": "text", "accepted_category": "text", "expires_at": "timestamp",
             "created_at": "timestamp"}


def _unnest_insert(tx: Tx, table: str, cols: list[str], rows: list[dict[str, Any]], same: dict[str, Any],
                   key: str | None) -> list[tuple[Any, int]]:
    """PostgreSQL: many rows in one short statement (one array per column), so neither the client nor the
    server parses a statement per row or thousands of placeholders. Returns (key, id) pairs: the order
    of RETURNING is not promised, the unique key is."""
    arrays = ", ".join(f"%(c{i})s::{_PG_TYPES.get(c, 'bigint')}[]" for i, c in enumerate(cols))
    consts = "".join(f", %({c})s::{_PG_TYPES.get(c, 'bigint')}" for c in same)
    sql = (f"INSERT INTO {table} ({', '.join([*cols, *same])}) SELECT u.*{consts} FROM unnest({arrays}) AS u"
           + (f" RETURNING {key}, id" if key else ""))
    params: dict[str, Any] = {f"c{i}": [r[c] for r in rows] for i, c in enumerate(cols)}
    params.update(same)
    cur = tx.conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    cur.execute(sql, params)
    return [tuple(r) for r in cur.fetchall()] if key else []
