"""Webhook benchmark (the LINE bot issue): signed text-message webhooks to `POST /callback` under gunicorn.

The app runs under gunicorn on a free 127.0.0.1 port, on a fresh migrated SQLite database with the
demo town seeded; LINE_API_HOST points at the stand-in for LINE of `bench/fake_line.py` (its own
process) that answers every call with 200 and counts the replies, so answering never fails. `clients` threads, each on its own
keep-alive connection, post one signed webhook after another (closed loop): one text event
("残高", the most common thing residents send) from a registered resident, with a fresh
webhookEventId each time.

Two ways the bot can run, both measured:
- `queued` (production default, MACHI_BOT_WORKERS=4): /callback records the event in the inbox and
  answers; the worker threads run the conversation and reply to LINE right after;
- `inline` (MACHI_BOT_WORKERS=0, dev and tests): the conversation and the reply happen inside the request.
The figures: answers per second, p50 and p99 latency of the 200, replies that reached LINE per second
while the clients ran (what the bot gets through), and replies in all (15 s allowed after the run).
Target: ≥ 300 webhooks/s with p99 under 100 ms. Figures are printed, never asserted.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select

import models_registry
import schema
from app import build_core
from bench import _common
from bench._common import percentile
from bench.fake_line import FakeLine
from bot.webhook import sign
from config import load_config
from ledger.models import Resident
from town import demo_town

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-channel-secret"
TOKEN = "bench-channel-access-token"
TARGET_PER_S, TARGET_P99_MS = 300, 100


def run(seconds: float = 10, clients: int = 16, *, workers: int = 2, threads: int = 8,
        modes: tuple[str, ...] = ("queued", "inline")) -> dict[str, Any]:
    """Webhooks answered per second and latency for each way of running the bot."""
    return {mode: _run_once(seconds, clients, workers, threads, mode) for mode in modes}


def _run_once(seconds: float, clients: int, workers: int, threads: int, mode: str) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="machi-bench-webhook-"))
    url = f"sqlite:///{tmp / 'webhook.db'}"
    users = _prepare(url)
    line = FakeLine()
    answered = lambda: line.count("/v2/bot/message/reply", "/v2/bot/message/push")  # noqa: E731
    port = _common.free_port()
    proc = _gunicorn(url, port, line.url, workers, threads, tmp, bot_workers=4 if mode == "queued" else 0)
    try:
        _common.wait_healthy(port, proc)
        _drive(port, users, clients, 1.0)  # warm-up: imports, connections, the flows' first load
        warm_replies = answered()
        latencies, errors, elapsed = _drive(port, users, clients, seconds)
        replied_in_time = answered() - warm_replies  # what the bot got through while the clients ran
        sent = len(latencies)
        _wait_for(lambda: answered() - warm_replies >= sent, 15)
        replies = answered() - warm_replies
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        line.stop()
    p99 = percentile(latencies, 99)
    per_s = sent / elapsed if elapsed else 0.0
    result = {
        "webhooks_per_s": round(per_s, 1),
        "p50_ms": round(statistics.median(latencies), 2) if latencies else float("nan"),
        "p99_ms": round(p99, 2), "count": sent, "errors": len(errors), "error_kinds": sorted(set(errors))[:5],
        "replies_at_line": replies, "replies_per_s": round(replied_in_time / elapsed, 1) if elapsed else 0.0,
        "seconds": round(elapsed, 2), "clients": clients,
        "gunicorn": f"-w {workers} --threads {threads}", "bot": mode,
        "target_met": bool(latencies) and per_s >= TARGET_PER_S and p99 < TARGET_P99_MS,
    }
    print(f"  webhook ({mode}): {result['webhooks_per_s']} webhooks/s, p50 {result['p50_ms']} ms, "
          f"p99 {result['p99_ms']} ms, {sent} answered; replies {result['replies_per_s']}/s while running, "
          f"{replies} in all; {len(errors)} errors "
          f"({clients} clients, gunicorn {result['gunicorn']})", flush=True)
    return result


# ---------------------------------------------------------------- the database

def _prepare(url: str) -> list[str]:
    """Migrate, seed the demo town, and return the LINE ids of its registered residents."""
    schema.upgrade(url)
    config = load_config(database_url=url, env="test", line_channel_secret=SECRET,
                         line_channel_access_token=TOKEN)
    core = build_core(config)
    models_registry.metadata().create_all(core.db.engine)
    demo_town.seed(core)
    with core.db.session() as s:
        users = list(s.execute(select(Resident.line_user_id).where(Resident.line_user_id.is_not(None),
                                                                   Resident.status == "active")).scalars())
    core.db.dispose()
    return users


# ---------------------------------------------------------------- LINE and the server

def _gunicorn(url: str, port: int, line_url: str, workers: int, threads: int, tmp: Path,
              bot_workers: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "LINE_API_HOST": line_url, "MACHI_ENV": "test",
           "LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": TOKEN, "MACHI_SECRET_KEY": "bench-secret-key",
           "MACHI_BOT_WORKERS": str(bot_workers), "MACHI_NOTICES": "thread",
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, "-m", "gunicorn", "-w", str(workers), "--threads", str(threads), "-k", "gthread",
           "-b", f"127.0.0.1:{port}", "--keep-alive", "30", "--backlog", "512", "--log-level", "warning",
           "--chdir", str(ROOT), "app:create_app()"]
    log = open(tmp / "gunicorn.log", "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def _wait_for(done: Any, timeout: float) -> None:
    end = time.monotonic() + timeout
    while not done() and time.monotonic() < end:
        time.sleep(0.1)


# ---------------------------------------------------------------- the callers

def _body(user_id: str) -> bytes:
    event = {"type": "message", "mode": "active", "timestamp": int(time.time() * 1000),
             "source": {"type": "user", "userId": user_id}, "webhookEventId": "01" + uuid.uuid4().hex[:24].upper(),
             "deliveryContext": {"isRedelivery": False}, "replyToken": uuid.uuid4().hex,
             "message": {"type": "text", "id": str(uuid.uuid4().int % 10**18), "text": "残高", "quoteToken": "q"}}
    return json.dumps({"destination": "U" + "0" * 32, "events": [event]}, ensure_ascii=False).encode()


def _drive(port: int, users: list[str], clients: int, seconds: float) -> tuple[list[float], list[str], float]:
    def request(n: int, k: int) -> _common.Request:
        # each client speaks for its own residents: one person's messages never overlap
        mine = users[n::clients] or [users[n % len(users)]]
        body = _body(mine[k % len(mine)])
        return "POST", "/callback", body, {"X-Line-Signature": sign(SECRET, body), "Content-Type": "application/json"}

    return _common.closed_loop(port, clients, seconds, request, ok_status=200)


if __name__ == "__main__":  # python -m bench.webhook_bench
    print(json.dumps(run(), ensure_ascii=False, indent=2))
