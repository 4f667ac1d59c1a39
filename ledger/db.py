"""Engine, metadata and the unit of work that every money-moving service runs in.

SQLite: write transactions are taken up front (BEGIN IMMEDIATE) and serialised by a lock — a
thread lock inside the process and an flock on `<database>.lock` across processes (gunicorn
workers, the scheduler) — so concurrent payers queue in the kernel instead of SQLite's sleeping
busy handler, which would wreck the tail latency.
PostgreSQL: services lock the accounts they touch in a fixed order (see `lock_accounts`).
"""
from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, create_engine, event, text
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.pool import StaticPool

log = logging.getLogger(__name__)

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


_sqlite_write_locks: dict[str, FairLock] = {}


class _Checkpointer:
    """Copies the WAL back into the database file every second, off the payers' path."""

    def __init__(self, path: str, interval: float = 1.0) -> None:
        self._path, self._interval = path, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        conn = sqlite3.connect(self._path, timeout=30, check_same_thread=False)
        try:
            while not self._stop.wait(self._interval):
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error:
            log.warning("background checkpoint stopped; SQLite's own checkpoints take over")
        finally:
            conn.close()

    def stop(self) -> None:
        """Stop, and wait until its connection is closed: the last connection to close copies the WAL into
        the file, so a file copied right after `Database.dispose` (a test's template) holds every commit."""
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=self._interval + 5)


class FairLock:
    """A re-entrant lock that hands over in arrival order, so no payer waits behind newcomers.

    `threading.Lock` wakes an arbitrary waiter; under load that starves a few and ruins the p99.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[tuple[int, threading.Lock]] = deque()
        self._owner: int | None = None
        self._count = 0

    def acquire(self) -> None:
        me = threading.get_ident()
        with self._mutex:
            if self._owner == me:
                self._count += 1
                return
            if self._owner is None:
                self._owner, self._count = me, 1
                return
            gate = threading.Lock()
            gate.acquire()
            self._waiters.append((me, gate))
        gate.acquire()  # released by the owner handing over to us

    def release(self) -> None:
        with self._mutex:
            self._count -= 1
            if self._count:
                return
            if self._waiters:
                nxt, gate = self._waiters.popleft()
                self._owner, self._count = nxt, 1
                gate.release()
            else:
                self._owner = None


class _WriterLock:
    """Thread lock plus, for a database file, an exclusive flock shared by every process."""

    def __init__(self, url: str) -> None:
        self._thread_lock = _sqlite_write_locks.setdefault(url, FairLock())
        path = url.removeprefix("sqlite:///")
        self._fd = os.open(path + ".lock", os.O_RDWR | os.O_CREAT, 0o600) if path not in ("", ":memory:", "sqlite://") else None
        self._depth = 0

    def acquire(self) -> None:
        self._thread_lock.acquire()
        if self._fd is not None and self._depth == 0:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        self._depth += 1

    def release(self) -> None:
        self._depth -= 1
        if self._fd is not None and self._depth == 0:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._thread_lock.release()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the per-dialect settings the ledger relies on."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs.setdefault("poolclass", StaticPool)
        engine = create_engine(url, **kwargs)
        _setup_sqlite(engine)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_recycle", 1800)  # no pre-ping: it would cost a round trip per payment
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
        # Checkpoints (the only fsyncs in WAL mode with synchronous=NORMAL) run on a background
        # thread (`_Checkpointer`); this high mark only bounds the WAL if that thread is not running.
        cur.execute("PRAGMA wal_autocheckpoint=20000")
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
        self._write_lock = _WriterLock(url) if self.sqlite else None
        path = url.removeprefix("sqlite:///")
        self._checkpointer = _Checkpointer(path) if self.sqlite and path not in ("sqlite://", ":memory:") else None
        self.cache: dict[str, Any] = {}  # facts that never change once written (money type codes)

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

    @contextmanager
    def write_conn(self) -> Iterator[Connection]:
        """A bare write transaction on a Connection: the unit of work's fast path."""
        if self._write_lock is not None:
            self._write_lock.acquire()
        try:
            with self._write_engine.connect() as conn:
                with conn.begin():
                    yield conn
        finally:
            if self._write_lock is not None:
                self._write_lock.release()

    def ping(self) -> bool:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True

    def dispose(self) -> None:
        self.engine.dispose()
        if self._write_lock is not None:
            self._write_lock.close()
        if self._checkpointer is not None:
            self._checkpointer.stop()


Listener = Callable[[object], None]
