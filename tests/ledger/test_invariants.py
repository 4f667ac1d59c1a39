"""The five invariants, the hash chain catching tampering, and `machi audit verify`."""
from __future__ import annotations

from sqlalchemy import text

from ledger import chain, invariants
from ledger.services import payments, sales
from tests.tamper import disable_journal_guards


def _report(db):
    chain.seal(db)
    with db.session() as s:
        return invariants.check_all(s.connection())


def test_a_busy_ledger_keeps_every_invariant(town):
    sales.sell(town.uow, resident_id=town.alice, offer_code="SET", sets=1, idempotency_key="b")
    p = payments.pay(town.uow, resident_id=town.alice, merchant_id=town.small, amount=7_000, idempotency_key="p")
    payments.refund(town.uow, payment_entry_id=p.entry_id, merchant_id=town.small, idempotency_key="r")
    rep = _report(town.db)
    assert rep.ok, invariants.format_report(rep)
    assert rep.facts["sealed"] == rep.facts["entries"] == 3


def test_editing_an_entry_breaks_the_chain(town):
    town.give(town.alice, "COMMON", 1_000)
    payments.pay(town.uow, resident_id=town.alice, merchant_id=town.small, amount=100, idempotency_key="p")
    chain.seal(town.db)
    with town.db.write() as s:
        disable_journal_guards(s.connection())
        s.execute(text("UPDATE entries SET amount = 99 WHERE kind = 'payment'"))
    rep = _report(town.db)
    assert not rep.ok and rep.problems["3"]
    assert "改ざん" in invariants.format_report(rep)


def test_unbalanced_postings_and_lot_drift_are_reported(town):
    town.give(town.alice, "COMMON", 1_000)
    chain.seal(town.db)
    with town.db.write() as s:
        s.execute(text("UPDATE lots SET remaining = remaining + 5"))
        disable_journal_guards(s.connection())
        s.execute(text("UPDATE postings SET amount = amount + 1 WHERE amount > 0"))
    rep = _report(town.db)
    assert rep.problems["1"] and rep.problems["2"]


def test_sealing_is_incremental(town):
    town.give(town.alice, "COMMON", 1_000)
    assert chain.seal(town.db) == 1
    town.give(town.bob, "COMMON", 1_000)
    assert chain.seal(town.db) == 1
    assert chain.seal(town.db) == 0
