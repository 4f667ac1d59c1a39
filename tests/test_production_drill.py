"""The production set-up, tried end to end (opt-in: MACHI_DRILL=1; it takes about a minute).

PostgreSQL; the web app under gunicorn with deploy/gunicorn.conf.py; `machi notices` and `machi
scheduler` as processes of their own, each started with the command its systemd unit holds
(deploy/*.service, their /srv/machi and /var/lib/machi paths mapped onto this checkout and a
temporary folder) and the settings of deploy/machi.env.example filled in; a fake LINE on a real
socket. A resident pays through the API; the receipt must reach LINE through the notice relay;
/readyz must say ready; every log line of the three processes must be JSON, the API's with its
request id, and none may hold a resident's name, LINE id or card number.

The database is `MACHI_DRILL_DATABASE_URL`, by default machi_prod_drill on the local PostgreSQL;
the drill empties it first.
"""
from __future__ import annotations

import http.client
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from config import ROOT
from ledger.models import Resident
from simulator.fake_line_server import run_fake_line
from tests.prod_values import PROD_VALUES
from town import demo_town

pytestmark = pytest.mark.skipif(os.environ.get("MACHI_DRILL") != "1",
                                reason="the production drill is opt-in: set MACHI_DRILL=1 (needs PostgreSQL)")

DRILL_DB = os.environ.get("MACHI_DRILL_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/machi_prod_drill")
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
HANAKO, BAKER = demo_town.HANAKO.line_user_id, demo_town.BAKER.line_user_id
CARD, PIN = demo_town.CARD_ELDER_NUMBER, demo_town.CARD_ELDER_PIN


def unit_command(name: str, var: Path) -> list[str]:
    """The ExecStart of deploy/<name>.service, with the install's paths mapped onto this checkout."""
    for line in (DEPLOY / f"{name}.service").read_text().splitlines():
        if line.startswith("ExecStart="):
            cmd = line.removeprefix("ExecStart=")
            cmd = cmd.replace("/srv/machi/.venv/bin/", f"{BIN}/").replace("/srv/machi/", f"{ROOT}/")
            return shlex.split(cmd.replace("/var/lib/machi/", f"{var}/"))
    raise AssertionError(f"{name}.service has no ExecStart")


