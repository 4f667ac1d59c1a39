"""Hand-written SQL for the few statements on the payment path.

SQLAlchemy's expression and result layers cost more per payment than SQLite itself. These
statements are written once with `:name` parameters (rewritten to `%(name)s` for psycopg) and run
on the DBAPI cursor of the unit of work's own connection, inside its transaction. Everything
else in the project uses SQLAlchemy.
"""
from __future__ import annotations

import re
from collections import namedtuple
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

_NAMED = re.compile(r"(?<!:):(\w+)")


class Rows:
    """The little of a result the ledger needs: rows with named fields, one value, a row count."""

    __slots__ = ("_cur", "_make")

    def __init__(self, cur: Any, make: Any) -> None:
        self._cur, self._make = cur, make

    @property
    def rowcount(self) -> int:
        return self._cur.rowcount

    def first(self) -> Any:
        row = self._cur.fetchone()
        return None if row is None else self._make(row)

    def scalar_one(self) -> Any:
        row = self._cur.fetchone()
        if row is None:
            raise LookupError("no row")
        return row[0]

    def __iter__(self) -> Iterator[Any]:
        return (self._make(r) for r in self._cur.fetchall())


class Statement:
    """One SQL text in both paramstyles: `:name` (sqlite3) and `%(name)s` (psycopg)."""

    __slots__ = ("sqlite", "pg", "_row")

    def __init__(self, sql: str) -> None:
        self.sqlite = " ".join(sql.split())
        self.pg = _NAMED.sub(r"%(\1)s", self.sqlite.replace("%", "%%"))
        self._row: Any = None

    def run(self, conn: Connection, sqlite: bool, params: dict[str, Any] | list[dict[str, Any]] | None = None) -> Rows:
        cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        sql = self.sqlite if sqlite else self.pg
        if isinstance(params, list):
            cur.executemany(sql, params)
        else:
            cur.execute(sql, params or {})
        return Rows(cur, self._row_maker(cur))

    def _row_maker(self, cur: Any) -> Any:
        if cur.description is None:
            return tuple
        if self._row is None:
            self._row = namedtuple("Row", [d[0] for d in cur.description], rename=True)._make  # noqa: PYI024
        return self._row


def db_time(dt: datetime | None, sqlite: bool) -> Any:
    """What SQLAlchemy's DateTime would have stored: a fixed-width string on SQLite."""
    if dt is None or not sqlite:
        return dt
    return dt.strftime("%Y-%m-%d %H:%M:%S.%f")


def py_time(value: Any) -> datetime | None:
    """Back from the driver: SQLite gives the string, psycopg a datetime."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)
