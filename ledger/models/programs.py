"""Grant programs, events, segments, certificate offers and payouts."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db import Base
from ledger.models._types import BigId, Yen, pk, utcnow


class Segment(Base):
    """A saved filter over residents; `criteria` is read by `ledger.segments`."""

    __tablename__ = "segments"
    id: Mapped[pk]
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(String(400), default="")
    criteria: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class GrantProgram(Base):
    """給付事業: push-type credits without application; claim-type waits for the resident."""

    __tablename__ = "grant_programs"
    id: Mapped[pk]
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    money_type_id: Mapped[int] = mapped_column(ForeignKey("money_types.id"))
    amount: Mapped[int] = mapped_column(Yen)
    mode: Mapped[str] = mapped_column(String(8), default="push")
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segments.id"))
    starts_at: Mapped[datetime | None] = mapped_column(DateTime)
    ends_at: Mapped[datetime | None] = mapped_column(DateTime)
    budget_cap: Mapped[int | None] = mapped_column(Yen)
    per_resident: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # paid only to residents whose 本人確認 is done (what the registration message promises)
    requires_verification: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Event(Base):
    """地域ポイント event: check in with its code inside the window, once per resident."""

    __tablename__ = "events"
    id: Mapped[pk]
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    money_type_id: Mapped[int] = mapped_column(ForeignKey("money_types.id"))
    points: Mapped[int] = mapped_column(Yen)
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    capacity: Mapped[int | None] = mapped_column(Integer)
    place: Mapped[str] = mapped_column(String(100), default="")
    place_en: Mapped[str] = mapped_column(String(100), default="")
    rotating: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class SaleOffer(Base):
    """A premium certificate set: pay `price`, receive `components` (money type code → face)."""

    __tablename__ = "sale_offers"
    id: Mapped[pk]
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    price: Mapped[int] = mapped_column(Yen)
    components: Mapped[dict] = mapped_column(JSON)
    per_resident_limit: Mapped[int] = mapped_column(Integer, default=5)
    total_sets: Mapped[int | None] = mapped_column(Integer)
    lottery: Mapped[bool] = mapped_column(Boolean, default=False)
    starts_at: Mapped[datetime | None] = mapped_column(DateTime)
    ends_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class PayoutBatch(Base):
    """One payout run for a period; re-running the same period resumes it."""

    __tablename__ = "payout_batches"
    id: Mapped[pk]
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    transfer_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    __table_args__ = (UniqueConstraint("period_start", "period_end"),)


class Payout(Base):
    """精算: what one shop is paid for one batch, per money type summed."""

    __tablename__ = "payouts"
    id: Mapped[pk]
    batch_id: Mapped[int] = mapped_column(BigId, ForeignKey("payout_batches.id"))
    merchant_id: Mapped[int] = mapped_column(BigId, ForeignKey("merchants.id"))
    gross: Mapped[int] = mapped_column(Yen)
    refunds: Mapped[int] = mapped_column(Yen, default=0)
    fee: Mapped[int] = mapped_column(Yen)
    net: Mapped[int] = mapped_column(Yen)
    payments: Mapped[int] = mapped_column(Integer, default=0)
    entry_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("entries.id"))
    status: Mapped[str] = mapped_column(String(16), default="ready")
    paid_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    __table_args__ = (UniqueConstraint("batch_id", "merchant_id"),)


class SaleApplication(Base):
    """An application for an oversubscribed offer; winners may buy until `purchase_until`."""

    __tablename__ = "sale_applications"
    id: Mapped[pk]
    offer_id: Mapped[int] = mapped_column(BigId, ForeignKey("sale_offers.id"))
    resident_id: Mapped[int] = mapped_column(BigId, ForeignKey("residents.id"))
    sets: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="applied")  # applied / won / lost / bought
    applied_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    purchase_until: Mapped[datetime | None] = mapped_column(DateTime)
    __table_args__ = (UniqueConstraint("offer_id", "resident_id"),)


class SaleDraw(Base):
    """The recorded seed of a lottery, so anyone can re-run it and get the same winners."""

    __tablename__ = "sale_draws"
    id: Mapped[pk]
    offer_id: Mapped[int] = mapped_column(BigId, ForeignKey("sale_offers.id"), unique=True)
    seed: Mapped[str] = mapped_column(String(64))
    winners: Mapped[int] = mapped_column(Integer)
    drawn_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64), default="")
