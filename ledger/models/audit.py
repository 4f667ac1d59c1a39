"""Who on the staff did what, when, with which parameters (never personal data in logs)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db import Base
from ledger.models._types import pk, utcnow


class AuditLog(Base):
    __tablename__ = "audit_log"
    id: Mapped[pk]
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict | None] = mapped_column(JSON)
    result: Mapped[str] = mapped_column(String(400), default="")
