"""The tamper-evident hash chain over the journal.

Entries are sealed after they commit, in batches, by whoever calls `seal` (the scheduler every few
seconds, `machi audit verify` before it checks). A seal covers the entry, its postings and the
previous seal's hash; the order is the order of sealing. Payments therefore never wait on a
single chain-head row: the cost is that the newest few seconds of entries are not yet sealed.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, text

from ledger.clock import utcnow
from ledger.db import Database
from ledger.models import Entry, EntrySeal, Posting

GENESIS = "0" * 64
_PG_LOCK = 7_428_001


def entry_digest(prev_hash: str, entry: Any, postings: list[Any]) -> str:
    body = {
        "prev": prev_hash, "id": entry.id, "kind": entry.kind, "key": entry.idempotency_key,
        "amount": entry.amount, "resident": entry.resident_id, "merchant": entry.merchant_id,
        "reverses": entry.reverses_entry_id, "ref": entry.ref, "actor": entry.actor, "memo": entry.memo,
        "meta": entry.meta, "at": entry.created_at.isoformat(timespec="microseconds"),
        "postings": [[p.account_id, p.money_type_id, p.amount, p.lot_id] for p in postings],
    }
    raw = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


_ENTRY_COLS = (Entry.id, Entry.kind, Entry.idempotency_key, Entry.amount, Entry.resident_id, Entry.merchant_id,
               Entry.reverses_entry_id, Entry.ref, Entry.actor, Entry.memo, Entry.meta, Entry.created_at)


def _postings_of(conn: Connection, ids: list[int]) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {i: [] for i in ids}
    for p in conn.execute(select(Posting.entry_id, Posting.account_id, Posting.money_type_id, Posting.amount,
                                 Posting.lot_id).where(Posting.entry_id.in_(ids)).order_by(Posting.id)):
        out[p.entry_id].append(p)
    return out


def seal(db: Database, batch: int = 2000) -> int:
    """Seal every entry not yet sealed. Returns how many were sealed. One sealer at a time."""
    total = 0
    while True:
        with db.write() as s:
            conn = s.connection()
            if not db.sqlite and not conn.execute(text(f"SELECT pg_try_advisory_xact_lock({_PG_LOCK})")).scalar():
                return total  # another sealer is at work; it will take ours too
            head = conn.execute(select(EntrySeal.seq, EntrySeal.hash).order_by(EntrySeal.seq.desc()).limit(1)).first()
            seq, prev = (head.seq, head.hash) if head else (0, GENESIS)
            entries = conn.execute(
                select(*_ENTRY_COLS).outerjoin(EntrySeal, EntrySeal.entry_id == Entry.id)
                .where(EntrySeal.entry_id.is_(None)).order_by(Entry.id).limit(batch)).all()
            if not entries:
                return total
            posts = _postings_of(conn, [e.id for e in entries])
            now = utcnow()
            rows = []
            for e in entries:
                seq += 1
                h = entry_digest(prev, e, posts[e.id])
                rows.append({"entry_id": e.id, "seq": seq, "prev_hash": prev, "hash": h, "sealed_at": now})
                prev = h
            conn.execute(insert(EntrySeal), rows)
            total += len(rows)


@dataclass(frozen=True)
class ChainReport:
    sealed: int
    unsealed: int
    broken_at: int | None  # entry id of the first seal that does not verify
    reason: str = ""


def verify(conn: Connection, batch: int = 5000) -> ChainReport:
    """Walk the seals from the first; recompute each hash from the entry and postings as stored now."""
    prev, seq, checked = GENESIS, 0, 0
    while True:
        seals = conn.execute(select(EntrySeal.entry_id, EntrySeal.seq, EntrySeal.prev_hash, EntrySeal.hash)
                             .where(EntrySeal.seq > seq).order_by(EntrySeal.seq).limit(batch)).all()
        if not seals:
            break
        ids = [x.entry_id for x in seals]
        entries = {e.id: e for e in conn.execute(select(*_ENTRY_COLS).where(Entry.id.in_(ids)))}
        posts = _postings_of(conn, ids)
        for x in seals:
            if x.seq != seq + 1 or x.prev_hash != prev:
                return ChainReport(checked, 0, x.entry_id, "連番または直前のハッシュが一致しません")
            e = entries.get(x.entry_id)
            if e is None or entry_digest(prev, e, posts[x.entry_id]) != x.hash:
                return ChainReport(checked, 0, x.entry_id, "記録の内容がハッシュと一致しません（改ざんの疑い）")
            prev, seq, checked = x.hash, x.seq, checked + 1
    unsealed = conn.execute(select(func.count()).select_from(Entry).outerjoin(
        EntrySeal, EntrySeal.entry_id == Entry.id).where(EntrySeal.entry_id.is_(None))).scalar_one()
    return ChainReport(checked, unsealed, None)
