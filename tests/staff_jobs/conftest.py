"""A small town, a fake LINE platform on a real socket, and helpers to run `machi` in-process or as a
child process that can be killed half-way (crash tests)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import request
from sqlalchemy import func, insert, select
from werkzeug.serving import make_server

from admin_cli.main import cli
from ledger import registry
from ledger.models import Account, Entry, GrantProgram, MoneyType, Resident, Segment
from ledger.uow import UnitOfWork
from simulator.fake_line import FakeLineStore
from simulator.fake_line_server import create_fake_line_app
from tests.flex_text import read_across_lines

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "staff-jobs-test-token"
SEND_PATHS = ("/v2/bot/message/push", "/v2/bot/message/multicast")


def uid(n: int) -> str:
    return f"U{n:032x}"


@dataclass
class Gate:
    """Lets `allow` message sends through, then holds the next one after LINE accepted it (the answer
    never reaches the sender), so a test can kill the sender at the worst moment."""

    allow: int | None = None
    passed: int = 0
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def after(self, status: int) -> None:
        if request.path not in SEND_PATHS or status >= 400:
            return
        with self.lock:
            self.passed += 1
            hold = self.allow is not None and self.passed > self.allow
        if hold:
            self.held.set()
            self.release.wait(120)


@dataclass
class FakeLine:
    url: str
    store: FakeLineStore
    gate: Gate

    def multicasts(self) -> list[Any]:
        return [r for r in self.store.requests_to("/v2/bot/message/multicast") if r.status is not None]

    def deliveries(self, user: str, alt: str | None = None) -> list[Any]:
        """Deliveries LINE accepted for this user (once per retry key: a 409 repeat is not a delivery)."""
        out = []
        for d in self.store.deliveries_to(user):
            if alt is None or any(alt in (m.get("altText") or m.get("text") or "") for m in d.messages):
                out.append(d)
        return out


@pytest.fixture
def fake_line() -> Iterator[FakeLine]:
    store = FakeLineStore()
    gate = Gate()
    app = create_fake_line_app(store, channel_access_token=TOKEN)

    @app.after_request
    def _gate(response):  # runs after the fake recorded the delivery
        gate.after(response.status_code)
        return response

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield FakeLine(f"http://127.0.0.1:{server.server_port}", store, gate)
    finally:
        gate.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def line_env(monkeypatch: pytest.MonkeyPatch, fake_line: FakeLine, db_url: str) -> dict[str, str]:
    env = {"LINE_API_HOST": fake_line.url, "LINE_CHANNEL_ACCESS_TOKEN": TOKEN, "MACHI_ENV": "test",
           "DATABASE_URL": db_url, "MACHI_STAFF": "staff:test",
           "MACHI_SEAL_ANCHOR_FILE": os.environ["MACHI_SEAL_ANCHOR_FILE"]}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return env


@dataclass
class Town:
    core: Any
    residents: list[int]        # ids; index 0..n-1
    line_ids: dict[int, str]    # resident id -> LINE user id (reachable or not)
    unreachable: int            # resident who blocked the account
    card_only: int              # resident without LINE
    english: int

    def at(self, when: datetime) -> UnitOfWork:
        return UnitOfWork(self.core.db, self.core.bus, self.core.uow.policy, clock=lambda: when)

    def count(self, model: Any, *where: Any) -> int:
        with self.core.db.session() as s:
            return s.execute(select(func.count()).select_from(model).where(*where)).scalar_one()

    def entries_per_resident(self, ref: str) -> dict[int, int]:
        with self.core.db.session() as s:
            return dict(s.execute(select(Entry.resident_id, func.count()).where(Entry.ref == ref)
                                  .group_by(Entry.resident_id)).all())


def add_residents(core: Any, start: int, count: int, **fields: Any) -> list[int]:
    """Many residents fast (a multi-row insert), each with a wallet account and LINE id uid(n)."""
    with core.db.write() as s:
        s.execute(insert(Account), [{"kind": "resident", "code": f"resident-bulk:{n}"} for n in range(start, start + count)])
        accs = dict(s.execute(select(Account.code, Account.id).where(
            Account.code.in_([f"resident-bulk:{n}" for n in range(start, start + count)]))).all())
        s.execute(insert(Resident), [{"line_user_id": uid(n), "account_id": accs[f"resident-bulk:{n}"],
                                      "name": f"住民{n}", "birth_date": date(1980, 1, 1), "language": "ja",
                                      "status": "active", "reachable": True, "children": 1, "verification": "counter",
                                      **fields}
                                     for n in range(start, start + count)])
        return list(s.execute(select(Resident.id).where(Resident.line_user_id.in_(
            [uid(n) for n in range(start, start + count)])).order_by(Resident.id)).scalars())


@pytest.fixture
def town(core: Any) -> Town:
    """Ten residents: 1–4 have a child, #3 reads English, #9 blocked the account, #10 has only a card;
    money types for grants (GRANT), points (PT) and certificates (PREM); a segment and two programs."""
    with core.db.write() as s:
        registry.create_money_type(s, code="GRANT", name="子育て応援券", name_en="Child support", kind="grant",
                                   validity_days=180)
        registry.create_money_type(s, code="PT", name="ボランティアポイント", kind="point", validity_days=31)
        registry.create_money_type(s, code="PREM", name="プレミアム商品券", kind="prepaid", valid_until=date(2099, 3, 31))
        registry.create_merchant(s, code="M001", name="こむぎベーカリー", category="small", fee_rate_bp=100)
        ids, lines = [], {}
        for n in range(1, 11):
            line = None if n == 10 else uid(0xA000 + n)
            r = registry.create_resident(s, line_user_id=line, name=f"住民{n}", birth_date=date(1950 + n, 1, 1),
                                         children=1 if n <= 4 else 0, language="en" if n == 3 else "ja",
                                         reachable=n != 9, registered_at=datetime(2026, 1, 1),
                                         verification="counter")
            ids.append(r.id)
            if line:
                lines[r.id] = line
        seg = Segment(name="子育て", criteria={"min_children": 1})
        s.add(seg)
        s.flush()
        grant_id = s.execute(select(MoneyType.id).where(MoneyType.code == "GRANT")).scalar_one()
        s.add(GrantProgram(code="BABY", name="出産祝い給付金", money_type_id=grant_id, amount=10_000, mode="push",
                           segment_id=seg.id))
        s.add(GrantProgram(code="WINTER", name="冬の暮らし応援", money_type_id=grant_id, amount=5_000, mode="claim"))
    return Town(core, ids, lines, unreachable=ids[8], card_only=ids[9], english=ids[2])


def machi(*args: str) -> Result:
    """`machi …` in this process (the environment from `line_env`)."""
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def child_env(line_env: dict[str, str], **extra: str) -> dict[str, str]:
    return {**os.environ, **line_env, "PYTHONPATH": str(ROOT), **extra}


def run_child(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "tests" / "staff_jobs" / "crash_runner.py"), *args],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def kill_when(env: dict[str, str], args: list[str], ready: Any, timeout: float = 120) -> int:
    """Start `machi args` as a child, wait until `ready()` says it is mid-way, then SIGKILL it."""
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "staff_jobs" / "crash_runner.py"), *args],
                            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    try:
        while not ready():
            if proc.poll() is not None:
                out, err = proc.communicate()
                raise AssertionError(f"the child finished before the crash point (rc={proc.returncode}):\n{out}\n{err}")
            if time.monotonic() > deadline:
                raise AssertionError("the child never reached the crash point")
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    return proc.returncode


def later(days: int = 0, minutes: int = 0) -> datetime:
    return datetime.utcnow() + timedelta(days=days, minutes=minutes)


def flex_texts(node) -> list[str]:
    """Every text a Flex bubble shows, in order."""
    if isinstance(node, dict):
        own = [read_across_lines(node["text"])] if node.get("type") == "text" and "text" in node else []
        return own + [t for v in node.values() for t in flex_texts(v)]
    if isinstance(node, list):
        return [t for v in node for t in flex_texts(v)]
    return []


def flex_actions(node) -> list[dict]:
    """Every button's action in a Flex bubble, in order."""
    if isinstance(node, dict):
        own = [node["action"]] if node.get("type") == "button" else []
        return own + [a for k, v in node.items() if k != "action" for a in flex_actions(v)]
    if isinstance(node, list):
        return [a for v in node for a in flex_actions(v)]
    return []
