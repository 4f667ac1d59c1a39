"""Which copy of the database this is: one row, made when the schema is made, renewed by a restore."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db import Base


class Installation(Base):
    """One row (id 1). `installation_id` seeds every key this copy gives LINE (`X-Line-Retry-Key`):
    a restored copy, or a second database on the same LINE channel, must never reuse the keys of
    another, or LINE would answer "already accepted" for a different receipt and nobody would get it."""

    __tablename__ = "installation"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    installation_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    restored_from: Mapped[str | None] = mapped_column(String(36))  # the copy this one was restored from
    restored_at: Mapped[datetime | None] = mapped_column(DateTime)
