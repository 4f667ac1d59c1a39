"""More limits that must hold when requests arrive at once (issue #14), on SQLite and PostgreSQL:
the last units of a grant's budget and of an offer's stock, one active card per resident, one
registration of a proxy, one LINE account per card, one answer per survey.

Where a check and its write are two statements, a test holds every transaction that is about to
write until its twins have come too (`twins_meet_before_writing`): without a lock they all arrive,
having checked and found nothing, and all write; with the lock the later ones wait on the first and
never arrive, so the first goes on after a short wait and the others then see what it wrote.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import click
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from admin_cli.main import cli
from flows.context import ActionContext
from flows.errors import ActionError
from flows.resident_actions import link_card
from flows.surveys import DbSurveyStore, SurveyResponse
from ledger import cards
from ledger.clock import today_jst
from ledger.models import Card, Resident, ResidentProxy, SaleOffer
from ledger.services import grants, payments, payouts, sales, transfers
from tests.ledger.test_limits_concurrency import assert_ledger_ok, at_once, entries, residents


@contextmanager
def twins_meet_before_writing(model: type, parties: int = 2, wait: float = 2.0) -> Iterator[None]:
    """Each thread's first flush that inserts or changes a `model` row waits (up to `wait` seconds)
    until `parties` threads have reached the same point."""
    meeting = threading.Barrier(parties, timeout=wait)
    arrived: set[int] = set()

    def before_flush(session: Session, _ctx: Any, _instances: Any) -> None:
        me = threading.get_ident()
        if me in arrived or not any(isinstance(o, model) for o in (*session.new, *session.dirty)):
            return
        arrived.add(me)
        try:
            meeting.wait()
        except threading.BrokenBarrierError:
            pass  # a twin is waiting on our lock: go on alone

    event.listen(Session, "before_flush", before_flush)
    try:
        yield
    finally:
        event.remove(Session, "before_flush", before_flush)


def machi_at_once(url: str, *commands: list[str]) -> list[str | None]:
    """Run `machi` commands on threads released together: None for success, else the refusal shown."""
    results: list[str | None] = [None] * len(commands)
    start = threading.Barrier(len(commands))

    def one(i: int) -> None:
        start.wait()
        try:
            cli.main(["--database-url", url, *commands[i]], standalone_mode=False)
        except click.ClickException as exc:
            results[i] = exc.message
        except BaseException as exc:  # noqa: BLE001 - a traceback is what the staff would see
            results[i] = f"UNEXPECTED {type(exc).__name__}: {exc}"

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(commands))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


# ------------------------------------------------------------------ grant budget, offer stock

def test_twenty_claims_at_once_for_the_last_three_grants_of_a_budget(town):
    people = residents(town, 23, birth_date=date(1990, 1, 1), children=1)
    with town.db.write() as s:
        s.execute(text("UPDATE grant_programs SET budget_cap = 150000 WHERE code = 'BABY'"))  # five grants
    for rid in people[:2]:
        grants.award(town.uow, program_code="BABY", resident_id=rid)
    out = at_once(20, lambda i: grants.award(town.uow, program_code="BABY", resident_id=people[3 + i]))
    assert len(out.ok) == 3
    assert out.refused == ["budget_exhausted"] * 17
    assert entries(town, ref="grant:BABY") == 5
    with town.db.session() as s:
        spent = s.execute(text("SELECT SUM(amount) FROM entries WHERE ref = 'grant:BABY'")).scalar_one()
    assert spent == 150_000
    assert_ledger_ok(town)


def test_grant_batches_and_single_claims_at_once_stop_at_the_budget(town):
    """`machi grant run` (batches, several workers on PostgreSQL) while residents claim in the chat."""
    people = residents(town, 24, birth_date=date(1990, 1, 1), children=1)
    with town.db.write() as s:
        s.execute(text("UPDATE grant_programs SET budget_cap = 210000 WHERE code = 'BABY'"))  # seven grants

    def one(i: int) -> int:
        if i < 4:
            return len(grants.award_many(town.uow, program_code="BABY", resident_ids=people[i * 5:i * 5 + 5]).awarded)
        grants.award(town.uow, program_code="BABY", resident_id=people[16 + i])
        return 1

    out = at_once(8, one)
    assert sum(out.ok) == 7 and set(out.refused) <= {"budget_exhausted"}
    assert entries(town, ref="grant:BABY") == 7
    assert_ledger_ok(town)


def test_ten_buyers_at_once_for_the_last_three_sets_of_an_offer(town):
    with town.db.write() as s:
        s.add(SaleOffer(code="LAST", name="残りわずか", price=1_000, components={"COMMON": 1_200},
                        per_resident_limit=2, total_sets=5))
    people = residents(town, 11)
    sales.sell(town.uow, resident_id=people[10], offer_code="LAST", sets=2, idempotency_key="first-two")
    out = at_once(10, lambda i: sales.sell(town.uow, resident_id=people[i], offer_code="LAST", sets=1,
                                           idempotency_key=f"last-{i}"))
    assert len(out.ok) == 3 and out.refused == ["not_allowed"] * 7  # 完売しました
    with town.db.session() as s:
        assert sales.sets_bought(s.connection(), "LAST") == 5
    assert_ledger_ok(town)


def test_a_shop_paid_out_from_two_runs_at_once_is_paid_once_and_both_runs_say_so(town):
    """The scheduler's payout run and a staff member's `machi payout run` for the same period."""
    town.give(town.alice, "COMMON", 20_000)
    yesterday = town.at(datetime.utcnow() - timedelta(days=1))
    payments.pay(yesterday, resident_id=town.alice, merchant_id=town.small, amount=10_000, idempotency_key="p1")
    today = today_jst()
    batch = payouts.open_batch(town.uow, today - timedelta(days=2), today - timedelta(days=1), today + timedelta(days=3))
    out = at_once(4, lambda i: payouts.pay_out_merchant(town.uow, batch, town.small))
    assert None not in out.ok, "a run was told the shop had nothing to be paid"
    assert len({p.id for p in out.ok}) == 1 and out.ok[0].net == 9_850
    assert entries(town, kind="payout") == 1
    assert_ledger_ok(town)


# ------------------------------------------------------------------ points exchange, transfers

def test_ten_exchanges_at_once_spend_the_points_once(town):
    town.give(town.alice, "PT", 1_000)
    out = at_once(10, lambda i: transfers.exchange(town.uow, resident_id=town.alice, from_type="PT", to_type="COMMON",
                                                   amount=500, idempotency_key=f"ex-{i}"))
    assert len(out.ok) == 2 and out.refused == ["insufficient_funds"] * 8
    assert town.balance(town.alice, "PT") == 0 and town.balance(town.alice, "COMMON") == 1_000
    assert_ledger_ok(town)


def test_ten_gifts_sent_at_once_never_give_more_than_was_held(town):
    town.give(town.alice, "GIFT", 1_000)
    out = at_once(10, lambda i: transfers.transfer(town.uow, from_wallet=f"resident:{town.alice}",
                                                   to_wallet=f"resident:{town.bob}", money_type="GIFT", amount=300,
                                                   idempotency_key=f"gift-{i}"))
    assert len(out.ok) == 3 and out.refused == ["insufficient_funds"] * 7
    assert town.balance(town.alice, "GIFT") == 100 and town.balance(town.bob, "GIFT") == 900
    assert_ledger_ok(town)


# ------------------------------------------------------------------ cards

def active_cards(town, resident_id: int) -> int:
    with town.db.session() as s:
        return s.execute(select(func.count()).select_from(Card)
                         .where(Card.resident_id == resident_id, Card.status == "active")).scalar_one()


def test_machi_card_issue_twice_at_once_makes_one_active_card(town, db_url, tmp_path):
    with twins_meet_before_writing(Card):
        results = machi_at_once(db_url, *(["card", "issue", str(town.bob), "--pin", "2468", "--out",
                                           str(tmp_path / f"run{i}")] for i in range(2)))
    assert sorted(results, key=str)[0] is None, results
    refusal = [r for r in results if r is not None]
    assert len(refusal) == 1 and "使えるカードをお持ちです" in refusal[0], results
    assert active_cards(town, town.bob) == 1


def test_a_lost_card_replaced_twice_at_once_leaves_one_active_card(town, db_url, tmp_path):
    with town.db.write() as s:
        number = cards.issue_card(s, town.bob, "1234").number
    with twins_meet_before_writing(Card):
        results = machi_at_once(db_url, *(["card", "replace", number, "--pin", "2468", "--out",
                                           str(tmp_path / f"run{i}")] for i in range(2)))
    assert results.count(None) == 1, results
    assert "使えなくなっています" in next(r for r in results if r is not None)
    assert active_cards(town, town.bob) == 1


def test_the_database_refuses_a_second_active_card(town):
    with town.db.write() as s:
        cards.issue_card(s, town.bob, "1234")
    try:
        with town.db.write() as s:
            s.add(Card(number="800000000018", resident_id=town.bob, pin_hash="x"))
    except Exception as exc:  # noqa: BLE001 - what a hand-typed INSERT meets
        assert "unique" in str(exc).lower()
    else:
        raise AssertionError("a second active card was stored")
    assert active_cards(town, town.bob) == 1


# ------------------------------------------------------------------ proxies

def test_machi_resident_proxy_added_twice_at_once_is_one_row_and_a_japanese_refusal(town, db_url):
    with twins_meet_before_writing(ResidentProxy):
        results = machi_at_once(db_url, *(["resident", "proxy", str(town.bob), "--proxy", str(town.alice),
                                           "--relation", "長女"] for _ in range(2)))
    assert results.count(None) == 1, results
    assert f"番号 {town.alice} の方はすでに番号 {town.bob} の方の代理人です" in next(r for r in results if r), results
    with town.db.session() as s:
        assert s.execute(select(func.count()).select_from(ResidentProxy)).scalar_one() == 1


def test_a_code_added_twice_at_once_gets_a_japanese_refusal_not_a_traceback(town, db_url):
    """Staff setting things up (offers, programs, shops...) from two terminals: the database keeps one."""
    with twins_meet_before_writing(SaleOffer):
        results = machi_at_once(db_url, *(["sale", "offer-add", "--code", "TWICE", "--name", "二度押し",
                                           "--price", "1000", "--component", "COMMON=1200"] for _ in range(2)))
    assert results.count(None) == 1, results
    assert "すでに" in next(r for r in results if r), results
    with town.db.session() as s:
        assert s.execute(select(func.count()).select_from(SaleOffer).where(SaleOffer.code == "TWICE")).scalar_one() == 1


# ------------------------------------------------------------------ a card linked to LINE

def link(town, user_id: str, number: str) -> Any:
    ctx = ActionContext(user_id=user_id, lang="ja", answers={"card_number": number, "pin": "1234"}, vars={},
                        services=SimpleNamespace(db=town.db, uow=town.uow), flow_id="link_card", step_id="link",
                        now=datetime.utcnow())
    return link_card(ctx)


def test_one_card_linked_from_two_line_accounts_at_once_belongs_to_one(town):
    with town.db.write() as s:
        elder = s.get(Resident, town.bob)
        elder.line_user_id = None
        number = cards.issue_card(s, town.bob, "1234").number
    users = ["U" + "c" * 32, "U" + "d" * 32]
    done: dict[str, Any] = {}

    def one(i: int) -> None:
        try:
            done[users[i]] = link(town, users[i], number)
        except ActionError as exc:
            done[users[i]] = exc

    with twins_meet_before_writing(Resident):
        threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    linked = [u for u, r in done.items() if not isinstance(r, Exception)]
    assert len(linked) == 1, done
    refused = next(r for r in done.values() if isinstance(r, Exception))
    assert "LINEと連携されています" in refused.message_ja
    with town.db.session() as s:
        assert s.get(Resident, town.bob).line_user_id == linked[0]


# ------------------------------------------------------------------ surveys

def test_a_survey_answered_twice_at_once_is_kept_once(town):
    store = DbSurveyStore(town.db)
    with twins_meet_before_writing(SurveyResponse):
        out = at_once(2, lambda i: store.save("kenko", "resident:1", {"q1": i}, None))
    assert sorted(out.ok) == [False, True]
    with town.db.session() as s:
        assert s.execute(select(func.count()).select_from(SurveyResponse)).scalar_one() == 1
