"""The unit of work: one write transaction, its domain events, retries on conflicts.

A service function receives a `Tx`, does its reads and writes on `tx.conn`, appends domain
events to `tx.events`; `run` commits, then publishes. Anything raised rolls the whole thing back.
With an outbox (the server's unit of work), the events are also written in the same transaction,
so what must be told (a receipt) is told even if the process stops right after the commit.
"""
from __future__ import annotations

import hashlib
import json
import random
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ledger.clock import utcnow
from ledger.db import Database
from ledger.errors import Conflict
from ledger.events import DomainEvent, MessageBus
from ledger.models import Account
from ledger.outbox import Outbox
from ledger.policy import Policy

T = TypeVar("T")

# PostgreSQL: unique_violation (a concurrent insert of the same key: the retry finds the first
# one), serialization_failure, deadlock_detected
_RETRYABLE_SQLSTATES = {"23505", "40001", "40P01"}


@dataclass
class Tx:
    conn: Connection
    now: datetime
    policy: Policy
    sqlite: bool
    events: list[DomainEvent] = field(default_factory=list)
    cache: dict = field(default_factory=dict)
    _session: Session | None = None

    @property
    def session(self) -> Session:
        """An ORM session inside the same transaction, made only for the services that want objects."""
        if self._session is None:
            self._session = Session(bind=self.conn, expire_on_commit=False)
        return self._session

    def lock_parent(self, model: type, row_id: int) -> None:
        """Lock the row a shared limit hangs on (a grant program's budget, an offer's stock) before what
        counts against it is summed. Taken before any account, so locks always come in the order:
        that row, then accounts by id. SQLite needs none (see `lock_accounts`)."""
        if not self.sqlite:
            self.conn.execute(select(model.id).where(model.id == row_id).with_for_update())

    def lock_accounts(self, account_ids: list[int]) -> None:
        """Row locks in ascending id order, so two transactions never wait on each other in a cycle.

        SQLite needs none: its write transactions are taken up front (BEGIN IMMEDIATE).
        """
        if self.sqlite or not account_ids:
            return
        ids = sorted(set(account_ids))
        self.conn.execute(
            select(Account.id).where(Account.id.in_(ids)).order_by(Account.id).with_for_update()
        ).all()


def request_fingerprint(params: dict[str, Any]) -> str:
    """A stable hash of a request's parameters, to tell a replay from a reused key."""
    raw = json.dumps(params, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


def _retryable(exc: BaseException) -> bool:
    """Conflicts worth a fresh attempt, whether SQLAlchemy wrapped the driver's error or not."""
    if isinstance(exc, Conflict):
        return True
    driver_exc = getattr(exc, "orig", None) or exc
    if getattr(driver_exc, "sqlstate", None) in _RETRYABLE_SQLSTATES:
        return True
    if isinstance(driver_exc, sqlite3.IntegrityError):
        return "UNIQUE" in str(driver_exc)
    if isinstance(driver_exc, sqlite3.OperationalError):
        return "database is locked" in str(driver_exc)
    return isinstance(exc, IntegrityError)


class UnitOfWork:
    def __init__(self, db: Database, bus: MessageBus, policy: Policy,
                 clock: Callable[[], datetime] = utcnow, outbox: Outbox | None = None,
                 told_by_caller: tuple[type[DomainEvent], ...] = ()) -> None:
        self.db = db
        self.bus = bus
        self.policy = policy
        self.clock = clock
        self.outbox = outbox
        self.told_by_caller = told_by_caller

    def telling_itself(self, *event_types: type[DomainEvent]) -> UnitOfWork:
        """The same unit of work for a caller that tells people of `event_types` itself (a grant run's
        multicast): those events are still published here, but not stored for the notice relay, so nobody
        hears of them twice."""
        return UnitOfWork(self.db, self.bus, self.policy, self.clock, self.outbox,
                          told_by_caller=self.told_by_caller + event_types)

    def run(self, fn: Callable[[Tx], T]) -> T:
        """Run `fn` in one write transaction; retry whole on conflicts; publish after commit."""
        attempts = self.policy.conflict_retries
        for attempt in range(attempts):
            try:
                with self.db.write_conn() as conn:
                    tx = Tx(conn=conn, now=self.clock(), policy=self.policy, sqlite=self.db.sqlite, cache=self.db.cache)
                    try:
                        result = fn(tx)
                        if tx._session is not None:
                            tx._session.flush()
                        stored = [e for e in tx.events if not isinstance(e, self.told_by_caller)]
                        if self.outbox is not None and stored:
                            self.outbox.record(conn, stored, tx.now)
                    finally:
                        if tx._session is not None:
                            tx._session.close()
                events = tx.events
                break
            except Exception as exc:
                if attempt + 1 < attempts and _retryable(exc):
                    time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
                    continue
                if _retryable(exc) and not isinstance(exc, Conflict):
                    raise Conflict() from exc
                raise
        self.bus.publish(events)
        if self.outbox is not None and events:
            self.outbox.committed()
        return result
