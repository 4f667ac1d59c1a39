"""Announcements (お知らせ) to a segment: stored first, then delivered chunk by chunk.

Before the first message leaves, the recipients are fixed and cut into chunks of at most 500, each
written down with its own retry key. Each chunk is marked sent once LINE accepted it. A run that
crashed is run again: chunks already marked are skipped, and the one in flight at the crash goes again
with the same retry key, which LINE answers with 409 (already accepted) — so nobody gets it twice and
nobody is left out. Residents without LINE, or who blocked the account, are skipped and counted.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ledger.clock import jst_date, utcnow
from ledger.db import Database
from ledger.errors import InvalidInput, LedgerError, NotAllowed, NotFound
from ledger.models import Resident
from ledger.segments import segment_query, validate_criteria
from ledger.services import grants
from town.models import Announcement, AnnouncementChunk
from town.sender import Sender

CHUNK = 500
# A scheduled announcement missed by more than this (the scheduler was down) is not sent late: "the
# festival is tomorrow" months after the festival misleads. It is marked expired and staff are told.
STALE_AFTER = timedelta(days=1)
EXPIRED = "expired"  # 期限切れ（送っていません）
STATUS_JA = {"draft": "下書き", "scheduled": "予約", "sending": "送信中", "sent": "送信済み", "failed": "送信失敗",
             "cancelled": "取り消し", EXPIRED: "期限切れ（予定を過ぎたため送っていません）"}
NOTICE_KINDS = ("grant_notice",)


class DeliveryFailed(LedgerError):
    code = "delivery_failed"
    message = "LINEへの送信に失敗しました。時間をおいて `machi announce send <番号>` で続きから送ってください。"


@dataclass(frozen=True)
class Audience:
    user_ids: list[str]
    matched: int  # residents the segment selects
    skipped: int  # of those, without LINE or unreachable (blocked the account)


@dataclass(frozen=True)
class DeliveryReport:
    announcement_id: int
    status: str
    recipients: int
    skipped: int
    chunks: int
    sent_now: int
    sent_before: int


def audience(conn: Any, criteria: dict[str, Any], today: date, *, exclude_grant: str | None = None) -> Audience:
    """Every active resident the criteria select, minus who cannot be reached on LINE."""
    base = segment_query(criteria, today)
    if exclude_grant:
        base = base.where(~grants.received(exclude_grant))
    matched = conn.execute(select(func.count()).select_from(base.order_by(None).subquery())).scalar_one()
    q = (base.with_only_columns(Resident.line_user_id)
         .where(Resident.line_user_id.is_not(None), Resident.reachable.is_(True)))
    ids = list(conn.execute(q).scalars())
    return Audience(ids, matched, matched - len(ids))


def create(db: Database, *, title: str, messages: list[dict[str, Any]], criteria: dict[str, Any],
           segment_id: int | None = None, scheduled_at: datetime | None = None, kind: str = "announce",
           ref: str | None = None, exclude_grant: str | None = None, actor: str = "",
           now: datetime | None = None) -> int:
    """Store an announcement; with `ref`, an existing one of that ref is returned instead (re-runs)."""
    if not title.strip():
        raise InvalidInput("お知らせの件名（--title）を入れてください。")
    validate_criteria(criteria)
    now = now or utcnow()
    if scheduled_at is not None and scheduled_at <= now:
        raise InvalidInput("予約日時が過去です。未来の日時（日本時間）を指定してください。")
    with db.write() as s:
        if ref is not None:
            found = s.execute(select(Announcement.id).where(Announcement.ref == ref)).scalar()
            if found is not None:
                return found
        row = Announcement(title=title[:100], kind=kind, ref=ref, segment_id=segment_id, criteria=criteria,
                           exclude_grant=exclude_grant, messages=messages, scheduled_at=scheduled_at,
                           status="scheduled" if scheduled_at else "draft", created_by=actor, created_at=now)
        s.add(row)
        s.flush()
        return row.id


def _prepare(db: Database, ann_id: int, now: datetime) -> None:
    """Fix the recipients and write the chunks down, once; a second caller finds them written."""
    try:
        with db.write() as s:
            if s.execute(select(AnnouncementChunk.id).where(AnnouncementChunk.announcement_id == ann_id)
                         .limit(1)).first():
                return
            ann = s.get(Announcement, ann_id)
            if ann.kind in NOTICE_KINDS:
                return  # its recipients are appended as they become known (append_recipients), never a segment
            aud = audience(s.connection(), ann.criteria or {}, jst_date(now), exclude_grant=ann.exclude_grant)
            rows = [{"announcement_id": ann_id, "chunk_index": i, "recipients": aud.user_ids[start:start + CHUNK],
                     "retry_key": f"announce:{ann_id}:{i}", "status": "pending"}
                    for i, start in enumerate(range(0, len(aud.user_ids), CHUNK))]
            if rows:
                s.execute(insert(AnnouncementChunk), rows)
            ann.status, ann.recipients, ann.skipped, ann.started_at = "sending", len(aud.user_ids), aud.skipped, now
    except IntegrityError:
        return  # another runner wrote them first (PostgreSQL); theirs are used


def deliver(db: Database, sender: Sender, ann_id: int, *, on_chunk: Callable[[int], None] | None = None,
            on_total: Callable[[int], None] | None = None) -> DeliveryReport:
    """Send what is not yet sent. Safe to call again after any crash or failure."""
    with db.session() as s:
        ann = s.get(Announcement, ann_id)
        if ann is None:
            raise NotFound(f"お知らせ {ann_id} はありません。")
        if ann.status == "cancelled":
            raise NotAllowed(f"お知らせ {ann_id} は取り消されています。")
    _prepare(db, ann_id, utcnow())
    return send_pending(db, sender, ann_id, on_chunk=on_chunk, on_total=on_total)


def send_pending(db: Database, sender: Sender, ann_id: int, *, on_chunk: Callable[[int], None] | None = None,
                 on_total: Callable[[int], None] | None = None, finish: bool = True) -> DeliveryReport:
    """Multicast every chunk not yet marked sent, each with its own retry key, marking it after LINE accepted."""
    with db.session() as s:
        messages = s.get(Announcement, ann_id).messages
        chunks = s.execute(select(AnnouncementChunk.id, AnnouncementChunk.chunk_index, AnnouncementChunk.status)
                           .where(AnnouncementChunk.announcement_id == ann_id)
                           .order_by(AnnouncementChunk.chunk_index)).all()
    pending = [c for c in chunks if c.status != "sent"]
    if on_total:
        on_total(len(pending))
    sent_now = 0
    for c in pending:
        with db.session() as s:
            row = s.get(AnnouncementChunk, c.id)
            recipients, key = list(row.recipients), row.retry_key
        try:
            sender.multicast(recipients, messages, key)
        except Exception as exc:  # noqa: BLE001 - any failure leaves the chunk pending for the re-run
            with db.write() as s:
                s.execute(update(Announcement).where(Announcement.id == ann_id).values(
                    status="failed", error=f"chunk {c.chunk_index}: {type(exc).__name__}: {str(exc)[:300]}"))
            raise DeliveryFailed(f"お知らせ {ann_id} の送信が {c.chunk_index + 1}/{len(chunks)} 番目のまとまりで失敗しました"
                                 f"（{type(exc).__name__}）。`machi announce send {ann_id}` で続きから送れます。") from exc
        with db.write() as s:
            s.execute(update(AnnouncementChunk).where(AnnouncementChunk.id == c.id)
                      .values(status="sent", sent_at=utcnow()))
        sent_now += 1
        if on_chunk:
            on_chunk(1)
    with db.write() as s:
        ann = s.get(Announcement, ann_id)
        if finish:
            ann.status, ann.finished_at, ann.error = "sent", ann.finished_at or utcnow(), ""
        return DeliveryReport(ann_id, ann.status, ann.recipients, ann.skipped, len(chunks), sent_now,
                              len(chunks) - len(pending))


def covered(db: Database, ann_id: int) -> set[str]:
    """Every LINE user id already written into a chunk of this announcement (sent or about to be)."""
    with db.session() as s:
        return {u for rec in s.execute(select(AnnouncementChunk.recipients)
                                       .where(AnnouncementChunk.announcement_id == ann_id)).scalars() for u in rec}


def append_recipients(db: Database, ann_id: int, user_ids: list[str], *, skipped: int = 0) -> int:
    """Add recipients to an open announcement as new chunks (≤500, each with its own retry key).

    Used where recipients become known over time (the notice of a push-type grant, batch after batch):
    the chunk is written before it is sent, so a crash leaves it pending, never lost. Returns chunks added.
    """
    with db.write() as s:
        last = s.execute(select(func.max(AnnouncementChunk.chunk_index))
                         .where(AnnouncementChunk.announcement_id == ann_id)).scalar()
        start = -1 if last is None else last
        rows = [{"announcement_id": ann_id, "chunk_index": start + 1 + n, "recipients": user_ids[i:i + CHUNK],
                 "retry_key": f"announce:{ann_id}:{start + 1 + n}", "status": "pending"}
                for n, i in enumerate(range(0, len(user_ids), CHUNK))]
        if rows:
            s.execute(insert(AnnouncementChunk), rows)
        ann = s.get(Announcement, ann_id)
        ann.recipients = (ann.recipients or 0) + len(user_ids)
        ann.skipped = (ann.skipped or 0) + skipped
        if rows and ann.status in ("draft", "scheduled", "sent"):
            ann.status = "sending"
        ann.started_at = ann.started_at or utcnow()
        return len(rows)


def expire_stale(db: Database, now: datetime | None = None) -> list[tuple[int, str, datetime]]:
    """Mark scheduled announcements missed by more than STALE_AFTER, none of whose messages left, as
    expired (never sent); returns (id, title, scheduled time) of each, for staff to be told."""
    now = now or utcnow()
    with db.write() as s:
        stale = s.execute(select(Announcement).where(
            Announcement.status.in_(("scheduled", "failed")), Announcement.scheduled_at < now - STALE_AFTER,
            ~exists().where(AnnouncementChunk.announcement_id == Announcement.id,
                            AnnouncementChunk.status == "sent"))).scalars().all()
        out = []
        for ann in stale:
            ann.status = EXPIRED
            out.append((ann.id, ann.title, ann.scheduled_at))
        return out


def due(db: Database, now: datetime | None = None) -> list[int]:
    """Scheduled announcements whose time has come (a failed scheduled one again), and any a crashed run
    left half-sent. Those missed by more than STALE_AFTER are expired first (`expire_stale`), not sent."""
    now = now or utcnow()
    expire_stale(db, now)
    with db.session() as s:
        return list(s.execute(select(Announcement.id).where(
            (Announcement.status.in_(("scheduled", "failed")) & (Announcement.scheduled_at <= now))
            | (Announcement.status == "sending")).order_by(Announcement.id)).scalars())


def cancel(db: Database, ann_id: int) -> None:
    with db.write() as s:
        ann = s.get(Announcement, ann_id)
        if ann is None:
            raise NotFound(f"お知らせ {ann_id} はありません。")
        if ann.status not in ("draft", "scheduled"):
            raise NotAllowed(f"お知らせ {ann_id} は送信を始めているため取り消せません（状態: {ann.status}）。")
        ann.status = "cancelled"
