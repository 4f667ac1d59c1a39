"""The restore drill: back the ledger up, lose the server, restore into a new database, and check
that the ledger verifies and that every receipt the restored copy owes reaches its people once.

LINE remembers each `X-Line-Retry-Key` and answers 409 ("already accepted") when it comes again,
whatever the message (the fake LINE here does the same). The restored copy's next entry ids are the
ones the lost server had already used after the backup: with keys made from the entry id alone, its
receipts were answered 409 and counted as sent, and nobody got them.

SQLite always; PostgreSQL when TEST_DATABASE_URL is set, restoring into TEST_RESTORE_DATABASE_URL
(or `<its database>_restore` beside it, made if missing). The restore target is emptied first.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from admin_cli.context import CliContext
from admin_cli.main import cli
from app import build_core
from bot.line_client import chunk_retry_key
from config import load_config
from ledger import installation
from ledger.clock import utcnow
from ledger.db import Database, make_engine
from ledger.models import Entry, OutboxEvent
from ledger.services import payments
from tests.bot.conftest import BAKER, HANAKO, SECRET, TOKEN, check_everything_sent, texts
from tests.bot.test_notifications import resident_id
from tests.conftest import PG_URL
from town import demo_town


@pytest.fixture
def restore_url(tmp_path: Path) -> str:
    """An empty database to restore into."""
    if not PG_URL:
        return f"sqlite:///{tmp_path / 'restored.db'}"
    url = os.environ.get("TEST_RESTORE_DATABASE_URL") or _beside(PG_URL)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def _beside(url: str) -> str:
    """`<database>_restore` on the same server, created when missing."""
    target = make_url(url)
    name = f"{target.database}_restore"
    engine = make_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return target.set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def machi_cmd(line, monkeypatch):
    """`machi --database-url <url> ...`, with LINE pointed at the fake."""
    monkeypatch.setenv("MACHI_ENV", "test")
    monkeypatch.setenv("LINE_API_HOST", line.url)
    monkeypatch.setenv("LINE_CHANNEL_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("LINE_CHANNEL_SECRET", SECRET)

    def run(url: str, *args: str):
        return CliRunner().invoke(cli, ["--database-url", url, *args], catch_exceptions=False)

    yield run
    check_everything_sent(line.store)


def config_for(url: str, line):
    return load_config(database_url=url, env="test", line_api_host=line.url, line_channel_secret=SECRET,
                       line_channel_access_token=TOKEN)


def pay(url: str, line, amount: int, key: str) -> int:
    """A payment by Hanako at the bakery, its receipts left in the outbox; returns its entry id."""
    core = build_core(config_for(url, line), outbox=True)
    try:
        return payments.pay(core.uow, resident_id=resident_id(core, HANAKO), amount=amount, merchant_code="M001",
                            channel="mpm", idempotency_key=key).entry_id
    finally:
        core.db.dispose()


def receipts(line, user: str, amount: int) -> int:
    """How many receipts for a payment of `amount` yen reached `user`."""
    shown = f"{amount:,}円"
    return sum(1 for d in line.store.deliveries_to(user) if any(shown in t for t in texts(d.messages)))


def waiting(url: str) -> list[tuple[str, str]]:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = [(r.kind, r.body) for r in conn.execute(select(OutboxEvent.kind, OutboxEvent.body)
                                                          .order_by(OutboxEvent.id))]
    engine.dispose()
    return rows


def test_restore_drill_ledger_verifies_and_each_receipt_is_sent_once(db_url, restore_url, line, machi_cmd, tmp_path):
    core = build_core(config_for(db_url, line))
    demo_town.seed(core)
    core.db.dispose()

    pay(db_url, line, 1101, "drill-a")
    assert "1 件" in machi_cmd(db_url, "notices", "--once", "--nice", "0").output  # told before the backup
    pay(db_url, line, 1102, "drill-b")
    pay(db_url, line, 1103, "drill-c")  # b and c wait in the outbox at the backup
    assert machi_cmd(db_url, "audit", "seal").exit_code == 0
    backup = tmp_path / "machi.backup"
    res = machi_cmd(db_url, "db", "backup", str(backup))
    assert res.exit_code == 0 and "バックアップを保存しました" in res.output, res.output

    # The server goes on after the backup, tells everything, and is then lost.
    lost = [pay(db_url, line, 1104, "drill-d"), pay(db_url, line, 1105, "drill-e")]
    machi_cmd(db_url, "notices", "--once", "--nice", "0")
    assert all(receipts(line, who, amount) == 1 for who in (HANAKO, BAKER) for amount in range(1101, 1106))

    res = machi_cmd(restore_url, "db", "restore", str(backup))
    assert res.exit_code == 0 and "復元しました" in res.output and "新しいインストールID" in res.output, res.output
    res = machi_cmd(restore_url, "audit", "verify")
    assert res.exit_code == 0 and "NG" not in res.output, res.output
    assert len(waiting(restore_url)) == 2  # the payments b and c, each to be told to the payer and the shop

    before = {(who, amount): receipts(line, who, amount) for who in (HANAKO, BAKER) for amount in range(1101, 1108)}
    again = [pay(restore_url, line, 1106, "drill-f"), pay(restore_url, line, 1107, "drill-g")]
    assert again == lost  # the restored copy reuses the lost server's entry ids: the keys must still differ
    stored = waiting(restore_url)
    res = machi_cmd(restore_url, "notices", "--once", "--nice", "0")
    assert "4 件" in res.output, res.output
    # A relay that told the batch and died before removing it: the batch is told again, same keys.
    engine = make_engine(restore_url)
    with engine.begin() as conn:
        conn.execute(OutboxEvent.__table__.insert(), [{"kind": k, "body": b, "created_at": utcnow()}
                                                      for k, b in stored])
    engine.dispose()
    machi_cmd(restore_url, "notices", "--once", "--nice", "0")
    assert waiting(restore_url) == []

    sent = {(who, amount): receipts(line, who, amount) - before[who, amount]
            for who in (HANAKO, BAKER) for amount in range(1101, 1108)}
    owed = {(who, amount): 1 if amount in (1102, 1103, 1106, 1107) else 0
            for who in (HANAKO, BAKER) for amount in range(1101, 1108)}
    assert sent == owed  # each owed receipt once: none twice, none swallowed by LINE's 409
    assert machi_cmd(restore_url, "audit", "verify").exit_code == 0


def test_two_databases_on_one_line_channel_do_not_swallow_each_others_receipts(db_url, restore_url, line,
                                                                               machi_cmd):
    assert machi_cmd(restore_url, "db", "upgrade").exit_code == 0
    for url in (db_url, restore_url):
        core = build_core(config_for(url, line))
        demo_town.seed(core)
        core.db.dispose()
    first, second = pay(db_url, line, 1201, "two-1"), pay(restore_url, line, 1202, "two-2")
    assert first == second
    for url in (db_url, restore_url):
        machi_cmd(url, "notices", "--once", "--nice", "0")
    assert receipts(line, HANAKO, 1201) == 1 and receipts(line, HANAKO, 1202) == 1
    assert receipts(line, BAKER, 1201) == 1 and receipts(line, BAKER, 1202) == 1


def test_restore_refuses_a_database_that_is_not_empty_and_a_missing_file(db_url, machi_cmd, tmp_path):
    backup = tmp_path / "b.backup"
    assert machi_cmd(db_url, "db", "backup", str(backup)).exit_code == 0
    res = machi_cmd(db_url, "db", "backup", str(backup))
    assert res.exit_code == 1 and "上書きはしません" in res.output
    engine = make_engine(db_url)
    with engine.connect() as conn:
        entries = conn.execute(select(func.count()).select_from(Entry)).scalar()
    engine.dispose()
    res = machi_cmd(db_url, "db", "restore", str(backup))
    assert res.exit_code == 1 and "空ではありません" in res.output
    res = machi_cmd(db_url, "db", "restore", str(tmp_path / "nothing.backup"))
    assert res.exit_code == 1 and "がありません" in res.output
    wrong = tmp_path / "notes.txt"
    wrong.write_text("not a backup")
    res = machi_cmd(db_url, "db", "restore", str(wrong))
    assert res.exit_code == 1 and "バックアップではありません" in res.output
    engine = make_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Entry)).scalar() == entries  # nothing changed
    engine.dispose()


def test_staff_commands_send_with_keys_of_their_database_and_mark_restored_renews_them(db_url, line, machi_cmd):
    """Announcements, grant notices and reminders go through the staff commands' LINE client: its keys
    are made within the database's installation id, which `machi db mark-restored` replaces."""
    def staff_client():
        ctx = CliContext(database_url=db_url)
        client = ctx.sender()
        client.close()
        ctx.core().db.dispose()
        return client

    db = Database(db_url)
    before = installation.namespace(db)
    client = staff_client()
    assert client.retry_namespace == before
    key = chunk_retry_key("announce:1:0", 0, client.retry_namespace)
    res = machi_cmd(db_url, "db", "mark-restored")
    assert res.exit_code == 0 and "新しいインストールID" in res.output, res.output
    after = installation.current(db)
    assert after.installation_id != before and after.restored_from == before
    assert staff_client().retry_namespace == after.installation_id
    assert chunk_retry_key("announce:1:0", 0, after.installation_id) != key
    db.dispose()
