"""`machi scheduler`: the town's timed jobs, in Asia/Tokyo, in their own process.

- expiry (失効) shortly after midnight;
- expiry reminders (30 and 7 days before) in the morning, one message per resident per due date;
- payouts (精算) on the days `machi payout schedule` stored, closing from the last batch to yesterday;
- scheduled announcements (`machi announce create --at`), and any a crash left half-sent;
- sealing of the journal and the audit log every few minutes, each run anchored (`ledger/chain.py`);
- at night, purges of idle conversation state and of handled webhook events (`settings.RETENTION`).

APScheduler 3 keeps the jobs in the project's own database (SQLAlchemyJobStore, table
`apscheduler_jobs`, created by migration 0003), so a run missed while the scheduler was down is
found on the next start and run once (no grace limit, coalesced). Every job is idempotent on its
own (ledger idempotency keys, reminder log, announcement chunks), so the catch-up cannot double.
Only one runner may work at a time: a PostgreSQL advisory lock held on its own connection, or on
SQLite an flock on `<database>.scheduler.lock`; either is released by the OS when the process dies.
"""
from __future__ import annotations

import fcntl
import logging
import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Column, Engine, Float, LargeBinary, Table, Unicode, func, select, text
from sqlalchemy.engine import make_url

from ledger.clock import JST, fmt_jst, jst_date, jst_midnight_utc, utcnow
from ledger.db import Base
from ledger.models import AuditLog, Entry, PayoutBatch
from ledger.services import expiry, payouts
from town import announce, payout_files, reminders, settings
from town.core import TownCore
from town.presenter import Presenter
from town.sender import Sender

log = logging.getLogger(__name__)

JOBS_TABLE = "apscheduler_jobs"
# The table APScheduler's SQLAlchemyJobStore expects, declared here so Alembic creates and checks it.
apscheduler_jobs = Table(
    JOBS_TABLE, Base.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)

ADVISORY_KEY = 0x6D616368  # "mach": the one scheduler of this database
ACTOR = "scheduler"
EXPIRY_AT = {"hour": 0, "minute": 5}       # just after midnight, Tokyo
REMIND_AT = {"hour": 9, "minute": 0}       # a civil hour for a message to an elderly resident
PAYOUT_AT = {"hour": 6, "minute": 0}       # before the town office opens
ANNOUNCE_EVERY = timedelta(minutes=1)
SEAL_EVERY = timedelta(minutes=10)          # well inside chain.SEAL_GRACE, after which verify calls it missing
PURGE_AT = {"hour": 3, "minute": 30}        # the quiet hour


# --------------------------------------------------------------------------- one runner


class AlreadyRunning(RuntimeError):
    """Another `machi scheduler` holds the lock of this database."""


