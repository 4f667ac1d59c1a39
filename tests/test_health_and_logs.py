"""What an operator's probes and log shipper see: /healthz, /readyz, request ids, JSON log lines,
and X-Forwarded-* trusted only when MACHI_TRUST_PROXY says so."""
from __future__ import annotations

import dataclasses
import io
import json
import logging
import time
from datetime import datetime

import pytest
from sqlalchemy import insert, text

import logs
from app import create_app
from ledger.models import OutboxEvent


@pytest.fixture
def make_client(config):
    apps = []

    def make(**changes):
        app = create_app(dataclasses.replace(config, **changes))
        apps.append(app)
        return app.test_client(), app.extensions["machi"]

    yield make
    for app in apps:
        app.extensions["machi"].close(grace=0)


def scheduler_ran(machi, seconds_ago: float) -> None:
    with machi.db.engine.begin() as conn:
        conn.execute(text("DELETE FROM apscheduler_jobs"))
        conn.execute(text("INSERT INTO apscheduler_jobs (id, next_run_time, job_state) VALUES ('announce', :t, :s)"),
                     {"t": time.time() - seconds_ago, "s": b"x"})


def test_healthz_says_alive(make_client):
    client, _ = make_client()
    res = client.get("/healthz")
    assert res.status_code == 200 and res.get_json() == {"status": "ok"}


def test_readyz_is_ready_when_every_check_passes(make_client):
    client, machi = make_client()
    scheduler_ran(machi, 10)
    res = client.get("/readyz")
    body = res.get_json()
    assert res.status_code == 200 and body["status"] == "ready", body
    assert set(body["checks"]) == {"database", "migrations", "outbox", "scheduler"}


def test_readyz_refuses_when_the_scheduler_is_not_running(make_client):
    client, machi = make_client()
    res = client.get("/readyz")
    assert res.status_code == 503 and "never run" in res.get_json()["checks"]["scheduler"]["reason"]
    scheduler_ran(machi, 3600)
    body = client.get("/readyz").get_json()
    assert body["status"] == "not-ready" and body["checks"]["scheduler"]["late_seconds"] >= 3600
    client, _ = make_client(ready_scheduler_lag=0)  # a set-up without the scheduler may say so
    assert client.get("/readyz").get_json()["checks"]["scheduler"] == {"ok": True, "checked": False}


def test_readyz_refuses_when_notices_pile_up(make_client):
    client, machi = make_client(ready_outbox_limit=3)
    scheduler_ran(machi, 0)
    with machi.db.engine.begin() as conn:
        conn.execute(insert(OutboxEvent), [{"kind": "x", "body": "{}", "created_at": datetime(2026, 1, 1)}] * 4)
    res = client.get("/readyz")
    assert res.status_code == 503
    assert res.get_json()["checks"]["outbox"] == {"ok": False, "waiting": 4, "limit": 3}


def test_readyz_refuses_when_migrations_are_behind(make_client):
    client, machi = make_client()
    scheduler_ran(machi, 0)
    with machi.db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    try:
        body = client.get("/readyz").get_json()
        assert body["status"] == "not-ready" and body["checks"]["migrations"]["current"] == "0001"
    finally:
        with machi.db.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :h"),
                         {"h": body["checks"]["migrations"]["head"]})


def test_readyz_answers_503_in_json_when_the_database_is_gone(make_client):
    client, machi = make_client()
    machi.db.ping = lambda: (_ for _ in ()).throw(ConnectionError("down"))
    res = client.get("/readyz")
    assert res.status_code == 503 and res.get_json()["checks"]["database"] == {"ok": False, "error": "ConnectionError"}


def test_a_request_id_is_returned_taken_from_the_caller_or_made(make_client):
    client, _ = make_client()
    made = client.get("/healthz").headers["X-Request-Id"]
    assert len(made) == 32
    assert client.get("/healthz").headers["X-Request-Id"] != made
    assert client.get("/healthz", headers={"X-Request-Id": "proxy-1234abcd"}).headers["X-Request-Id"] == "proxy-1234abcd"
    forged = client.get("/healthz", headers={"X-Request-Id": "bad id with spaces"}).headers["X-Request-Id"]
    assert forged != "bad id with spaces" and len(forged) == 32


def test_log_records_in_a_request_carry_its_id_as_json(make_client):
    client, _ = make_client()
    app = client.application
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())

    @app.get("/_log_something")
    def log_something():
        logging.getLogger("machi.test").warning("card 8000-0000-0012 of U%s paid", "0" * 32)
        return "ok"

    logging.getLogger("machi.test").addHandler(handler)
    try:
        rid = client.get("/_log_something", headers={"X-Request-Id": "req-abcdef12"}).headers["X-Request-Id"]
    finally:
        logging.getLogger("machi.test").removeHandler(handler)
    line = json.loads(stream.getvalue().strip())
    assert line["request_id"] == rid == "req-abcdef12" and line["level"] == "WARNING"
    assert "8000-0000-0012" not in line["message"] and "0" * 32 not in line["message"]
    assert line["message"] == "card [card] of [line-id] paid"


def test_gunicorn_access_lines_are_json_without_the_query():
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, "%(h)s", None, None)
    record.args = {"h": "127.0.0.1", "m": "POST", "U": "/api/payments", "q": "secret=1", "s": "201",
                   "D": "12345", "B": "99", "{x-request-id}o": "abc123abc"}
    line = json.loads(logs.JsonFormatter().format(record))
    assert line | {"time": None} == {
        "time": None, "level": "INFO", "logger": "gunicorn.access", "process": line["process"], "request_id": "abc123abc",
        "method": "POST", "path": "/api/payments", "status": 201, "duration_ms": 12.3, "bytes": "99",
        "remote": "127.0.0.1", "message": "request"}


def test_forwarded_headers_are_trusted_only_when_told(make_client):
    forwarded = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "wallet.example"}

    def seen(client):
        app = client.application
        if "_seen" not in app.view_functions:
            from flask import request  # noqa: PLC0415 - a probe route for this test only

            app.add_url_rule("/_seen", "_seen", lambda: {"addr": request.remote_addr, "url": request.url_root})
        return client.get("/_seen", headers=forwarded).get_json()

    plain, _ = make_client()
    assert seen(plain) == {"addr": "127.0.0.1", "url": "http://localhost/"}
    behind, _ = make_client(trust_proxy=1)
    assert seen(behind) == {"addr": "203.0.113.9", "url": "https://wallet.example/"}
