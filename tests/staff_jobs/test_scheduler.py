"""machi scheduler: its jobs (expiry, reminders, payouts, scheduled announcements), their times in
Tokyo, the one catch-up of a run missed while it was down, and the single-runner rule."""
from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from linebot.v3.messaging import Message as SdkMessage
from sqlalchemy import func, select

from admin_cli.context import line_sender
from admin_cli.scheduler_cmds import line_runtime
from bot import line_check
from bot.inbox import Inbox
from bot.models import WebhookEvent
from config import load_config
from flows.state import DbStateStore, UserState
from ledger import installation, invariants, registry
from ledger.clock import JST, jst_date
from ledger.models import AuditLog, Lot, Payout, PayoutBatch
from ledger.services import issuing, payments
from town import scheduler, settings
from town.models import ReminderLog

from .conftest import ROOT, flex_actions, flex_texts, later, machi


@pytest.fixture
def runtime(core, line_env, tmp_path):
    scheduler.install(line_runtime(core, lambda: line_sender(load_config(), installation.namespace(core.db)), payout_dir=tmp_path / "payouts"))
    yield
    scheduler._runtime = None


def _expired_lots(core) -> int:
    with core.db.session() as s:
        return s.execute(select(func.count()).select_from(Lot).where(
            Lot.expires_at <= datetime.utcnow(), Lot.remaining > 0)).scalar_one()


def test_expiry_job_expires_what_ended_and_is_idempotent(town, runtime, core):
    issuing.issue(town.at(later(days=-40)), resident_id=town.residents[0], money_type="PT", amount=300,
                  idempotency_key="old-points")
    assert _expired_lots(core) == 1
    assert scheduler.job_expire() == {"lots": 1, "total": 300}
    assert _expired_lots(core) == 0
    assert scheduler.job_expire() == {"lots": 0, "total": 0}


def test_reminders_30_and_7_days_before_once_per_resident(town, runtime, core, fake_line):
    with core.db.write() as s:
        registry.create_money_type(s, code="SHORT", name="お試し券", kind="coupon", validity_days=8)
    for n in (0, 2, 8, 9):  # a resident, the English reader, the one who blocked us, the card-only elder
        issuing.issue(core.uow, resident_id=town.residents[n], money_type="PT", amount=500, idempotency_key=f"p{n}")
        issuing.issue(core.uow, resident_id=town.residents[n], money_type="PT", amount=200, idempotency_key=f"q{n}")
    issuing.issue(core.uow, resident_id=town.residents[0], money_type="SHORT", amount=100, idempotency_key="s0")
    out = scheduler.job_remind()
    assert out == {"sent": 3, "skipped": 2, "already": 0}  # 30 days: two reachable, two not; 7 days: one
    first = town.line_ids[town.residents[0]]
    cards = [m for d in fake_line.store.deliveries_to(first) for m in d.messages]
    assert len(cards) == 2 and all(m["type"] == "flex" for m in cards)
    said = ["\n".join(flex_texts(m["contents"])) for m in cards]
    assert any("あと30日" in t and "700ポイント" in t and "ボランティアポイント" in t for t in said)  # one card, the sum
    assert any("あと7日" in t and "お試し券" in t and "100円" in t for t in said)
    points_card = cards[[("700ポイント" in t) for t in said].index(True)]
    labels = [a["label"] for a in flex_actions(points_card["contents"])]
    assert labels == ["支払う", "商品券に交換"]  # the way to use it, one tap away
    coupon_card = cards[[("100円" in t) for t in said].index(True)]
    assert [a["label"] for a in flex_actions(coupon_card["contents"])] == ["支払う"]
    for card in cards:  # what LINE and its SDK accept
        assert line_check.validate_request("POST", "/v2/bot/message/push", {"to": first, "messages": [card]}) == []
        assert SdkMessage.from_dict(card) is not None
    english = [m for d in fake_line.store.deliveries_to(town.line_ids[town.english]) for m in d.messages]
    assert len(english) == 1 and "30 days left" in "\n".join(flex_texts(english[0]["contents"]))
    assert fake_line.store.deliveries_to(town.line_ids[town.unreachable]) == []

    assert scheduler.job_remind() == {"sent": 0, "skipped": 0, "already": 0}  # the same day again: nothing
    assert len(fake_line.store.deliveries_to(first)) == 2
    assert town.count(ReminderLog) == 5


