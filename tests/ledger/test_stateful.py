"""Random sequences of ledger operations against a simple model; every invariant after every step."""
from __future__ import annotations

import os
import shutil
import tempfile
from datetime import date

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from ledger import chain, errors, invariants, keys, registry
from ledger.db import Database
from ledger.events import MessageBus
from ledger.policy import Policy
from ledger.queries import balances
from ledger.services import issuing, payments, transfers
from ledger.uow import UnitOfWork
from tests.conftest import PG_URL, _truncate_all

LIMIT = 20_000


def build(url: str):
    db = Database(url)
    with db.write() as s:
        registry.create_money_type(s, code="C", name="共通", kind="prepaid", valid_until=date(2099, 1, 1))
        registry.create_money_type(s, code="L", name="専用", kind="prepaid", valid_until=date(2099, 1, 1),
                                   accepted_category="small")
        registry.create_money_type(s, code="P", name="pt", kind="point", validity_days=999)
        registry.add_exchange_rule(s, "P", "C", 100, 100)
        registry.create_merchant(s, code="S", name="s", category="small")
        registry.create_merchant(s, code="B", name="b", category="large")
        people = [registry.create_resident(s, line_user_id=f"U{i:032d}") for i in range(3)]
        ids = [(p.id, p.account_id) for p in people]
    return db, UnitOfWork(db, MessageBus(), Policy(max_payment=5_000, max_wallet_balance=LIMIT)), ids


@pytest.fixture
def machine_factory(db_url, tmp_path):
    def make():
        class LedgerMachine(RuleBasedStateMachine):
            def __init__(self) -> None:
                super().__init__()
                if PG_URL:
                    _truncate_all(PG_URL)
                    self.db, self.uow, self.people = build(PG_URL)
                else:
                    fd, path = tempfile.mkstemp(suffix=".db", dir=tmp_path)
                    os.close(fd)
                    self.path = path
                    shutil.copyfile(db_url.removeprefix("sqlite:///"), path)
                    self.db, self.uow, self.people = build(f"sqlite:///{path}")
                self.model = {i: {"C": 0, "L": 0, "P": 0} for i in range(3)}
                self.payments: list[tuple[int, int, int, dict]] = []  # entry, person, shop, breakdown
                self.refunded: set[int] = set()
                self.n = 0

            def key(self) -> str:
                self.n += 1
                return f"k{self.n}"

            def total(self, i: int) -> int:
                return sum(self.model[i].values())

            @rule(i=st.integers(0, 2), code=st.sampled_from(["C", "L", "P"]), amount=st.integers(-5, 8_000))
            def issue(self, i, code, amount):
                rid = self.people[i][0]
                try:
                    issuing.issue(self.uow, resident_id=rid, money_type=code, amount=amount, idempotency_key=self.key())
                except errors.InvalidAmount:
                    assert amount <= 0
                except errors.OverBalanceLimit:
                    assert self.total(i) + amount > LIMIT
                else:
                    assert amount > 0 and self.total(i) + amount <= LIMIT
                    self.model[i][code] += amount

            @rule(i=st.integers(0, 2), shop=st.sampled_from(["S", "B"]), amount=st.integers(-1, 6_000))
            def pay(self, i, shop, amount):
                rid = self.people[i][0]
                usable = self.model[i]["C"] + (self.model[i]["L"] if shop == "S" else 0)
                try:
                    res = payments.pay(self.uow, resident_id=rid, merchant_code=shop, amount=amount,
                                       idempotency_key=self.key())
                except errors.InvalidAmount:
                    assert amount <= 0
                except errors.OverPaymentLimit:
                    assert amount > 5_000
                except errors.InsufficientFunds:
                    assert 0 < amount <= 5_000 and usable < amount
                else:
                    assert 0 < amount <= 5_000 and usable >= amount
                    local = min(self.model[i]["L"], amount) if shop == "S" else 0
                    assert res.breakdown.get("L", 0) == local  # 専用券 first
                    self.model[i]["L"] -= local
                    self.model[i]["C"] -= amount - local
                    self.payments.append((res.entry_id, i, shop, res.breakdown))

            @precondition(lambda self: self.payments)
            @rule(data=st.data())
            def refund(self, data):
                entry, i, shop, breakdown = data.draw(st.sampled_from(self.payments))
                merchant_id = 1 if shop == "S" else 2
                try:
                    payments.refund(self.uow, payment_entry_id=entry, merchant_id=merchant_id,
                                    idempotency_key=self.key())
                except errors.AlreadyDone:
                    assert entry in self.refunded
                else:
                    assert entry not in self.refunded
                    self.refunded.add(entry)
                    for code, amt in breakdown.items():
                        self.model[i][code] += amt

            @rule(i=st.integers(0, 2), amount=st.sampled_from([100, 150, 300]))
            def exchange(self, i, amount):
                rid = self.people[i][0]
                try:
                    transfers.exchange(self.uow, resident_id=rid, from_type="P", to_type="C", amount=amount,
                                       idempotency_key=self.key())
                except errors.InvalidInput:
                    assert amount % 100
                except errors.InsufficientFunds:
                    assert self.model[i]["P"] < amount
                else:
                    self.model[i]["P"] -= amount
                    self.model[i]["C"] += amount

            @rule(i=st.integers(0, 2), amount=st.integers(1, 3_000))
            def replay_is_harmless(self, i, amount):
                rid = self.people[i][0]
                key = self.key()
                try:
                    a = payments.pay(self.uow, resident_id=rid, merchant_code="B", amount=amount, idempotency_key=key)
                except errors.LedgerError:
                    return
                b = payments.pay(self.uow, resident_id=rid, merchant_code="B", amount=amount, idempotency_key=key)
                assert a.entry_id == b.entry_id
                self.model[i]["C"] -= amount
                self.payments.append((a.entry_id, i, "B", a.breakdown))

            @invariant()
            def matches_model_and_invariants(self):
                with self.db.session() as s:
                    for i, (_rid, acc) in enumerate(self.people):
                        got = {b.money_type: b.amount for b in balances(s.connection(), acc)}
                        want = {k: v for k, v in self.model[i].items() if v}
                        assert got == want
                sealer = chain.Sealer(keys.seal_key("stateful"))
                sealer.seal(self.db)
                with self.db.session() as s:
                    rep = invariants.check_all(s.connection(), sealer=sealer)
                assert rep.ok, invariants.format_report(rep)

            def teardown(self):
                self.db.dispose()
                for suffix in ("", "-wal", "-shm", ".lock"):
                    if getattr(self, "path", None) and os.path.exists(self.path + suffix):
                        os.remove(self.path + suffix)

        return LedgerMachine

    return make


def test_ledger_state_machine(machine_factory):
    run_state_machine_as_test(
        machine_factory(),
        settings=settings(max_examples=25, stateful_step_count=25, deadline=None,
                          suppress_health_check=list(HealthCheck)),
    )

