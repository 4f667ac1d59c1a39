"""The bot's own tables: the webhook inbox and the deployed rich menus.

The inbox is what makes "each `webhookEventId` processed once" hold across restarts and server
processes: the id is the primary key, so the database refuses a second copy whichever process
receives it. An event is claimed (pending → processing) by exactly one worker before it runs; the
raw event is kept only until then (it may hold a resident's message) and dropped on claim.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db import Base
from ledger.models._types import utcnow

INBOX_STATUSES = ("pending", "processing", "done", "failed", "skipped")


class WebhookEvent(Base):
    """One webhook event received from LINE (or a once-only key such as a group note)."""

    __tablename__ = "bot_webhook_events"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)  # webhookEventId
    kind: Mapped[str] = mapped_column(String(32), default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    body: Mapped[dict | None] = mapped_column(JSON)  # the raw event until it is claimed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    done_at: Mapped[datetime | None] = mapped_column(DateTime)
    __table_args__ = (Index("ix_bot_webhook_events_status_received", "status", "received_at"),)


class RichMenuDeployment(Base):
    """The rich menus `machi richmenu deploy` made last: menu key (`resident`, `shop-en`) → LINE id,
    so linking a user after registration or a staff role change finds the right menu."""

    __tablename__ = "bot_rich_menus"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    rich_menu_id: Mapped[str] = mapped_column(String(100))
    deployed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
