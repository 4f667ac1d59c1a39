"""A grant run's batch (`award_many`): the same keys, refusals and ledger rows as one `award` at a time."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from ledger import errors, events, invariants, registry
from ledger.models import Entry, Lot, Posting
from ledger.services import grants


def test_a_batch_credits_the_eligible_and_reports_each_refusal(town):
    with town.db.write() as s:
        erin, carol, frank = (registry.create_resident(s, line_user_id=f"U{i:032d}", children=1, verification="counter",
                                                       registered_at=datetime(2026, 1, 1)).id for i in range(3))
    town.give(erin, "COMMON", 190_000)  # a 30,000 yen grant would take her over the 200,000 yen wallet limit
    grants.award(town.uow, program_code="BABY", resident_id=town.alice)  # budget 60,000: room for one more
    town.events.clear()

    res = grants.award_many(town.uow, program_code="BABY",
                            resident_ids=[town.alice, town.bob, erin, carol, carol, frank])

    assert [(r.resident_id, r.amount) for r in res.awarded] == [(carol, 30_000)]
    assert {rid: type(e) for rid, e in res.refused.items()} == {
        town.alice: errors.AlreadyDone, town.bob: errors.NotEligible, erin: errors.OverBalanceLimit,
        frank: errors.BudgetExhausted}
    assert "200,000円" in res.refused[erin].message
    assert res.budget_exhausted
    assert town.balance(carol, "GRANT") == 30_000
    assert town.balance(erin) == 190_000 and town.balance(frank) == 0
    issued = [e for e in town.events if isinstance(e, events.MoneyIssued)]
    assert [(e.resident_id, e.amount, e.ref, e.expires_on) for e in issued] == [
        (carol, 30_000, "grant:BABY", res.awarded[0].expires_on)]
    assert res.awarded[0].expires_on is not None
    with town.db.session() as s:
        entry = s.execute(select(Entry).where(Entry.id == res.awarded[0].entry_id)).scalar_one()
        assert entry.idempotency_key == grants.grant_key("BABY", carol) and entry.resident_id == carol
        legs = s.execute(select(Posting.amount, Posting.lot_id).where(Posting.entry_id == entry.id)).all()
        assert sorted(a for a, _ in legs) == [-30_000, 30_000]
        lot = s.execute(select(Lot).where(Lot.entry_id == entry.id)).scalar_one()
        assert lot.remaining == 30_000 and lot.expires_at is not None
        assert [lot.id] == [lid for a, lid in legs if a > 0]
        assert invariants.check_all(s.connection(), sealer=town.sealer).ok
    with pytest.raises(errors.AlreadyDone):  # the batch used the same key as a single award
        grants.award(town.uow, program_code="BABY", resident_id=carol)


def test_a_re_run_of_the_same_batch_credits_nobody_twice(town):
    with town.db.write() as s:
        people = [registry.create_resident(s, line_user_id=f"U{i:032d}", children=1, verification="counter",
                                           registered_at=datetime(2026, 1, 1)).id for i in range(2)]
    first = grants.award_many(town.uow, program_code="BABY", resident_ids=people)
    again = grants.award_many(town.uow, program_code="BABY", resident_ids=people)
    assert len(first.awarded) == 2 and not again.awarded
    assert all(isinstance(e, errors.AlreadyDone) for e in again.refused.values())
    assert [town.balance(p, "GRANT") for p in people] == [30_000, 30_000]
