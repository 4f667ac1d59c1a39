"""One runner per database for a long-lived background job (the scheduler, the notice relay).

A PostgreSQL advisory lock held on its own connection, or on SQLite an flock on
`<database>.<name>.lock`: the OS drops either when the process dies, so a killed runner never
leaves a stale lease behind.
"""
from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url


class RunnerLock:
    """Held for the life of the runner; `acquire` never waits (a standby retries)."""

    def __init__(self, url: str, engine: Engine, *, name: str, key: int) -> None:
        self.url, self.engine, self.name, self.key = url, engine, name, key
        self._conn: Any = None
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None or self._fd is not None

    def acquire(self) -> bool:
        if self.engine.dialect.name == "postgresql":
            conn = self.engine.connect()
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar())
            conn.commit()
            if got:
                self._conn = conn
            else:
                conn.close()
            return got
        fd = os.open(self.lock_path(), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return True

    def lock_path(self) -> str:
        database = make_url(self.url).database or ""
        if database in ("", ":memory:"):
            return str(Path("instance") / f"{self.name}.lock")
        return f"{database}.{self.name}.lock"

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                self._conn.commit()
            finally:
                self._conn.close()
                self._conn = None
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
