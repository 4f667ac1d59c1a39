"""Tables the staff command keeps: announcements and their delivery chunks, expiry reminders sent,
grant runs and staff settings (the town's bank account for payouts, payout days).

A delivery is cut into chunks that are written down before the first one is sent, each with its own
retry key, so a run that crashed half-way resumes where it stopped and never sends a chunk twice.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db import Base
from ledger.models._types import BigId, Yen, pk, utcnow

ANNOUNCEMENT_STATUSES = ("draft", "scheduled", "sending", "sent", "failed", "cancelled")


class Announcement(Base):
    """お知らせ: messages to a segment, now or at `scheduled_at`. `ref` makes a system-made one unique
    (the accept button of a claim-type grant, a lottery result), so running again resumes it."""

    __tablename__ = "announcements"
    id: Mapped[pk]
    title: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16), default="announce")  # announce / grant_claim / lottery
    ref: Mapped[str | None] = mapped_column(String(64), unique=True)
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segments.id"))
    criteria: Mapped[dict] = mapped_column(JSON, default=dict)
    exclude_grant: Mapped[str | None] = mapped_column(String(32))  # leave out who already received it
    messages: Mapped[list] = mapped_column(JSON)
    scheduled_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(String(400), default="")
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)


class AnnouncementChunk(Base):
    """≤500 recipients sent in one multicast with one retry key; `sent` once LINE accepted it."""

    __tablename__ = "announcement_chunks"
    id: Mapped[pk]
    announcement_id: Mapped[int] = mapped_column(BigId, ForeignKey("announcements.id"))
    chunk_index: Mapped[int] = mapped_column(Integer)
    recipients: Mapped[list] = mapped_column(JSON)
    retry_key: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending / sent
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    __table_args__ = (UniqueConstraint("announcement_id", "chunk_index"),)


class ReminderLog(Base):
    """One expiry reminder per resident per due date per lead time (30 or 7 days)."""

    __tablename__ = "reminder_log"
    id: Mapped[pk]
    resident_id: Mapped[int] = mapped_column(BigId, ForeignKey("residents.id"))
    due_date: Mapped[date] = mapped_column(Date)
    days_before: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(Yen, default=0)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending / sent / skipped
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    __table_args__ = (UniqueConstraint("resident_id", "due_date", "days_before"),)


class GrantRun(Base):
    """One `machi grant run`: what it did, so staff see a crashed run and what its re-run finished."""

    __tablename__ = "grant_runs"
    id: Mapped[pk]
    program_code: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), default="running")  # running / done / budget / failed
    candidates: Mapped[int] = mapped_column(Integer, default=0)
    awarded: Mapped[int] = mapped_column(Integer, default=0)
    already: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Yen, default=0)
    actor: Mapped[str] = mapped_column(String(64), default="")
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)


class StaffSetting(Base):
    """A setting staff change from the command line (the town's bank account, payout days)."""

    __tablename__ = "staff_settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict] = mapped_column(JSON)
    updated_by: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
