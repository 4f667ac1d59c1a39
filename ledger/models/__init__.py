"""The ledger's tables. Import from here: `from ledger.models import Lot, Entry`."""
from ledger.models.audit import AuditLog, AuditSeal
from ledger.models.installation import Installation
from ledger.models.money import (
    Account,
    Entry,
    EntrySeal,
    ExchangeRule,
    Lot,
    MoneyType,
    Nonce,
    PaymentRequest,
    Posting,
)
from ledger.models.outbox import OutboxEvent
from ledger.models.people import Card, District, Merchant, MerchantStaff, Resident, ResidentProxy
from ledger.models.programs import (
    Event,
    GrantProgram,
    Payout,
    PayoutBatch,
    SaleApplication,
    SaleDraw,
    SaleOffer,
    Segment,
)

__all__ = [
    "Account", "AuditLog", "AuditSeal", "Card", "District", "Entry", "EntrySeal", "Event", "ExchangeRule", "GrantProgram",
    "Installation", "Lot", "Merchant", "MerchantStaff", "MoneyType", "Nonce", "OutboxEvent", "PaymentRequest", "Payout",
    "PayoutBatch", "Posting", "Resident",
    "ResidentProxy", "SaleApplication", "SaleDraw", "SaleOffer", "Segment",
]