def env_file(var: Path) -> dict[str, str]:
    """deploy/machi.env.example as an EnvironmentFile would give it, its blanks filled as an operator would."""
    out = {}
    for line in (DEPLOY / "machi.env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            out[name.strip()] = value.strip().replace("/var/lib/machi/", f"{var}/")
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(port: int, method: str, path: str, body: dict | None = None, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request(method, path, body=json.dumps(body) if body is not None else None,
                     headers={"Content-Type": "application/json", **(headers or {})})
        res = conn.getresponse()
        data = res.read()
        return res.status, dict(res.getheaders()), (json.loads(data) if data else None)
    finally:
        conn.close()


def wait_for(what: str, check, timeout: float, procs: dict) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for name, proc in procs.items():
            assert proc.poll() is None, f"{name} exited with {proc.returncode}"
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def drill_db() -> str:
    engine = create_engine(DRILL_DB)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    except Exception as exc:  # noqa: BLE001 - no PostgreSQL here: say so
        pytest.skip(f"PostgreSQL for the drill is not reachable at {DRILL_DB}: {type(exc).__name__}")
    finally:
        engine.dispose()
    return DRILL_DB


def test_production_drill(drill_db, tmp_path):
    var = tmp_path / "var"
    (var / "payouts").mkdir(parents=True)
    line_url, store, stop_line = run_fake_line(channel_access_token=PROD_VALUES["line_channel_access_token"])
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MACHI_", "LINE_", "DATABASE_URL", "LIFF_"))}
    env.update(env_file(var))
    env.update(DATABASE_URL=drill_db, LINE_API_HOST=line_url, MACHI_PUBLIC_URL="https://wallet.example.jp",
               LINE_CHANNEL_SECRET=PROD_VALUES["line_channel_secret"],
               LINE_CHANNEL_ACCESS_TOKEN=PROD_VALUES["line_channel_access_token"],
               LINE_LOGIN_CHANNEL_ID=PROD_VALUES["line_login_channel_id"], LIFF_ID=PROD_VALUES["liff_id"],
               MACHI_SECRET_KEY=PROD_VALUES["secret_key"],
               GUNICORN_CMD_ARGS=f"--bind 127.0.0.1:{port} --workers 2")
    assert env["MACHI_ENV"] == "prod" and env["MACHI_NOTICES"] == "separate"

    def machi(*args: str, extra: dict | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / "machi"), *args], env={**env, **(extra or {})}, cwd=ROOT,
                              capture_output=True, text=True, timeout=300)

    # The unit's ExecStartPre: refuses a weak secret, passes the filled-in file.
    weak = machi("config", "check", extra={"MACHI_SECRET_KEY": "z"})
    assert weak.returncode == 1 and "MACHI_SECRET_KEY が弱すぎます" in weak.stdout
    ok = machi("config", "check")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert PROD_VALUES["secret_key"] not in ok.stdout
    assert machi("db", "upgrade").returncode == 0
    seeded = machi("demo", "seed", extra={"MACHI_ENV": "test"})  # the demo town: test data, not part of a deployment
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr

    logs = {name: tmp_path / f"{name}.log" for name in ("web", "notices", "scheduler")}
    procs: dict[str, subprocess.Popen] = {}
    try:
        for name, unit in (("web", "machi-web"), ("notices", "machi-notices"), ("scheduler", "machi-scheduler")):
            with open(logs[name], "w") as out:
                procs[name] = subprocess.Popen(unit_command(unit, var), cwd=ROOT, env=env, stdout=out,
                                               stderr=subprocess.STDOUT)
        wait_for("/healthz", lambda: call(port, "GET", "/healthz")[0] == 200, 180, procs)
        wait_for("/readyz", lambda: call(port, "GET", "/readyz")[0] == 200, 120, procs)
        status, _h, ready = call(port, "GET", "/readyz")
        assert ready["status"] == "ready" and all(c["ok"] for c in ready["checks"].values()), ready

        hanako = {"Authorization": "Bearer " + store.issue_id_token(HANAKO, PROD_VALUES["line_login_channel_id"])}
        status, headers, body = call(port, "POST", "/api/payments",
                                     {"merchant_code": "M001", "amount": 1200, "idempotency_key": "drill-pay-0001"},
                                     {**hanako, "X-Request-Id": "drill-request-0001"})
        assert status == 201, body
        assert headers["X-Request-Id"] == "drill-request-0001"

        baker = {"Authorization": "Bearer " + store.issue_id_token(BAKER, PROD_VALUES["line_login_channel_id"])}
        status, headers, card = call(port, "POST", "/api/cards/lookup", {"card_number": CARD}, baker)
        assert status == 200 and card["status"] == "active", card
        made_id = headers["X-Request-Id"]
        status, _h, body = call(port, "POST", "/api/payments",
                                {"card_number": CARD, "pin": PIN, "amount": 300, "idempotency_key": "drill-card-0001"},
                                baker)
        assert status == 201, body

        def receipt() -> bool:
            said = json.dumps(store.messages_to(HANAKO), ensure_ascii=False)
            return "お支払いが完了しました" in said and "1,200円" in said

        wait_for("the receipt at LINE", receipt, 60, procs)
    finally:
        for proc in procs.values():
            proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        stop_line()
    assert procs["notices"].returncode == 0 and procs["scheduler"].returncode == 0

    engine = create_engine(drill_db)
    try:
        with engine.connect() as conn:
            people = conn.execute(select(Resident.name, Resident.line_user_id)).all()
    finally:
        engine.dispose()
    forbidden = {CARD, f"{CARD[:4]}-{CARD[4:8]}-{CARD[8:]}", f"{CARD[:4]} {CARD[4:8]} {CARD[8:]}", f'"{PIN}"'}
    forbidden |= {n for n, _ in people if n} | {u for _, u in people if u} | {BAKER}
    records: dict[str, list[dict]] = {}
    for name, path in logs.items():
        lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
        assert lines, f"{name} wrote no log"
        records[name] = []
        for ln in lines:
            try:
                records[name].append(json.loads(ln))
            except json.JSONDecodeError:
                raise AssertionError(f"{name} wrote a line that is not JSON: {ln[:200]}") from None
            leaked = [f for f in forbidden if f in ln]
            assert not leaked, f"{name} logged personal data: {ln[:200]}"
        assert all({"time", "level", "logger", "request_id", "message"} <= set(r) for r in records[name])
        assert {r["process"] for r in records[name]} == {name}
    access = [r for r in records["web"] if r["logger"] == "gunicorn.access"]
    paid = [r for r in access if r["path"] == "/api/payments" and r["request_id"] == "drill-request-0001"]
    assert paid and paid[0]["status"] == 201 and paid[0]["method"] == "POST"
    assert any(r["path"] == "/api/cards/lookup" and r["request_id"] == made_id for r in access)
    assert any("起動しました" in r["message"] for r in records["notices"])
    assert any("起動しました" in r["message"] for r in records["scheduler"])
    report = tmp_path.parent / "drill-report.json"
    report.write_text(json.dumps({"readyz": ready, "log_lines": {k: len(v) for k, v in records.items()},
                                  "access_sample": paid[0]}, ensure_ascii=False, indent=1))