class RunnerLock:
    """Held for the life of the process; the OS drops it if the process dies (no stale leases)."""

    def __init__(self, url: str, engine: Engine) -> None:
        self.url, self.engine = url, engine
        self._conn: Any = None
        self._fd: int | None = None

    def acquire(self) -> bool:
        if self.engine.dialect.name == "postgresql":
            conn = self.engine.connect()
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}).scalar())
            conn.commit()
            if got:
                self._conn = conn
            else:
                conn.close()
            return got
        fd = os.open(self.lock_path(), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return True

    def lock_path(self) -> str:
        database = make_url(self.url).database or ""
        if database in ("", ":memory:"):
            return str(Path("instance") / "scheduler.lock")
        return database + ".scheduler.lock"

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                self._conn.commit()
            finally:
                self._conn.close()
                self._conn = None
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


# --------------------------------------------------------------------------- the jobs


@dataclass
class Runtime:
    """What the jobs work with; set once per process (APScheduler stores jobs by reference only)."""

    core: TownCore
    sender_factory: Callable[[], Sender]
    payout_dir: Path = Path("payouts")
    presenter_factory: Callable[[], Presenter] | None = None  # how reminders look (the face plugs in LINE's)
    # what the nightly purge forgets, by name ("conversations", "inbox"): each forgets what is older than
    # the time it is given and says how many; the tables belong to flows and bot, so the face plugs them in
    purgers: dict[str, Callable[[datetime], int]] = field(default_factory=dict)
    _sender: Sender | None = field(default=None, repr=False)

    def sender(self) -> Sender:
        if self._sender is None:
            self._sender = self.sender_factory()
        return self._sender

    def presenter(self) -> Presenter:
        if self.presenter_factory is None:
            raise RuntimeError("scheduler runtime has no presenter: the face must plug one in")
        return self.presenter_factory()


_runtime: Runtime | None = None


def install(runtime: Runtime) -> None:
    global _runtime
    _runtime = runtime


def _rt() -> Runtime:
    if _runtime is None:
        raise RuntimeError("scheduler runtime not installed")
    return _runtime


def _audit(core: TownCore, action: str, result: str) -> None:
    with core.db.write() as s:
        s.add(AuditLog(actor=ACTOR, action=action, params={}, result=result[:400]))


def job_expire(now: datetime | None = None) -> dict[str, Any]:
    """Expire every lot past its end; the ledger makes a second run a no-op."""
    core = _rt().core
    res = expiry.expire(core.uow, now=now, actor=ACTOR)
    _audit(core, "scheduler.expire", f"lots {res.lots} total {res.total}")
    log.info("expiry: %d lots, %d yen", res.lots, res.total)
    return {"lots": res.lots, "total": res.total}


def job_remind(now: datetime | None = None) -> dict[str, Any]:
    """30- and 7-day reminders owed today (and any day missed since the last run)."""
    rt = _rt()
    today = jst_date(now or rt.core.uow.clock())
    rep = reminders.send(rt.core.db, rt.sender(), today, presenter=rt.presenter())
    _audit(rt.core, "scheduler.remind", f"sent {rep.sent} skipped {rep.skipped} already {rep.already}")
    log.info("reminders: sent %d, unreachable %d, already %d", rep.sent, rep.skipped, rep.already)
    return {"sent": rep.sent, "skipped": rep.skipped, "already": rep.already}


@dataclass(frozen=True)
class PayoutDue:
    start: date
    end: date
    transfer: date


def payout_due(db: Any, today: date) -> PayoutDue | None:
    """The period to close now: from the day after the last batch to the day before the latest
    payout day on or before today. None when that is already closed (or nothing was ever paid)."""
    sched = settings.get(db, settings.PAYOUT_SCHEDULE, settings.DEFAULT_SCHEDULE) or settings.DEFAULT_SCHEDULE
    days = sorted(int(d) for d in sched.get("days") or [])
    if not days:
        return None
    latest = None
    for back in range(0, 62):
        d = today - timedelta(days=back)
        if d.day in days:
            latest = d
            break
    if latest is None:
        return None
    end = latest - timedelta(days=1)
    with db.session() as s:
        last_end = s.execute(select(func.max(PayoutBatch.period_end))).scalar()
        if last_end is not None:
            start = last_end + timedelta(days=1)
        else:
            first = s.execute(select(func.min(Entry.created_at)).where(Entry.kind == "payment")).scalar()
            if first is None:
                return None
            start = jst_date(first)
    if start > end:
        return None
    transfer = payout_files.default_transfer_date(end, int(sched.get("transfer_after_days", 5)), today=today)
    return PayoutDue(start, end, transfer)


def job_payout(now: datetime | None = None) -> dict[str, Any]:
    """Close the owed period, pay every shop out, write the Zengin file and statements."""
    rt = _rt()
    core = rt.core
    due = payout_due(core.db, jst_date(now or core.uow.clock()))
    if due is None:
        return {"batch_id": None}
    problem = payout_files.not_ready_to_pay(core.db, due.end)
    if problem:  # refuse before any money moves; staff see it in `machi audit log` and the job log
        _audit(core, "scheduler.payout", f"refused {due.start}..{due.end}: {problem}")
        log.warning("payout %s..%s not run: remitter or shop bank accounts missing", due.start, due.end)
        return {"batch_id": None, "error": problem}
    res = payouts.run_payouts(core.uow, due.start, due.end, due.transfer, actor=ACTOR)
    files = payout_files.write_all(core.db, res.batch_id, rt.payout_dir)
    _audit(core, "scheduler.payout", f"batch {res.batch_id} {due.start}..{due.end} created {res.created} "
                                     f"net {res.total_net}" + (" zengin refused" if files["zengin_error"] else ""))
    log.info("payout batch %s: %d shops, %d yen", res.batch_id, res.created, res.total_net)
    return {"batch_id": res.batch_id, "created": res.created, "total_net": res.total_net,
            "zengin": str(files["zengin"] or ""), "zengin_error": files["zengin_error"]}


def job_announcements(now: datetime | None = None) -> dict[str, Any]:
    """Send scheduled announcements whose time has come, and finish any a crash left half-sent."""
    rt = _rt()
    sent: list[int] = []
    failed: list[int] = []
    now = now or rt.core.uow.clock()
    expired = announce.expire_stale(rt.core.db, now)
    for ann_id, title, at in expired:
        _audit(rt.core, "scheduler.announce_expired",
               f"お知らせ {ann_id}「{title}」は予定（{fmt_jst(at)}）を1日以上過ぎたため送らず、期限切れにしました")
        log.warning("announcement %s missed its time %s by more than %s: expired, not sent", ann_id, at,
                    announce.STALE_AFTER)
    for ann_id in announce.due(rt.core.db, now):
        try:
            announce.deliver(rt.core.db, rt.sender(), ann_id)
            sent.append(ann_id)
        except announce.DeliveryFailed:
            failed.append(ann_id)  # left pending; the next minute tries again with the same retry keys
    if sent or failed:
        _audit(rt.core, "scheduler.announce", f"sent {sent} failed {failed}")
    return {"sent": sent, "failed": failed, "expired": [a[0] for a in expired]}


def job_seal(now: datetime | None = None) -> dict[str, Any]:
    """Seal what committed since the last run; the run's anchor goes to the anchor file and this log."""
    core = _rt().core
    run = core.sealer.seal(core.db)
    return {"entries": run.sealed["entries"], "audit": run.sealed["audit"], "anchor": run.anchor}


def job_purge(now: datetime | None = None) -> dict[str, Any]:
    """Forget conversations idle past their retention (personal answers) and handled webhook events."""
    rt = _rt()
    core = rt.core
    now = now or core.uow.clock()
    keep = {**settings.DEFAULT_RETENTION, **(settings.get(core.db, settings.RETENTION) or {})}
    missing = {"conversations", "inbox"} - set(rt.purgers)
    if missing:
        raise RuntimeError(f"scheduler runtime has no purger for {sorted(missing)}: the face must plug them in")
    states = rt.purgers["conversations"](now - timedelta(days=int(keep["conversation_days"])))
    events = rt.purgers["inbox"](now - timedelta(days=int(keep["inbox_days"])))
    _audit(core, "scheduler.purge", f"conversations {states} inbox {events}")
    log.info("purge: %d conversations, %d webhook events", states, events)
    return {"conversations": states, "inbox": events}


def run_due(now: datetime | None = None) -> dict[str, Any]:
    """`--once`: everything owed at `now`, in the order the day runs them; each job is idempotent."""
    core = _rt().core
    now = now or core.uow.clock()
    out: dict[str, Any] = {"expire": job_expire(now)}
    if now >= jst_midnight_utc(jst_date(now)) + timedelta(hours=REMIND_AT["hour"]):
        out["remind"] = job_remind(now)
    if now >= jst_midnight_utc(jst_date(now)) + timedelta(hours=PAYOUT_AT["hour"]):
        out["payout"] = job_payout(now)
    out["announce"] = job_announcements(now)
    out["purge"] = job_purge(now)
    out["seal"] = job_seal(now)  # last: it seals what the jobs above wrote
    return out


# --------------------------------------------------------------------------- APScheduler


def payout_days(db: Any) -> list[int]:
    sched = settings.get(db, settings.PAYOUT_SCHEDULE, settings.DEFAULT_SCHEDULE) or settings.DEFAULT_SCHEDULE
    return sorted(int(d) for d in sched.get("days") or [])


def desired_jobs(db: Any) -> dict[str, tuple[Callable[..., Any], Any]]:
    jobs: dict[str, tuple[Callable[..., Any], Any]] = {
        "expire": (job_expire, CronTrigger(**EXPIRY_AT, timezone=JST)),
        "remind": (job_remind, CronTrigger(**REMIND_AT, timezone=JST)),
        "announce": (job_announcements, IntervalTrigger(seconds=int(ANNOUNCE_EVERY.total_seconds()), timezone=JST)),
        "seal": (job_seal, IntervalTrigger(seconds=int(SEAL_EVERY.total_seconds()), timezone=JST)),
        "purge": (job_purge, CronTrigger(**PURGE_AT, timezone=JST)),
    }
    days = payout_days(db)
    if days:
        jobs["payout"] = (job_payout, CronTrigger(day=",".join(map(str, days)), **PAYOUT_AT, timezone=JST))
    return jobs


def _stored(engine: Engine) -> dict[str, dict[str, Any]]:
    """The jobs already in the store (their pickled state), to keep their next run time across restarts."""
    with engine.connect() as conn:
        rows = conn.execute(select(apscheduler_jobs.c.id, apscheduler_jobs.c.job_state)).all()
    out = {}
    for job_id, state in rows:
        try:
            out[job_id] = pickle.loads(state)  # noqa: S301 - our own table, written by APScheduler
        except Exception:  # noqa: BLE001 - an unreadable job is replaced below
            out[job_id] = {}
    return out


def build(core: TownCore, scheduler_cls: type[BaseScheduler] = BlockingScheduler) -> BaseScheduler:
    """A scheduler over the database's job store, its jobs brought in line with the settings.

    A job already stored with the same function and trigger is kept as it is, so its next run time
    (perhaps in the past: the scheduler was down) survives the restart and is caught up once.
    """
    sched = scheduler_cls(
        jobstores={"default": SQLAlchemyJobStore(engine=core.db.engine, tablename=JOBS_TABLE)},
        executors={"default": ThreadPoolExecutor(1)},  # one job at a time: they share the database writer
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        timezone=JST,
    )
    stored = _stored(core.db.engine)
    wanted = desired_jobs(core.db)
    for job_id, (fn, trigger) in wanted.items():
        old = stored.get(job_id, {})
        ref = f"{fn.__module__}:{fn.__qualname__}"
        if old.get("func") == ref and repr(old.get("trigger")) == repr(trigger):
            continue
        sched.add_job(fn, trigger, id=job_id, name=job_id, replace_existing=True)
    stale = [j for j in stored if j not in wanted]
    if stale:
        with core.db.engine.begin() as conn:
            conn.execute(apscheduler_jobs.delete().where(apscheduler_jobs.c.id.in_(stale)))
    return sched


def next_runs(core: TownCore) -> dict[str, datetime | None]:
    """When each stored job runs next (Tokyo time), for the start-up message and `scheduler status`."""
    with core.db.engine.connect() as conn:
        rows = conn.execute(select(apscheduler_jobs.c.id, apscheduler_jobs.c.next_run_time)).all()
    return {job_id: (datetime.fromtimestamp(t, JST) if t is not None else None) for job_id, t in rows}


def now_utc() -> datetime:
    return utcnow()
