"""Who tells the ledger's events (MACHI_NOTICES): a receipt is stored with the payment, so it
reaches the payer and the shop once, even when the server that took the payment has stopped
before telling it; `machi notices` tells what the server left, and a relay thread in the server
tells receipts without anyone waiting for them."""
from __future__ import annotations

import dataclasses
import time
from datetime import timedelta

import pytest
from click.testing import CliRunner

from admin_cli.main import cli
from app import build_core, create_app
from flows.present import short_day
from ledger.clock import utcnow
from ledger.services import payments
from ledger.uow import UnitOfWork
from tests.bot.conftest import BAKER, HANAKO, SECRET, TOKEN, check_everything_sent, texts
from tests.bot.test_notifications import resident_id
from town import demo_town


@pytest.fixture
def server(bot_config, line, monkeypatch):
    """A server on the demo town, started by the test with the MACHI_NOTICES it sets."""
    core = build_core(bot_config)
    demo_town.seed(core)
    core.db.dispose()
    started = []

    def start(mode: str):
        app = create_app(dataclasses.replace(bot_config, notices=mode))
        started.append(app.extensions["machi"])
        return app.extensions["machi"]

    yield start
    for machi in started:
        machi.close(grace=0)
    check_everything_sent(line.store)


def words(line, user: str) -> str:
    return "\n".join(texts(line.store.messages_to(user)))


def machi_notices(bot_config, line, monkeypatch, *args: str):
    monkeypatch.setenv("MACHI_ENV", "test")
    monkeypatch.setenv("LINE_API_HOST", line.url)
    monkeypatch.setenv("LINE_CHANNEL_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("LINE_CHANNEL_SECRET", SECRET)
    return CliRunner().invoke(cli, ["--database-url", bot_config.database_url, "notices", *args],
                              catch_exceptions=False)


def test_a_receipt_left_by_a_stopped_server_is_sent_once_by_machi_notices(server, bot_config, line, monkeypatch):
    machi = server("separate")
    payments.pay(machi.uow, resident_id=resident_id(machi, HANAKO), amount=1200, merchant_code="M001",
                 channel="mpm", idempotency_key="relay-1")
    machi.extras["bot"].drain(5)
    assert line.store.messages_to(HANAKO) == []  # the server tells nothing in this mode
    machi.close(grace=0)  # the server stops: the receipt is in the database, not in its memory

    result = machi_notices(bot_config, line, monkeypatch, "--once", "--nice", "0")
    assert result.exit_code == 0, result.output
    assert "お知らせを送りました: 1 件" in result.output
    payer = words(line, HANAKO)
    assert "お支払いが完了しました" in payer and "1,200円" in payer and "こむぎベーカリー" in payer
    assert "お支払いを受け付けました" in words(line, BAKER)

    again = machi_notices(bot_config, line, monkeypatch, "--once", "--nice", "0")
    assert "お知らせを送りました: 0 件" in again.output
    assert len(line.store.deliveries_to(HANAKO)) == 1 and len(line.store.deliveries_to(BAKER)) == 1


def test_a_relay_thread_in_the_server_sends_receipts_without_being_asked(server, line):
    machi = server("thread")
    payments.pay(machi.uow, resident_id=resident_id(machi, HANAKO), amount=800, merchant_code="M001",
                 channel="cpm", idempotency_key="relay-2")
    deadline = time.monotonic() + 10
    while not (line.store.messages_to(HANAKO) and line.store.messages_to(BAKER)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "800円" in words(line, HANAKO) and "800円" in words(line, BAKER)


def test_the_receipt_says_when_it_was_paid_even_when_told_late(server, bot_config, line, monkeypatch):
    machi = server("separate")
    paid = utcnow() - timedelta(hours=3, minutes=17)
    three_hours_ago = UnitOfWork(machi.db, machi.bus, machi.uow.policy, clock=lambda: paid, outbox=machi.outbox)
    payments.pay(three_hours_ago, resident_id=resident_id(machi, HANAKO), amount=500, merchant_code="M001",
                 channel="mpm", idempotency_key="relay-3")
    machi.close(grace=0)
    machi_notices(bot_config, line, monkeypatch, "--once", "--nice", "0")
    assert short_day(paid, "ja") in words(line, HANAKO)
    assert short_day(utcnow(), "ja") not in words(line, HANAKO)
