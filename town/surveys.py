"""Survey and form answers (one per survey per resident): the table the chat's survey flows write
(`flows.surveys`) and the town's reports read, kept with the town's tables so reports need no flows."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ledger.clock import utcnow
from ledger.db import Base
from ledger.models._types import pk


class SurveyResponse(Base):
    """One resident's answers to one survey (or form); a second one is refused by the database."""

    __tablename__ = "survey_responses"
    id: Mapped[pk]
    survey_id: Mapped[str] = mapped_column(String(64))
    resident_key: Mapped[str] = mapped_column(String(100))
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    score: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    __table_args__ = (UniqueConstraint("survey_id", "resident_key"),)