def test_payout_job_closes_the_owed_period_once(town, runtime, core, tmp_path):
    today = jst_date(datetime.utcnow())
    day = min(today.day, 28)
    res = machi("payout", "schedule", "--days", f"{day}")
    assert res.exit_code == 0, res.output
    uow = town.at(later(days=-5))
    issuing.issue(uow, resident_id=town.residents[0], money_type="GRANT", amount=5_000, idempotency_key="g")
    payments.pay(uow, resident_id=town.residents[0], amount=3_000, merchant_code="M001", idempotency_key="p")
    refused = scheduler.job_payout()  # no town account to pay from yet: nothing moves
    assert refused["batch_id"] is None and "振込元" in refused["error"] and town.count(PayoutBatch) == 0
    assert machi("payout", "remitter", "--code", "1234567890", "--name", "トママエチョウ", "--bank", "1022",
                 "--branch", "007", "--number", "7654321").exit_code == 0
    refused = scheduler.job_payout()
    assert "M001" in refused["error"] and town.count(PayoutBatch) == 0
    assert machi("merchant", "bank", "M001", "--bank", "1022", "--branch", "007", "--number", "1",
                 "--holder", "コムギ").exit_code == 0
    out = scheduler.job_payout()
    assert out["batch_id"] and out["created"] == 1 and out["total_net"] == 3_000 - 30
    with core.db.session() as s:
        batch = s.get(PayoutBatch, out["batch_id"])
    latest = today if today.day == day else today - timedelta(days=today.day - day)
    assert batch.period_end == latest - timedelta(days=1) and batch.transfer_date.weekday() < 5
    assert list((tmp_path / "payouts").glob("payout_*/statements/*"))  # statements were written
    assert scheduler.job_payout() == {"batch_id": None}  # already closed: nothing doubled
    assert town.count(Payout) == 1


def test_the_seal_job_seals_the_journal_and_the_audit_log_and_anchors_the_run(town, runtime, core):
    issuing.issue(core.uow, resident_id=town.residents[0], money_type="PT", amount=300, idempotency_key="pt")
    with core.db.write() as s:
        s.add(AuditLog(actor="staff:test", action="grant.run", params={}, result="ok"))
    out = scheduler.job_seal()
    assert out["entries"] >= 1 and out["audit"] >= 1 and out["anchor"]
    assert core.sealer.anchors.last().heads["entries"].seq == out["entries"]
    assert scheduler.job_seal() == {"entries": 0, "audit": 0, "anchor": None}
    with core.db.session() as s:
        assert invariants.check_all(s.connection(), sealer=core.sealer, now=later(days=1)).ok


def test_the_purge_job_forgets_idle_conversations_and_old_webhook_events_only(town, runtime, core):
    store, inbox = DbStateStore(core.db), Inbox(core.db)
    store.save(UserState("U-idle", updated_at=later(days=-31)))
    store.save(UserState("U-recent", updated_at=later(days=-29)))
    with core.db.write() as s:
        s.add_all([WebhookEvent(id="old", kind="message", status="processing", received_at=later(days=-8)),
                   WebhookEvent(id="new", kind="message", status="processing", received_at=later(days=-6)),
                   WebhookEvent(id="waiting", kind="message", status="pending", received_at=later(days=-8)),
                   WebhookEvent(id="grant-offer:X:U1", kind="once", status="done", received_at=later(days=-90))])
    assert scheduler.job_purge() == {"conversations": 1, "inbox": 1}
    assert store.load("U-idle").updated_at is None and store.load("U-recent").updated_at is not None
    assert inbox.status("old") is None and inbox.status("new") and inbox.status("waiting")
    assert inbox.seen("grant-offer:X:U1")  # a grant offer told stays told
    settings.put(core.db, settings.RETENTION, {"conversation_days": 10}, "staff:test")
    assert scheduler.job_purge() == {"conversations": 1, "inbox": 0}
    assert scheduler.job_purge() == {"conversations": 0, "inbox": 0}


