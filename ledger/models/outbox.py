"""Domain events waiting to be told: written in the transaction that caused them, removed once relayed."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db import Base
from ledger.models._types import pk


class OutboxEvent(Base):
    __tablename__ = "outbox"
    id: Mapped[pk]
    kind: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    origin: Mapped[str | None] = mapped_column(String(64))  # who asked for the change (opaque to the ledger)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime)  # a relay's lease while it tells the event
