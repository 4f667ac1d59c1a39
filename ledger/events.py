"""Domain events: what happened in the ledger, published only after the commit.

`bot` subscribes and turns them into LINE pushes; the ledger does not know who listens.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DomainEvent:
    pass


@dataclass(frozen=True)
class PaymentCompleted(DomainEvent):
    entry_id: int
    resident_id: int
    merchant_id: int
    amount: int
    channel: str
    breakdown: dict[str, int] = field(default_factory=dict)
    at: datetime | None = None  # when it was paid (a receipt told late still says when)


@dataclass(frozen=True)
class PaymentRefunded(DomainEvent):
    entry_id: int
    payment_entry_id: int
    resident_id: int
    merchant_id: int
    amount: int
    at: datetime | None = None


@dataclass(frozen=True)
class MoneyIssued(DomainEvent):
    """A grant, points or coupon credited to a resident."""

    entry_id: int
    resident_id: int
    money_type: str
    amount: int
    reason: str  # grant / points / coupon / event
    ref: str | None = None
    expires_on: date | None = None


@dataclass(frozen=True)
class CertificatesSold(DomainEvent):
    entry_id: int
    resident_id: int
    price: int
    face: int


@dataclass(frozen=True)
class TransferCompleted(DomainEvent):
    entry_id: int
    from_account: str
    to_account: str
    money_type: str
    amount: int


@dataclass(frozen=True)
class PointsExchanged(DomainEvent):
    entry_id: int
    resident_id: int
    from_type: str
    to_type: str
    spent: int
    received: int


@dataclass(frozen=True)
class LotsExpired(DomainEvent):
    entry_id: int
    money_type: str
    total: int
    lots: int


@dataclass(frozen=True)
class PayoutReady(DomainEvent):
    payout_id: int
    merchant_id: int
    net: int
    period_start: date
    period_end: date


@dataclass(frozen=True)
class EventCheckedIn(DomainEvent):
    entry_id: int
    resident_id: int
    event_code: str
    points: int
    at: datetime | None = None


Handler = Callable[[DomainEvent], None]


class MessageBus:
    """Synchronous publish after commit. A failing handler is logged, never undoes money."""

    def __init__(self) -> None:
        self._handlers: dict[type[DomainEvent], list[Handler]] = defaultdict(list)

    def subscribe(self, event_type: type[DomainEvent], handler: Handler) -> None:
        self._handlers[event_type].append(handler)

    def publish(self, events: list[DomainEvent]) -> None:
        for ev in events:
            for handler in self._handlers.get(type(ev), []):
                try:
                    handler(ev)
                except Exception:  # noqa: BLE001 - a notice failing must not break the ledger
                    log.exception("handler for %s failed", type(ev).__name__)
