"""Residents, merchants and their staff, proxies and plastic cards."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db import Base
from ledger.models._types import BigId, pk, utcnow

RESIDENT_STATUSES = ("active", "suspended", "moved_out", "deceased", "withdrawn")
VERIFICATIONS = ("unverified", "counter", "mynumber")


class Resident(Base):
    """A person of the town. `line_user_id` is empty for card-only residents."""

    __tablename__ = "residents"
    id: Mapped[pk]
    line_user_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("accounts.id"), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    name_kana: Mapped[str] = mapped_column(String(100), default="")
    birth_date: Mapped[date | None] = mapped_column(Date)
    district: Mapped[str] = mapped_column(String(50), default="")
    household_code: Mapped[str | None] = mapped_column(String(32), index=True)
    household_size: Mapped[int | None] = mapped_column(Integer)
    children: Mapped[int] = mapped_column(Integer, default=0)
    phone: Mapped[str | None] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(8), default="ja")
    verification: Mapped[str] = mapped_column(String(16), default="unverified")
    verified_at: Mapped[datetime | None] = mapped_column(DateTime)
    terms_consented_at: Mapped[datetime | None] = mapped_column(DateTime)
    privacy_consented_at: Mapped[datetime | None] = mapped_column(DateTime)
    registered_at: Mapped[datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), default="active")
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class District(Base):
    """地区: the town's districts as residents choose them, with the name an English reader sees."""

    __tablename__ = "districts"
    id: Mapped[pk]
    name: Mapped[str] = mapped_column(String(50), unique=True)
    name_en: Mapped[str] = mapped_column(String(100), default="")


class ResidentProxy(Base):
    """A family member who may act for a resident (代理人)."""

    __tablename__ = "resident_proxies"
    id: Mapped[pk]
    resident_id: Mapped[int] = mapped_column(BigId, ForeignKey("residents.id"))
    proxy_resident_id: Mapped[int] = mapped_column(BigId, ForeignKey("residents.id"))
    relation: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    __table_args__ = (UniqueConstraint("resident_id", "proxy_resident_id"),)


class Merchant(Base):
    """A shop. `category` decides which 専用券 it takes; fees are in basis points (integers)."""

    __tablename__ = "merchants"
    id: Mapped[pk]
    code: Mapped[str] = mapped_column(String(16), unique=True)
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("accounts.id"), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_kana: Mapped[str] = mapped_column(String(100), default="")
    category: Mapped[str] = mapped_column(String(16), default="small")
    fee_rate_bp: Mapped[int] = mapped_column(Integer, default=0)
    bank_code: Mapped[str | None] = mapped_column(String(4))
    branch_code: Mapped[str | None] = mapped_column(String(3))
    account_type: Mapped[str | None] = mapped_column(String(1))
    account_number: Mapped[str | None] = mapped_column(String(7))
    account_holder_kana: Mapped[str | None] = mapped_column(String(30))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class MerchantStaff(Base):
    """A LINE user who works a shop's till: owner or clerk."""

    __tablename__ = "merchant_staff"
    id: Mapped[pk]
    merchant_id: Mapped[int] = mapped_column(BigId, ForeignKey("merchants.id"))
    line_user_id: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(8), default="clerk")
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    __table_args__ = (UniqueConstraint("merchant_id", "line_user_id"),)


class Card(Base):
    """A plastic card for a resident without a smartphone. The PIN is kept as a slow hash."""

    __tablename__ = "cards"
    id: Mapped[pk]
    number: Mapped[str] = mapped_column(String(20), unique=True)
    resident_id: Mapped[int] = mapped_column(BigId, ForeignKey("residents.id"), index=True)
    pin_hash: Mapped[str] = mapped_column(String(200))
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), default="active")
    issued_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # One card in use per resident: a second active one is refused by the database (migration 0011).
    __table_args__ = (Index("uq_cards_one_active_per_resident", "resident_id", unique=True,
                            sqlite_where=text("status = 'active'"), postgresql_where=text("status = 'active'")),)
