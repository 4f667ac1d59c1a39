"""Who on the staff did what, when, with which parameters (never personal data in logs)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db import Base
from ledger.models._types import BigId, pk, utcnow


class AuditLog(Base):
    __tablename__ = "audit_log"
    id: Mapped[pk]
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict | None] = mapped_column(JSON)
    result: Mapped[str] = mapped_column(String(400), default="")


class AuditSeal(Base):
    """The audit log's hash chain, kept like the journal's (`EntrySeal`): sealed in batches after
    the records commit, so writing a record never waits on the previous record's hash."""

    __tablename__ = "audit_seals"
    audit_id: Mapped[int] = mapped_column(BigId, ForeignKey("audit_log.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigId, unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
