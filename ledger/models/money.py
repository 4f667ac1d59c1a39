"""Money types, accounts, lots and the append-only journal (DESIGN.md §2)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db import Base
from ledger.models._types import BigId, Yen, pk, utcnow

MONEY_KINDS = ("prepaid", "grant", "point", "coupon")
WALLET_KINDS = ("resident", "merchant")
INTERNAL_KINDS = ("issuer", "breakage", "fee", "clearing", "correction")


class MoneyType(Base):
    """券種. `accepted_category` set means 専用券: only shops of that category take it."""

    __tablename__ = "money_types"
    id: Mapped[pk]
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    kind: Mapped[str] = mapped_column(String(16))
    validity_days: Mapped[int | None] = mapped_column(Integer)
    valid_until: Mapped[date | None] = mapped_column(Date)
    accepted_category: Mapped[str | None] = mapped_column(String(16))
    transferable: Mapped[bool] = mapped_column(Boolean, default=False)
    spendable: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


RULES_ALWAYS = datetime(2000, 1, 1)  # `effective_from` of a rule that has always held


class ExchangeRule(Base):
    """`from_units` of one money type become `to_units` of another, in whole multiples, from
    `effective_from` (UTC) on; a change is a new row, so earlier exchanges keep the rule of their time."""

    __tablename__ = "exchange_rules"
    id: Mapped[pk]
    from_type_id: Mapped[int] = mapped_column(ForeignKey("money_types.id"))
    to_type_id: Mapped[int] = mapped_column(ForeignKey("money_types.id"))
    from_units: Mapped[int] = mapped_column(Integer)
    to_units: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[datetime] = mapped_column(DateTime, default=RULES_ALWAYS,
                                                     server_default=text("'2000-01-01 00:00:00'"))
    __table_args__ = (UniqueConstraint("from_type_id", "to_type_id", "effective_from"),)


class Account(Base):
    """A wallet (resident, merchant) or an internal account kept per money type."""

    __tablename__ = "accounts"
    id: Mapped[pk]
    kind: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(64), unique=True)
    money_type_id: Mapped[int | None] = mapped_column(ForeignKey("money_types.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Lot(Base):
    """A credited amount that payments draw down. `remaining` is the only thing that changes."""

    __tablename__ = "lots"
    id: Mapped[pk]
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("accounts.id"))
    money_type_id: Mapped[int] = mapped_column(ForeignKey("money_types.id"))
    amount: Mapped[int] = mapped_column(Yen)
    remaining: Mapped[int] = mapped_column(Yen)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    accepted_category: Mapped[str | None] = mapped_column(String(16))
    entry_id: Mapped[int] = mapped_column(BigId, ForeignKey("entries.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    __table_args__ = (
        Index("ix_lots_account_open", "account_id", "remaining"),
        Index("ix_lots_expiry", "expires_at", "remaining"),
        CheckConstraint("remaining >= 0", name="remaining_not_negative"),  # the database says no too
    )


class Entry(Base):
    """An immutable journal entry. Never updated or deleted (database triggers refuse it, migration
    0006); corrected by new entries."""

    __tablename__ = "entries"
    id: Mapped[pk]
    kind: Mapped[str] = mapped_column(String(16))
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64), default="")
    amount: Mapped[int] = mapped_column(Yen, default=0)
    resident_id: Mapped[int | None] = mapped_column(BigId, index=True)
    merchant_id: Mapped[int | None] = mapped_column(BigId)
    reverses_entry_id: Mapped[int | None] = mapped_column(BigId, unique=True)
    channel: Mapped[str | None] = mapped_column(String(16))
    ref: Mapped[str | None] = mapped_column(String(64), index=True)
    actor: Mapped[str] = mapped_column(String(64), default="system")
    memo: Mapped[str] = mapped_column(String(400), default="")
    meta: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    __table_args__ = (Index("ix_entries_merchant_time", "merchant_id", "created_at"),
                      # covering: period reports (payments per day, shop, resident) read only this index
                      Index("ix_entries_kind_time_cover", "kind", "created_at", "merchant_id", "resident_id", "amount"))


class Posting(Base):
    """One leg of an entry. The postings of an entry sum to zero per money type."""

    __tablename__ = "postings"
    id: Mapped[pk]
    entry_id: Mapped[int] = mapped_column(BigId, ForeignKey("entries.id"))
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("accounts.id"))
    money_type_id: Mapped[int] = mapped_column(ForeignKey("money_types.id"))
    amount: Mapped[int] = mapped_column(Yen)
    lot_id: Mapped[int | None] = mapped_column(BigId)
    __table_args__ = (Index("ix_postings_entry", "entry_id"), Index("ix_postings_account", "account_id", "entry_id"))


class EntrySeal(Base):
    """The hash chain, kept beside the journal: sealing never touches an entry row.

    Entries are sealed in batches in commit order (`seq`), each seal covering the entry, its
    postings and the previous seal's hash, so payments never queue on a single chain head.
    """

    __tablename__ = "entry_seals"
    entry_id: Mapped[int] = mapped_column(BigId, ForeignKey("entries.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigId, unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class PaymentRequest(Base):
    """A shop's charge on a customer's QR, waiting for her 支払う on her own phone (she sees the amount
    before the money moves). Paid when the journal holds an entry under `idempotency_key`."""

    __tablename__ = "payment_requests"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_id: Mapped[str] = mapped_column(String(64), unique=True)  # one request per QR shown
    resident_id: Mapped[int] = mapped_column(BigId, ForeignKey("residents.id"), index=True)
    merchant_id: Mapped[int] = mapped_column(BigId, ForeignKey("merchants.id"))
    amount: Mapped[int] = mapped_column(Yen)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending / approved / declined / failed
    reason: Mapped[str] = mapped_column(String(400), default="")
    reason_en: Mapped[str] = mapped_column(String(400), default="")
    actor: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class Nonce(Base):
    """A single-use token id (a customer QR, a check-in code), spent inside the entry's transaction."""

    __tablename__ = "nonces"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    entry_id: Mapped[int | None] = mapped_column(BigId)
    used_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
