"""Engine, metadata and the unit of work that every money-moving service runs in.

SQLite: write transactions are taken up front (BEGIN IMMEDIATE) and serialised inside the
process by a lock, so concurrent payers never wait in SQLite's sleeping busy handler.
PostgreSQL: services lock the accounts they touch in a fixed order (see `lock_accounts`).
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, create_engine, event, text
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.pool import StaticPool

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


_sqlite_write_locks: dict[str, threading.RLock] = {}


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the per-dialect settings the ledger relies on."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs.setdefault("poolclass", StaticPool)
        engine = create_engine(url, **kwargs)
        _setup_sqlite(engine)
        _sqlite_write_locks.setdefault(url, threading.RLock())
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _setup_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("machi_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


class Database:
    """Holds the engine; hands out units of work. One per app or CLI process."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sqlite = is_sqlite(self.engine)
        self._write_engine = self.engine.execution_options(machi_write=True)
        self._write_lock = _sqlite_write_locks.get(url) if self.sqlite else None

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read (or ORM housekeeping) session, committed on success."""
        with Session(self.engine, expire_on_commit=False) as s:
            with s.begin():
                yield s

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction taken up front; callers that move money use `UnitOfWork`."""
        if self._write_lock is not None:
            self._write_lock.acquire()
        try:
            with Session(self._write_engine, expire_on_commit=False) as s:
                with s.begin():
                    yield s
        finally:
            if self._write_lock is not None:
                self._write_lock.release()

    def ping(self) -> bool:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True

    def dispose(self) -> None:
        self.engine.dispose()


Listener = Callable[[object], None]
