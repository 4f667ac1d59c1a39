"""Limits that hold when many requests arrive at once (issue #14), on SQLite and PostgreSQL.

Each test starts its requests together behind a barrier, on separate threads and so separate
database connections, and then looks at what a resident or the town would notice: how many were
let through, what the wallet holds, what the journal says.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text

from ledger import cards, errors, invariants, registry
from ledger.models import Card, Entry, Event, MoneyType, SaleApplication, SaleOffer
from ledger.services import checkins, grants, payments, sales


@dataclass
class Outcome:
    ok: list[Any] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # LedgerError codes
    unexpected: list[BaseException] = field(default_factory=list)


def at_once(n: int, fn: Callable[[int], Any]) -> Outcome:
    """Run fn(0..n-1) on n threads released together; sort what came back."""
    out = Outcome()
    start = threading.Barrier(n)
    lock = threading.Lock()

    def one(i: int) -> None:
        start.wait()
        try:
            res = fn(i)
            with lock:
                out.ok.append(res)
        except errors.LedgerError as exc:
            with lock:
                out.refused.append(exc.code)
        except BaseException as exc:  # noqa: BLE001
            with lock:
                out.unexpected.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not out.unexpected, out.unexpected
    return out


def residents(town, n: int, **fields: Any) -> list[int]:
    with town.db.write() as s:
        return [registry.create_resident(s, name=f"住民{i}", registered_at=datetime(2026, 1, 1),
                                         **{"verification": "counter", **fields}).id
                for i in range(n)]


def money_type_id(town, code: str) -> int:
    with town.db.session() as s:
        return s.execute(select(MoneyType.id).where(MoneyType.code == code)).scalar_one()


def entries(town, **where: Any) -> int:
    with town.db.session() as s:
        q = select(func.count()).select_from(Entry)
        for col, value in where.items():
            q = q.where(getattr(Entry, col) == value)
        return s.execute(q).scalar_one()


def assert_ledger_ok(town) -> None:
    with town.db.session() as s:
        assert invariants.check_all(s.connection(), chain=False).ok


# ------------------------------------------------------------------ 1. card PIN lockout

def test_sixteen_wrong_pins_at_once_lock_the_card_after_five(town):
    with town.db.write() as s:
        number = cards.issue_card(s, town.bob, "1234").number
    out = at_once(16, lambda i: cards.verify_pin(town.db, number, "9999"))
    assert not out.ok
    # five misses are counted, one by one; every later try meets a locked card and is not even checked
    assert out.refused.count("wrong_pin") == 4
    assert out.refused.count("card_locked") == 12
    with pytest.raises(errors.CardLocked):
        cards.verify_pin(town.db, number, "1234")  # the right PIN does not open a locked card
    with town.db.session() as s:
        assert s.execute(select(Card.locked_until).where(Card.number == number)).scalar_one() is not None


def test_wrong_pins_at_once_with_the_right_one_among_them_never_pass_a_locked_card(town):
    with town.db.write() as s:
        number = cards.issue_card(s, town.bob, "1234").number
    out = at_once(12, lambda i: cards.verify_pin(town.db, number, "1234" if i == 11 else "9999"))
    # the right PIN either came before the fifth miss (and then resets the count) or meets the lock
    assert len(out.ok) <= 1
    assert out.refused.count("wrong_pin") + out.refused.count("card_locked") == 12 - len(out.ok)
    if not out.ok:
        with pytest.raises(errors.CardLocked):
            cards.verify_pin(town.db, number, "1234")


# ------------------------------------------------------------------ 2. event capacity

def test_nine_residents_at_once_to_an_event_of_three(town):
    with town.db.write() as s:
        now = datetime.utcnow()
        s.add(Event(code="SMALL", name="小さな集い", money_type_id=money_type_id(town, "PT"), points=100,
                    starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1), capacity=3))
    people = residents(town, 9)
    out = at_once(9, lambda i: checkins.check_in(town.uow, event_code="SMALL", resident_id=people[i]))
    assert len(out.ok) == 3
    assert out.refused == ["outside_window"] * 6  # 定員に達しました
    with town.db.session() as s:
        ev = s.execute(select(Event.id).where(Event.code == "SMALL")).scalar_one()
    assert entries(town, ref=f"event:{ev}") == 3
    assert_ledger_ok(town)


def test_one_resident_checking_in_ten_times_at_once_gets_the_points_once(town):
    out = at_once(10, lambda i: checkins.check_in(town.uow, event_code="BEACH", resident_id=town.alice))
    assert len(out.ok) == 1 and out.refused == ["already_done"] * 9
    assert town.balance(town.alice, "PT") == 500


# ------------------------------------------------------------------ 3. wallet maximum

def test_ten_check_ins_at_once_never_take_a_wallet_over_its_maximum(town):
    limit = town.uow.policy.max_wallet_balance
    town.give(town.alice, "COMMON", limit - 100)
    pt = money_type_id(town, "PT")
    with town.db.write() as s:
        now = datetime.utcnow()
        for i in range(10):
            s.add(Event(code=f"EV{i}", name=f"行事{i}", money_type_id=pt, points=100,
                        starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1)))
    out = at_once(10, lambda i: checkins.check_in(town.uow, event_code=f"EV{i}", resident_id=town.alice))
    assert len(out.ok) == 1
    assert out.refused == ["over_balance_limit"] * 9
    assert town.balance(town.alice) == limit
    assert_ledger_ok(town)


# ------------------------------------------------------------------ other limits: grants, sales, lotteries

def test_grant_budget_cap_holds_when_many_claim_at_once(town):
    people = residents(town, 6, birth_date=datetime(1990, 1, 1).date(), children=2)
    out = at_once(6, lambda i: grants.award(town.uow, program_code="BABY", resident_id=people[i]))
    assert len(out.ok) == 2  # budget 60,000 / 30,000 each
    assert out.refused == ["budget_exhausted"] * 4
    assert entries(town, ref="grant:BABY") == 2


def test_grant_batch_and_single_claims_at_once_keep_the_wallet_maximum(town):
    limit = town.uow.policy.max_wallet_balance
    with town.db.write() as s:
        s.execute(text("UPDATE grant_programs SET budget_cap = NULL, amount = 100"))
    town.give(town.alice, "COMMON", limit - 100)
    pt = money_type_id(town, "PT")
    with town.db.write() as s:
        now = datetime.utcnow()
        for i in range(5):
            s.add(Event(code=f"EV{i}", name=f"行事{i}", money_type_id=pt, points=100,
                        starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1)))

    def one(i: int) -> Any:
        if i == 0:
            res = grants.award_many(town.uow, program_code="BABY", resident_ids=[town.alice])
            if res.refused:
                raise res.refused[town.alice]
            return res
        return checkins.check_in(town.uow, event_code=f"EV{i}", resident_id=town.alice)

    out = at_once(5, one)
    assert len(out.ok) == 1 and out.refused == ["over_balance_limit"] * 4
    assert town.balance(town.alice) == limit


def test_per_resident_sale_limit_holds_at_once(town):
    out = at_once(6, lambda i: sales.sell(town.uow, resident_id=town.alice, offer_code="SET", sets=1,
                                          idempotency_key=f"sale-{i}"))
    assert len(out.ok) == 2 and out.refused == ["not_allowed"] * 4
    assert town.balance(town.alice) == 2 * 13_000


def test_total_sets_of_an_offer_hold_at_once(town):
    with town.db.write() as s:
        s.add(SaleOffer(code="FEW", name="限定券", price=1_000, components={"COMMON": 1_200}, per_resident_limit=1,
                        total_sets=3))
    people = residents(town, 8)
    out = at_once(8, lambda i: sales.sell(town.uow, resident_id=people[i], offer_code="FEW", sets=1,
                                          idempotency_key=f"few-{i}"))
    assert len(out.ok) == 3 and out.refused == ["not_allowed"] * 5
    with town.db.session() as s:
        assert sales.sets_bought(s.connection(), "FEW") == 3


def test_one_lottery_application_per_resident_at_once(town):
    with town.db.write() as s:
        s.add(SaleOffer(code="LOT", name="抽選券", price=1_000, components={"COMMON": 1_300}, per_resident_limit=2,
                        lottery=True))
    out = at_once(6, lambda i: sales.apply(town.uow, resident_id=town.alice, offer_code="LOT", sets=1 + i % 2))
    assert len(out.ok) == 1 and out.refused == ["already_done"] * 5
    with town.db.session() as s:
        assert s.execute(select(func.count()).select_from(SaleApplication)).scalar_one() == 1


# ------------------------------------------------------------------ 12. refund double tap

def test_a_refund_tapped_at_once_refunds_once_and_answers_each_tap_with_it(town):
    town.give(town.alice, "COMMON", 10_000)
    pays = [payments.pay(town.uow, resident_id=town.alice, merchant_id=town.small, amount=100,
                         idempotency_key=f"p-{i}").entry_id for i in range(10)]
    for pid in pays:  # several rounds: the window between two of the old reads is narrow
        out = at_once(4, lambda i, pid=pid: payments.refund(town.uow, payment_entry_id=pid, merchant_id=town.small,
                                                            idempotency_key=f"liff:refund:{pid}"))
        assert out.refused == [], out.refused
        assert len({r.entry_id for r in out.ok}) == 1
        assert sorted(r.replayed for r in out.ok) == [False, True, True, True]
    assert entries(town, kind="refund") == 10
    assert town.balance(town.alice) == 10_000
    assert_ledger_ok(town)


# ------------------------------------------------------------------ what the database itself refuses

def test_the_database_refuses_to_change_or_remove_journal_rows(town):
    town.give(town.alice, "COMMON", 1_000)
    for sql in ("UPDATE entries SET amount = 99", "DELETE FROM entries", "UPDATE postings SET amount = amount + 1",
                "DELETE FROM postings"):
        with pytest.raises(Exception, match="(?i)append-only"):
            with town.db.write() as s:
                s.execute(text(sql))
    assert town.balance(town.alice) == 1_000
    assert_ledger_ok(town)


def test_the_database_refuses_a_lot_below_zero(town):
    town.give(town.alice, "COMMON", 1_000)
    with pytest.raises(Exception, match="(?i)check|constraint"):
        with town.db.write() as s:
            s.execute(text("UPDATE lots SET remaining = -1"))
    assert town.balance(town.alice) == 1_000


def test_a_refund_tap_that_looked_just_before_its_twin_committed_answers_with_the_twin_refund(town, monkeypatch):
    """The interleaving behind the 409 on PostgreSQL, made certain: the late tap looks for its key,
    its twin refunds and commits, then the late tap reads on. (SQLite cannot interleave: the first
    look is already inside the write transaction.)"""
    town.give(town.alice, "COMMON", 1_000)
    pid = payments.pay(town.uow, resident_id=town.alice, merchant_id=town.small, amount=300,
                       idempotency_key="pay-once").entry_id
    real_find_replay = payments.find_replay
    late_looked, twin_done = threading.Event(), threading.Event()

    def find_replay(tx, key, fp):
        found = real_find_replay(tx, key, fp)
        if threading.current_thread().name == "late" and not late_looked.is_set():
            late_looked.set()
            if not tx.sqlite:
                twin_done.wait(10)
        return found

    monkeypatch.setattr(payments, "find_replay", find_replay)
    results: dict[str, Any] = {}

    def tap(name: str) -> None:
        if name == "twin":
            late_looked.wait(10)
        try:
            results[name] = payments.refund(town.uow, payment_entry_id=pid, merchant_id=town.small,
                                            idempotency_key=f"liff:refund:{pid}")
        except errors.LedgerError as exc:
            results[name] = exc.code
        finally:
            if name == "twin":
                twin_done.set()

    threads = [threading.Thread(target=tap, args=(n,), name=n) for n in ("late", "twin")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    late, twin = results["late"], results["twin"]
    assert not isinstance(late, str) and not isinstance(twin, str), results
    assert late.entry_id == twin.entry_id and late.kind == "refund"
    assert entries(town, kind="refund") == 1
    assert town.balance(town.alice) == 1_000


def test_applications_arriving_during_the_draw_are_either_drawn_or_refused(town):
    """An application that slipped in beside the draw would stay undecided and the recorded draw
    would no longer verify."""
    from town import lottery  # the draw lives with the `machi sale draw` command

    people = residents(town, 12)
    with town.db.write() as s:
        for r in range(4):
            s.add(SaleOffer(code=f"LOT{r}", name="抽選券", price=1_000, components={"COMMON": 1_300},
                            per_resident_limit=1, lottery=True, total_sets=3))
    for r in range(4):
        code = f"LOT{r}"
        sales.apply(town.uow, resident_id=people[0], offer_code=code, sets=1)

        def one(i: int, code: str = code) -> Any:
            if i == 0:
                return lottery.draw(town.db, code, now=town.uow.clock(), purchase_days=7, actor="test")
            return sales.apply(town.uow, resident_id=people[i], offer_code=code, sets=1)

        out = at_once(12, one)
        assert set(out.refused) <= {"outside_window"}
        with town.db.session() as s:
            undecided = s.execute(select(func.count()).select_from(SaleApplication).join(SaleOffer)
                                  .where(SaleOffer.code == code, SaleApplication.status == "applied")).scalar_one()
        assert undecided == 0
        assert lottery.verify(town.db, code)[0]
