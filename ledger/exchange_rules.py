"""Which exchange rule holds at a moment: per pair of money types, the one with the latest
`effective_from` not after it. A rule is changed by adding a row, never by editing one, so an
exchange is always priced by the rule of its own time."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.models import ExchangeRule


def rule_at(session: Session, from_type_id: int, to_type_id: int, at: datetime) -> ExchangeRule | None:
    return session.execute(
        select(ExchangeRule).where(ExchangeRule.from_type_id == from_type_id, ExchangeRule.to_type_id == to_type_id,
                                   ExchangeRule.effective_from <= at)
        .order_by(ExchangeRule.effective_from.desc()).limit(1)).scalar()


def rules_at(session: Session, at: datetime) -> list[ExchangeRule]:
    """Every pair's rule in effect at `at`, in the order the pairs were first offered."""
    current: dict[tuple[int, int], ExchangeRule] = {}
    first: dict[tuple[int, int], int] = {}
    for rule in session.execute(select(ExchangeRule).where(ExchangeRule.effective_from <= at)
                                .order_by(ExchangeRule.effective_from, ExchangeRule.id)).scalars():
        pair = (rule.from_type_id, rule.to_type_id)
        first.setdefault(pair, rule.id)
        current[pair] = rule
    return sorted(current.values(), key=lambda r: first[(r.from_type_id, r.to_type_id)])
