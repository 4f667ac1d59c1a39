"""Shared fixtures. Tests run on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is set.

The schema always comes from the real Alembic migrations, once per run; each test then starts
from empty tables (SQLite: a fresh copy of the migrated file; PostgreSQL: TRUNCATE).
"""
from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

import models_registry
import schema
from app import Machi, build_core, create_app
from bot import line_check
from config import Config, load_config
from ledger.db import Database, make_engine
from tests import line_files

line_files.use_shared_beside_repository()
PG_URL = os.environ.get("TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated database: a SQLite file to copy, or the PostgreSQL URL, reset to empty."""
    if PG_URL:
        engine = make_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        schema.upgrade(PG_URL)
        _create_unmigrated_tables(PG_URL)
        return PG_URL
    path = tmp_path_factory.mktemp("template") / "template.db"
    url = f"sqlite:///{path}"
    schema.upgrade(url)
    _create_unmigrated_tables(url)
    return str(path)


def _create_unmigrated_tables(url: str) -> None:
    """Tables a change added before its migration was written; tests/test_schema.py flags them."""
    engine = make_engine(url)
    models_registry.metadata().create_all(engine)
    engine.dispose()


def _truncate_all(url: str) -> None:
    """Empty every table. A thread the previous test left finishing (a relay, a served app winding down)
    may still hold a row lock: PostgreSQL then picks the TRUNCATE as a deadlock victim, so try again."""
    tables = ", ".join(f'"{t.name}"' for t in models_registry.metadata().sorted_tables)
    engine = make_engine(url)
    try:
        for attempt in range(5):
            try:
                with engine.begin() as conn:
                    conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
                return
            except OperationalError:
                if attempt == 4:
                    raise
                time.sleep(0.5 * (attempt + 1))
    finally:
        engine.dispose()


@pytest.fixture(autouse=True)
def _seal_anchors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test its own anchor file: anchors of an earlier test's (truncated) ledger would not match."""
    monkeypatch.setenv("MACHI_SEAL_ANCHOR_FILE", str(tmp_path / "seal-anchors.jsonl"))


@pytest.fixture
def db_url(template_db: str, tmp_path: Path) -> str:
    if PG_URL:
        _truncate_all(PG_URL)
        return PG_URL
    target = tmp_path / "machi.db"
    shutil.copyfile(template_db, target)
    return f"sqlite:///{target}"


@pytest.fixture
def config(db_url: str) -> Config:
    return load_config(database_url=db_url, env="test", line_api_host="http://127.0.0.1:9")


@pytest.fixture
def core(config: Config) -> Iterator[Machi]:
    machi = build_core(config)
    yield machi
    machi.db.dispose()


@pytest.fixture
def db(core: Machi) -> Database:
    return core.db


@pytest.fixture
def uow(core: Machi):
    return core.uow


@pytest.fixture
def app(config: Config):
    application = create_app(config)
    application.testing = True
    yield application
    application.extensions["machi"].close(grace=0)


@pytest.fixture
def client(app):
    return app.test_client()


# --------------------------------------------------------------------------- LINE's spec files


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the `line_spec` tests, with a plain reason, on a checkout without LINE's spec files."""
    if line_files.spec_dir() is not None:
        return
    skip = pytest.mark.skip(reason=line_files.REASON)
    for item in items:
        if item.get_closest_marker("line_spec"):
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config) -> None:
    """Say which LINE checks ran: spec-file tests skipped (and why), and what payloads were checked against."""
    skipped = [r for r in terminalreporter.stats.get("skipped", [])
               if isinstance(r.longrepr, tuple) and line_files.REASON in str(r.longrepr[2])]
    if skipped:
        terminalreporter.write_line(f"{len(skipped)} tests of LINE's spec files skipped: {line_files.REASON}",
                                    yellow=True)
    try:
        source = line_check.source()
    except Exception as exc:  # a summary line must not fail the run (e.g. LINE_CHECK=spec, no files)
        source = f"nothing ({exc})"
    terminalreporter.write_line(f"LINE payloads checked against {source}")
