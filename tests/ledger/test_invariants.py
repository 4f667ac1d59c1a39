"""The five invariants, the hash chain catching tampering, and `machi audit verify`."""
from __future__ import annotations

from ledger import invariants
from ledger.services import payments, sales
from tests.ledger.conftest import tamper


def _report(town):
    town.sealer.seal(town.db)
    with town.db.session() as s:
        return invariants.check_all(s.connection(), sealer=town.sealer)


def test_a_busy_ledger_keeps_every_invariant(town):
    sales.sell(town.uow, resident_id=town.alice, offer_code="SET", sets=1, idempotency_key="b")
    p = payments.pay(town.uow, resident_id=town.alice, merchant_id=town.small, amount=7_000, idempotency_key="p")
    payments.refund(town.uow, payment_entry_id=p.entry_id, merchant_id=town.small, idempotency_key="r")
    rep = _report(town)
    assert rep.ok, invariants.format_report(rep)
    assert rep.facts["sealed"] == rep.facts["entries"] == 3


def test_editing_an_entry_breaks_the_chain(town):
    town.give(town.alice, "COMMON", 1_000)
    payments.pay(town.uow, resident_id=town.alice, merchant_id=town.small, amount=100, idempotency_key="p")
    town.sealer.seal(town.db)
    tamper(town.db, "UPDATE entries SET amount = 99 WHERE kind = 'payment'")
    rep = _report(town)
    assert not rep.ok and rep.problems["3"]
    assert "改ざん" in invariants.format_report(rep)


def test_unbalanced_postings_and_lot_drift_are_reported(town):
    town.give(town.alice, "COMMON", 1_000)
    town.sealer.seal(town.db)
    tamper(town.db, "UPDATE lots SET remaining = remaining + 5", "UPDATE postings SET amount = amount + 1 WHERE amount > 0")
    rep = _report(town)
    assert rep.problems["1"] and rep.problems["2"]


def test_sealing_is_incremental(town):
    town.give(town.alice, "COMMON", 1_000)
    assert town.sealer.seal(town.db).sealed["entries"] == 1
    town.give(town.bob, "COMMON", 1_000)
    assert town.sealer.seal(town.db).sealed["entries"] == 1
    assert town.sealer.seal(town.db).sealed["entries"] == 0
