"""`/healthz` (the process is alive and its database answers) and `/readyz` (fit to take traffic).

Ready means: the database answers, its schema is at the code's head, the notices waiting in the
outbox are fewer than `MACHI_READY_OUTBOX_LIMIT` (else the relay is down or far behind), and the
scheduler's jobs are not overdue by more than `MACHI_READY_SCHEDULER_LAG` seconds (its every-minute
job would be: the scheduler is not running). Each check answers in JSON; any failure gives 503.
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Any

from flask import Flask, jsonify
from sqlalchemy import column, func, select, table

import schema
from ledger.models import OutboxEvent

# The job store `machi scheduler` keeps in the database (migration 0003): its next run times say
# whether the scheduler is running, without asking the scheduler's process anything.
SCHEDULER_JOBS = table("apscheduler_jobs", column("next_run_time"))
ALEMBIC_VERSION = table("alembic_version", column("version_num"))


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: dict[str, Any]


def database(machi: Any) -> Check:
    machi.db.ping()
    return Check(True, {})


@functools.cache
def _head(url: str) -> str | None:
    return schema.head_revision(url)  # the code's head: read from the migration files once


def migrations(machi: Any) -> Check:
    with machi.db.engine.connect() as conn:  # read directly: Alembic's context logs at every probe
        current = conn.execute(select(ALEMBIC_VERSION.c.version_num)).scalar_one_or_none()
    head = _head(machi.config.database_url)
    return Check(current == head, {"current": current, "head": head})


def outbox(machi: Any) -> Check:
    limit = machi.config.ready_outbox_limit
    waiting = select(OutboxEvent.id).limit(limit + 1).subquery()
    with machi.db.engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(waiting)).scalar_one()
    return Check(count <= limit, {"waiting": count, "limit": limit})


def scheduler(machi: Any, now: float | None = None) -> Check:
    lag = machi.config.ready_scheduler_lag
    if lag <= 0:
        return Check(True, {"checked": False})
    with machi.db.engine.connect() as conn:
        oldest = conn.execute(select(func.min(SCHEDULER_JOBS.c.next_run_time))).scalar_one()
    if oldest is None:
        return Check(False, {"reason": "machi scheduler has never run on this database"})
    late = max(0.0, (time.time() if now is None else now) - float(oldest))
    return Check(late <= lag, {"late_seconds": round(late), "limit_seconds": lag})


CHECKS = {"database": database, "migrations": migrations, "outbox": outbox, "scheduler": scheduler}


def readiness(machi: Any) -> tuple[bool, dict[str, Any]]:
    """Every check's answer; a check that raises (the database is down) counts as failed, by type only."""
    results: dict[str, Any] = {}
    for name, check in CHECKS.items():
        try:
            res = check(machi)
            results[name] = {"ok": res.ok, **res.detail}
        except Exception as exc:  # noqa: BLE001 - readiness is a yes/no answer with a reason
            results[name] = {"ok": False, "error": type(exc).__name__}
    return all(r["ok"] for r in results.values()), results


def register(app: Flask, machi: Any) -> None:
    @app.get("/healthz")
    def healthz():
        try:
            machi.db.ping()
        except Exception:  # noqa: BLE001 - health is a yes/no answer
            return jsonify(status="db-unavailable"), 503
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz():
        ready, checks = readiness(machi)
        return jsonify(status="ready" if ready else "not-ready", checks=checks), 200 if ready else 503