def test_jobs_are_stored_in_the_database_in_tokyo_time(town, core, runtime):
    machi("payout", "schedule", "--days", "1,16")
    sched = scheduler.build(core, BackgroundScheduler)
    sched.start(paused=True)
    sched.shutdown(wait=False)
    runs = scheduler.next_runs(core)
    assert set(runs) == {"expire", "remind", "payout", "announce", "seal", "purge"}
    assert (runs["expire"].hour, runs["expire"].minute) == (0, 5)
    assert (runs["remind"].hour, runs["remind"].minute) == (9, 0)
    assert (runs["purge"].hour, runs["purge"].minute) == (3, 30)
    assert runs["seal"] - datetime.now(UTC) <= scheduler.SEAL_EVERY
    assert runs["payout"].day in (1, 16) and runs["payout"].hour == 6
    assert all(r.utcoffset() == timedelta(hours=9) for r in runs.values())
    # a restart keeps one row per job; a new payout schedule replaces the payout job
    machi("payout", "schedule", "--days", "10")
    sched = scheduler.build(core, BackgroundScheduler)
    sched.start(paused=True)
    sched.shutdown(wait=False)
    runs = scheduler.next_runs(core)
    assert len(runs) == 6 and runs["payout"].day == 10


def test_a_run_missed_while_down_is_caught_up_once(town, core, runtime):
    issuing.issue(town.at(later(days=-40)), resident_id=town.residents[0], money_type="PT", amount=300,
                  idempotency_key="old-points")
    sched = scheduler.build(core, BackgroundScheduler)
    sched.start(paused=True)
    sched.shutdown(wait=True)
    store = SQLAlchemyJobStore(engine=core.db.engine, tablename=scheduler.JOBS_TABLE)
    store.start(sched, "default")
    job = store.lookup_job("expire")
    job._modify(next_run_time=datetime.now(UTC).astimezone(JST) - timedelta(days=3))  # down for three midnights
    store.update_job(job)

    ran, done = [], threading.Event()

    def listen(event):
        ran.append((event.job_id, event.code))
        if event.job_id == "expire":
            done.set()

    again = scheduler.build(core, BackgroundScheduler)  # the restart keeps the stored, overdue job
    again.add_listener(listen, EVENT_JOB_EXECUTED | EVENT_JOB_MISSED)
    again.start()
    try:
        assert done.wait(30), "the missed expiry did not run"
    finally:
        again.shutdown(wait=True)
    assert ran.count(("expire", EVENT_JOB_EXECUTED)) == 1 and ("expire", EVENT_JOB_MISSED) not in ran
    assert _expired_lots(core) == 0
    assert scheduler.next_runs(core)["expire"] > datetime.now(UTC)  # next: the coming midnight


def _start_runner(env: dict[str, str]) -> subprocess.Popen:
    """`machi scheduler` as its own process, once it says it has started."""
    proc = subprocess.Popen([sys.executable, "-m", "admin_cli", "scheduler"], cwd=ROOT, env={**env, "PATH": ""},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if "起動しました" in line:
            return proc
    proc.kill()
    proc.wait(timeout=30)
    raise AssertionError("the scheduler did not start:\n" + "".join(seen))


def test_once_runs_what_is_due_and_a_second_runner_is_refused(town, line_env, core, fake_line):
    issuing.issue(town.at(later(days=-40)), resident_id=town.residents[0], money_type="PT", amount=300,
                  idempotency_key="old-points")
    first = _start_runner(line_env)
    try:
        second = machi("scheduler", "--once")
        assert second.exit_code == 1
        assert "別の machi scheduler がすでに動いています" in second.output and "Traceback" not in second.output
    finally:
        first.terminate()
        first.wait(timeout=30)
    assert first.returncode == 0
    res = machi("scheduler", "--once")
    assert res.exit_code == 0, res.output
    assert "失効:" in res.output and "予約お知らせ: 送信 0 件" in res.output
    assert _expired_lots(core) == 0  # the first runner's start-up catch-up or --once expired it, once


def test_a_waiting_runner_takes_over_when_the_first_stops(town, line_env, core):
    first = _start_runner(line_env)
    second = subprocess.Popen([sys.executable, "-m", "admin_cli", "scheduler", "--once", "--wait"], cwd=ROOT,
                              env={**line_env, "PATH": ""}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "止まるまで待ちます" in second.stderr.readline()
        assert second.poll() is None  # still waiting
    finally:
        first.kill()  # even a killed runner's lock is released by the OS
        first.wait(timeout=30)
    out, err = second.communicate(timeout=60)
    assert second.returncode == 0, out + err
    assert "引き継いで" in err and "失効:" in out

