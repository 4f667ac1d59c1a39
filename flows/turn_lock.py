"""One conversation turn at a time per user, across every server process on the database.

A turn loads the user's stack, runs it (actions may move money) and saves it. Two turns of one
user at once (a double tap, two webhooks handled by two gunicorn workers) would both load the same
stack and the second save would silently drop the first turn's answer. A lock held for the whole
turn makes the second wait and then see the first's result; nothing is ever redone, which matters
because a turn's actions may already have paid.

- In a process: a lock per stripe of user keys (cheap, and it bounds how many threads can wait
  on the database for one user).
- PostgreSQL: `pg_advisory_xact_lock` on a hash of the user key, in a transaction on a connection
  of its own that lasts the turn (the two-int form, apart from the scheduler's and the sealer's
  one-bigint locks). A process that dies mid-turn loses its connection and so its lock.
- SQLite file: a POSIX record lock on one byte per stripe of `<database>.turns`, shared by every
  process on the file; the kernel drops it with the process. (The write lock alone would not do:
  a turn is several short transactions, not one.)
"""
from __future__ import annotations

import fcntl
import os
import threading
import zlib
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

from sqlalchemy import Engine, text

from ledger.db import Database

STRIPES = 64
PG_TURN_CLASS = 0x6D61  # "ma": the first key of the two-int advisory locks taken here


class TurnLock(Protocol):
    def hold(self, user_key: str) -> AbstractContextManager[None]: ...


def stripe(user_key: str) -> int:
    return zlib.crc32(user_key.encode()) % STRIPES


class LocalTurnLock:
    """Turns of one user in turn, within this process (tests, an in-memory store)."""

    def __init__(self) -> None:
        self._locks = [threading.Lock() for _ in range(STRIPES)]

    @contextmanager
    def hold(self, user_key: str) -> Iterator[None]:
        with self._locks[stripe(user_key)]:
            yield


class PgTurnLock:
    """The process's stripe, then the database-wide advisory lock for the user."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._local = LocalTurnLock()

    @contextmanager
    def hold(self, user_key: str) -> Iterator[None]:
        key = zlib.crc32(user_key.encode()) - 2**31  # a signed int4
        with self._local.hold(user_key), self._engine.connect() as conn, conn.begin():
            conn.execute(text("SELECT pg_advisory_xact_lock(:c, :k)"), {"c": PG_TURN_CLASS, "k": key})
            yield  # the commit at the end of the turn releases it


class FileTurnLock:
    """The process's stripe, then that stripe's byte of `<database>.turns` for every process.

    POSIX record locks belong to the process, not the thread, and closing any descriptor of the
    file drops them all. So the threads of a process share one descriptor per file, opened by the
    first turn in progress and closed by the last (no descriptor is kept while nobody talks), and
    take the stripe lock first, so one thread of the process at a time holds a given byte."""

    _files: dict[str, _SharedFile] = {}
    _guard = threading.Lock()

    def __init__(self, path: str) -> None:
        with self._guard:
            self._file = self._files.setdefault(path, _SharedFile(path))

    @contextmanager
    def hold(self, user_key: str) -> Iterator[None]:
        n = stripe(user_key)
        with self._file.local.hold(user_key):
            fd = self._file.open()
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX, 1, n)
                try:
                    yield
                finally:
                    fcntl.lockf(fd, fcntl.LOCK_UN, 1, n)
            finally:
                self._file.close()


class _SharedFile:
    """One descriptor of a lock file for the turns of this process that are in progress."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.local = LocalTurnLock()
        self._mutex = threading.Lock()
        self._fd: int | None = None
        self._users = 0

    def open(self) -> int:
        with self._mutex:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._users += 1
            return self._fd

    def close(self) -> None:
        with self._mutex:
            self._users -= 1
            if self._users == 0 and self._fd is not None:
                os.close(self._fd)  # no turn of this process holds a byte of it now
                self._fd = None


def for_database(db: Database) -> LocalTurnLock | PgTurnLock | FileTurnLock:
    """The turn lock that covers every process working on `db`."""
    if not db.sqlite:
        return PgTurnLock(db.engine)
    path = db.url.removeprefix("sqlite:///")
    if not db.url.startswith("sqlite:///") or path in ("", ":memory:"):
        return LocalTurnLock()  # an in-memory database lives in one process
    return FileTurnLock(os.path.abspath(path) + ".turns")
