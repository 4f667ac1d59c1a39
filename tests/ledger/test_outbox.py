"""The outbox: a money change and the events that tell it are written in one transaction, and
the relay tells each stored event once, in order, even across a relay that dies half-way."""
from __future__ import annotations

import time
import typing
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from ledger import outbox as outbox_module
from ledger.clock import utcnow
from ledger.events import DomainEvent, MessageBus, MoneyIssued, PaymentCompleted
from ledger.models import OutboxEvent
from ledger.outbox import EVENT_TYPES, LEASE, ORIGIN, Outbox, Relay, decode, encode
from ledger.policy import Policy
from ledger.services import issuing, payments
from ledger.uow import UnitOfWork

SAMPLES = {int: 7, str: "LOCAL", date: date(2027, 3, 31), datetime: datetime(2026, 11, 28, 9, 30, 15, 123456),
           dict: {"LOCAL": 300, "COMMON": 500}}


def sample(cls: type[DomainEvent]) -> DomainEvent:
    kwargs = {}
    for name, hint in typing.get_type_hints(cls).items():
        kinds = [t for t in (typing.get_args(hint) or (hint,)) if t is not type(None)]
        base = typing.get_origin(kinds[0]) or kinds[0]
        kwargs[name] = SAMPLES[base]
    return cls(**kwargs)


@pytest.mark.parametrize("kind", sorted(EVENT_TYPES))
def test_every_event_comes_back_from_the_table_as_it_went_in(kind):
    event = sample(EVENT_TYPES[kind])
    assert decode(kind, encode(event)) == event


@pytest.fixture
def boxed(town):
    """The town's unit of work with an outbox, and the bus a relay tells."""
    outbox = Outbox(town.db)
    uow = UnitOfWork(town.db, town.bus, town.uow.policy, outbox=outbox)
    told: list[tuple[DomainEvent, str | None]] = []
    bus = MessageBus()
    for kind in EVENT_TYPES.values():
        bus.subscribe(kind, lambda ev: told.append((ev, ORIGIN.get())))
    return uow, outbox, bus, told


def stored(db) -> int:
    with db.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(OutboxEvent)).scalar_one()


def test_a_payment_and_its_event_are_written_together_and_a_refusal_writes_neither(town, boxed):
    uow, outbox, bus, told = boxed
    town.give(town.alice, "COMMON", 5_000)  # the staff command's way: stores no event
    token = ORIGIN.set("U-payer")
    try:
        payments.pay(uow, resident_id=town.alice, amount=800, merchant_id=town.small, channel="mpm",
                     idempotency_key="o-1")
        with pytest.raises(Exception):  # noqa: B017 - any refusal: more than the balance
            payments.pay(uow, resident_id=town.alice, amount=10_000_000, merchant_id=town.small, channel="mpm",
                         idempotency_key="o-2")
    finally:
        ORIGIN.reset(token)
    assert stored(town.db) == 1
    Relay(outbox, bus, mode="off").run_once()
    [(event, origin)] = told
    assert isinstance(event, PaymentCompleted) and event.amount == 800 and origin == "U-payer"
    assert event.at is not None
    assert stored(town.db) == 0


def test_inline_relay_tells_right_after_the_commit_in_order(town, boxed):
    uow, outbox, bus, told = boxed
    Relay(outbox, bus, mode="inline")
    for n, amount in enumerate((100, 200, 300)):
        issuing.issue(uow, resident_id=town.bob, money_type="COMMON", amount=amount, idempotency_key=f"o-i-{n}")
    assert [ev.amount for ev, _ in told if isinstance(ev, MoneyIssued)] == [100, 200, 300]
    assert stored(town.db) == 0


def test_a_batch_left_by_a_relay_that_died_is_told_again_when_its_lease_ends(town, boxed, monkeypatch):
    uow, outbox, bus, told = boxed
    issuing.issue(uow, resident_id=town.bob, money_type="COMMON", amount=100, idempotency_key="o-f-1")

    def dies(_timeout: float) -> bool:
        raise RuntimeError("the process died while LINE was answering")

    assert Relay(outbox, bus, mode="off", flush=dies).run_until_empty() == 0
    assert stored(town.db) == 1  # nothing lost
    assert Relay(outbox, bus, mode="off").run_until_empty() == 0  # still leased to the first relay
    later = utcnow() + LEASE + timedelta(seconds=1)
    monkeypatch.setattr(outbox_module, "utcnow", lambda: later)
    assert Relay(outbox, bus, mode="off").run_until_empty() == 1
    assert [ev.amount for ev, _ in told] == [100, 100]  # told twice: listeners carry retry keys
    assert stored(town.db) == 0


def test_the_staff_commands_unit_of_work_stores_nothing(town):
    issuing.issue(UnitOfWork(town.db, town.bus, Policy()), resident_id=town.bob, money_type="COMMON", amount=100,
                  idempotency_key="o-cli")
    assert stored(town.db) == 0


def test_relays_working_side_by_side_tell_each_event_once(town, boxed):
    _uow, outbox, _bus, _told = boxed
    with town.db.write_conn() as conn:
        outbox.record(conn, [MoneyIssued(n, town.bob, "COMMON", 1, "points") for n in range(1, 601)], utcnow())
    heard: list[list[int]] = [[], []]
    relays = []
    for mine in heard:
        bus = MessageBus()
        bus.subscribe(MoneyIssued, lambda ev, mine=mine: mine.append(ev.entry_id))
        relays.append(Relay(outbox, bus, mode="thread", batch=25, poll=0.01))
    try:
        for relay in relays:
            relay.start()
        deadline = time.monotonic() + 30
        while stored(town.db) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        for relay in relays:
            relay.stop(5.0)
    assert sorted(heard[0] + heard[1]) == list(range(1, 601))  # every event, each once
