"""The tamper-evident hash chains over the journal and the staff's audit log.

Records are sealed after they commit, in batches, by the sealing step alone (the scheduler every
few minutes, `machi audit seal`); payments and audit writes never wait on a chain head, and the
newest few minutes are not yet sealed. A seal is an HMAC-SHA256, keyed from the app's secret (kept
outside the database), over the record (an entry with its postings and the lots it credited, or an
audit record) and the previous seal's hash. Each sealing run appends the chains' heads to an anchor
file and the operator's log (`ledger.anchors`), out of the database's reach.

`verify` never seals. It recomputes every seal and reports: a record edited or deleted, seals
deleted (a gap, or records older than `grace` left unsealed), seals made with another key, and
chains that no longer match an anchor (deleted and sealed again).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select, text

from ledger.anchors import Anchor, AnchorLog, Head
from ledger.clock import fmt_jst, utcnow
from ledger.db import Database
from ledger.models import AuditLog, AuditSeal, Entry, EntrySeal, Lot, Posting

log = logging.getLogger(__name__)

GENESIS = "0" * 64
SEAL_GRACE = timedelta(hours=1)  # a record older than this must be sealed (the job runs every 10 minutes)
_PG_LOCK = 7_428_001


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def seal_hash(key: bytes, prev_hash: str, body: bytes) -> str:
    """HMAC-SHA256 over the previous hash and the record's canonical form."""
    return hmac.new(key, prev_hash.encode() + b"\n" + body, hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------- what each chain covers

_ENTRY_COLS = (Entry.id, Entry.kind, Entry.idempotency_key, Entry.amount, Entry.resident_id, Entry.merchant_id,
               Entry.reverses_entry_id, Entry.ref, Entry.actor, Entry.memo, Entry.meta, Entry.created_at)


def _entry_bodies(conn: Connection, ids: list[int]) -> dict[int, bytes]:
    """An entry, its postings and the lots it credited (all but their `remaining`, which moves)."""
    posts: dict[int, list[list[Any]]] = {i: [] for i in ids}
    for p in conn.execute(select(Posting.entry_id, Posting.account_id, Posting.money_type_id, Posting.amount,
                                 Posting.lot_id).where(Posting.entry_id.in_(ids)).order_by(Posting.id)):
        posts[p.entry_id].append([p.account_id, p.money_type_id, p.amount, p.lot_id])
    lots: dict[int, list[list[Any]]] = {i: [] for i in ids}
    for lot in conn.execute(select(Lot.entry_id, Lot.id, Lot.account_id, Lot.money_type_id, Lot.amount,
                                   Lot.expires_at, Lot.accepted_category).where(Lot.entry_id.in_(ids))
                            .order_by(Lot.id)):
        lots[lot.entry_id].append([lot.id, lot.account_id, lot.money_type_id, lot.amount,
                                   lot.expires_at.isoformat(timespec="microseconds") if lot.expires_at else None,
                                   lot.accepted_category])
    out = {}
    for e in conn.execute(select(*_ENTRY_COLS).where(Entry.id.in_(ids))):
        out[e.id] = _canonical({
            "id": e.id, "kind": e.kind, "key": e.idempotency_key, "amount": e.amount, "resident": e.resident_id,
            "merchant": e.merchant_id, "reverses": e.reverses_entry_id, "ref": e.ref, "actor": e.actor,
            "memo": e.memo, "meta": e.meta, "at": e.created_at.isoformat(timespec="microseconds"),
            "postings": posts[e.id], "lots": lots[e.id]})
    return out


def _audit_bodies(conn: Connection, ids: list[int]) -> dict[int, bytes]:
    return {r.id: _canonical({"id": r.id, "at": r.at.isoformat(timespec="microseconds"), "actor": r.actor,
                              "action": r.action, "params": r.params, "result": r.result})
            for r in conn.execute(select(AuditLog.id, AuditLog.at, AuditLog.actor, AuditLog.action,
                                         AuditLog.params, AuditLog.result).where(AuditLog.id.in_(ids)))}


@dataclass(frozen=True)
class _Chain:
    name: str
    label: str  # how staff call one record
    record: type
    seal: type
    seal_id: Any  # the mapped columns
    record_id: Any
    record_time: Any
    bodies: Callable[[Connection, list[int]], dict[int, bytes]]


ENTRIES = _Chain("entries", "仕訳", Entry, EntrySeal, EntrySeal.entry_id, Entry.id, Entry.created_at, _entry_bodies)
AUDIT = _Chain("audit", "操作記録", AuditLog, AuditSeal, AuditSeal.audit_id, AuditLog.id, AuditLog.at, _audit_bodies)
CHAINS = (ENTRIES, AUDIT)


# --------------------------------------------------------------------------- sealing


def _head(conn: Connection, ch: _Chain) -> Head | None:
    row = conn.execute(select(ch.seal.seq, ch.seal_id, ch.seal.hash).order_by(ch.seal.seq.desc()).limit(1)).first()
    return Head(row[0], row[1], row[2]) if row else None


def _seal_batch(conn: Connection, key: bytes, ch: _Chain, batch: int) -> int:
    head = _head(conn, ch)
    seq, prev = (head.seq, head.hash) if head else (0, GENESIS)
    ids = list(conn.execute(select(ch.record_id).outerjoin(ch.seal, ch.seal_id == ch.record_id)
                            .where(ch.seal_id.is_(None)).order_by(ch.record_id).limit(batch)).scalars())
    if not ids:
        return 0
    bodies = ch.bodies(conn, ids)
    now, rows = utcnow(), []
    for rid in ids:
        seq += 1
        h = seal_hash(key, prev, bodies[rid])
        rows.append({ch.seal_id.key: rid, "seq": seq, "prev_hash": prev, "hash": h, "sealed_at": now})
        prev = h
    conn.execute(insert(ch.seal), rows)
    return len(rows)


@dataclass(frozen=True)
class SealRun:
    sealed: dict[str, int]  # chain name → records sealed by this run
    anchor: str | None = None  # the anchor line written, if the heads moved


def seal(db: Database, key: bytes, *, anchors: AnchorLog | None = None, batch: int = 2000) -> SealRun:
    """Seal every record not yet sealed, then anchor the heads. One sealer at a time."""
    sealed = {ch.name: 0 for ch in CHAINS}
    busy = False
    for ch in CHAINS:
        while not busy:
            with db.write() as s:
                conn = s.connection()
                if not db.sqlite and not conn.execute(text(f"SELECT pg_try_advisory_xact_lock({_PG_LOCK})")).scalar():
                    busy = True  # another sealer is at work; it will take ours too, and anchor them
                    break
                n = _seal_batch(conn, key, ch, batch)
            sealed[ch.name] += n
            if n < batch:
                break
    if busy or anchors is None:
        return SealRun(sealed)
    with db.session() as s:
        heads = {ch.name: h for ch in CHAINS if (h := _head(s.connection(), ch)) is not None}
    last = anchors.last()
    if not heads or (last is not None and last.heads == heads):
        return SealRun(sealed)
    line = anchors.append(Anchor(utcnow(), heads))
    log.info("seal anchor %s", line)  # the operator's copy: ids and hashes only, no personal data
    return SealRun(sealed, line)


# --------------------------------------------------------------------------- verifying


@dataclass
class ChainReport:
    sealed: dict[str, int] = field(default_factory=dict)
    unsealed: dict[str, int] = field(default_factory=dict)
    anchors: int = 0  # anchor lines compared
    problems: dict[str, list[str]] = field(default_factory=dict)  # chain name → what is wrong

    @property
    def ok(self) -> bool:
        return not any(self.problems.values())

    def add(self, chain: str, problem: str) -> None:
        self.problems.setdefault(chain, []).append(problem)


def _anchored(anchors: list[Anchor], name: str) -> dict[int, list[tuple[Head, datetime]]]:
    out: dict[int, list[tuple[Head, datetime]]] = {}
    for a in anchors:
        if name in a.heads:
            out.setdefault(a.heads[name].seq, []).append((a.heads[name], a.at))
    return out


def _walk(conn: Connection, key: bytes, ch: _Chain, rep: ChainReport, anchors: list[Anchor],
          batch: int, limit: int) -> None:
    """Every seal from the first: the links, each record's HMAC, and the anchors on the way."""
    pinned = _anchored(anchors, ch.name)
    moved: list[tuple[datetime, int]] = []  # anchors whose seal now differs
    prev, expected, checked, last_seq = GENESIS, 1, 0, 0
    bad: list[int] = []
    while True:
        seals = conn.execute(select(ch.seal_id, ch.seal.seq, ch.seal.prev_hash, ch.seal.hash)
                             .where(ch.seal.seq > last_seq).order_by(ch.seal.seq).limit(batch)).all()
        if not seals:
            break
        bodies = ch.bodies(conn, [x[0] for x in seals])
        for rid, seq, prev_hash, h in seals:
            if seq != expected:
                gone = f"{expected}" if seq - 1 == expected else f"{expected}〜{seq - 1}"
                rep.add(ch.name, f"{ch.label}の封印 {gone} 番が削除されています")
            elif prev_hash != prev:
                rep.add(ch.name, f"{ch.label}の封印 {seq} 番が直前の封印とつながっていません（封印の書き換え）")
            body = bodies.get(rid)
            if body is None:
                rep.add(ch.name, f"{ch.label} {rid} が削除されています（封印 {seq} 番）")
            elif not hmac.compare_digest(seal_hash(key, prev_hash, body), h):
                bad.append(rid)
            moved += [(at, seq) for pin, at in pinned.pop(seq, []) if (pin.id, pin.hash) != (rid, h)]
            prev, expected, last_seq, checked = h, seq + 1, seq, checked + 1
    rep.sealed[ch.name] = checked
    if bad and len(bad) == checked:
        rep.add(ch.name, f"{ch.label}の封印 {checked:,} 件がすべて鍵と合いません: 別の鍵で封印し直されたか、"
                         "MACHI_SECRET_KEY が封印した時と違います")
    else:
        rep.problems.setdefault(ch.name, []).extend(
            f"{ch.label} {rid} の内容が封印と一致しません（改ざんの疑い）" for rid in bad[:limit])
        if len(bad) > limit:
            rep.add(ch.name, f"ほかに {len(bad) - limit:,} 件の{ch.label}が封印と一致しません")
    if moved:
        at, seq = min(moved)
        rep.add(ch.name, f"{ch.label}の封印 {seq} 番が {fmt_jst(at)} のアンカーと一致しません: 封印が作り直されています"
                         + (f"（ほか {len(moved) - 1:,} 件のアンカー）" if len(moved) > 1 else ""))
    if pinned:
        seq = min(pinned)
        at = pinned[seq][0][1]
        rep.add(ch.name, f"{fmt_jst(at)} のアンカーにある{ch.label}の封印 {seq} 番がありません: 封印が削除されています")


def _unsealed(conn: Connection, ch: _Chain, rep: ChainReport, before: datetime) -> None:
    base = (select(func.count(), func.min(ch.record_id)).select_from(ch.record)
            .outerjoin(ch.seal, ch.seal_id == ch.record_id).where(ch.seal_id.is_(None)))
    rep.unsealed[ch.name] = conn.execute(base).one()[0]
    late, oldest = conn.execute(base.where(ch.record_time < before)).one()
    if late:
        rep.add(ch.name, f"封印されていない古い{ch.label}が {late:,} 件あります（{ch.label} {oldest} から）: "
                         "封印が削除されたか、封印の処理（machi scheduler）が止まっています")


def verify(conn: Connection, key: bytes, *, anchors: AnchorLog | None = None, now: datetime | None = None,
           grace: timedelta = SEAL_GRACE, batch: int = 5000, limit: int = 20) -> ChainReport:
    """Check both chains against the key and the anchors, changing nothing."""
    rep = ChainReport(problems={ch.name: [] for ch in CHAINS})
    lines: list[Anchor] = []
    if anchors is not None:
        lines, unreadable = anchors.read()
        rep.anchors = len(lines)
        if unreadable:
            rep.add("entries", f"アンカーファイル {anchors.path} の {unreadable[0]} 行目が読めません（書き換えの疑い）")
    for ch in CHAINS:
        _walk(conn, key, ch, rep, lines, batch, limit)
        _unsealed(conn, ch, rep, (now or utcnow()) - grace)
    return rep


@dataclass(frozen=True)
class Sealer:
    """What sealing and verifying need beyond the database: the key and where anchors go.

    Built once by the composition root (`app.build_core`) from the app's secret."""

    key: bytes = field(repr=False)
    anchors: AnchorLog | None = None
    grace: timedelta = SEAL_GRACE

    def seal(self, db: Database, batch: int = 2000) -> SealRun:
        return seal(db, self.key, anchors=self.anchors, batch=batch)

    def verify(self, conn: Connection, now: datetime | None = None) -> ChainReport:
        return verify(conn, self.key, anchors=self.anchors, now=now, grace=self.grace)
