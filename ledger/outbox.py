"""The transactional outbox: domain events stored in the transaction that caused them, and the
relay that hands them to their listeners after the commit.

A payment's receipts used to be queued in the memory of the server process that took the
payment: a restart lost them, and the pushes ran on the same interpreter as the payments. Now
the unit of work writes each event into `outbox` in the payment's own transaction (one small
insert), and a `Relay` reads them back, publishes them to a bus of its own (the bot's notifier
listens there) and removes them once told. The relay can run in the server process that made the
event (`inline`: dev and tests), on a thread of every server worker, or in a process of its own
(`machi notices`), so LINE's latency never costs the payments anything.

Relays claim a batch before telling it (a lease, `claimed_until`), so any number of them can work
on one database and each event is told by one of them. A relay that dies between telling and
removing leaves its batch to be claimed again when the lease ends: listeners make their work
idempotent (the bot's pushes carry retry keys derived from the event).
"""
from __future__ import annotations

import json
import logging
import threading
import typing
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, or_, select, update

from ledger import events as domain
from ledger.clock import utcnow
from ledger.db import Database
from ledger.events import DomainEvent, MessageBus
from ledger.models import OutboxEvent

log = logging.getLogger(__name__)

# Who asked for the change being written (a channel's user id; opaque to the ledger). Stored with
# its events, and set again while the relay tells them, so a listener can tell the person who is
# already looking at the answer from everyone else.
ORIGIN: ContextVar[str | None] = ContextVar("machi_event_origin", default=None)

BATCH = 200
POLL = 0.2            # seconds between a relay thread's passes when it has less than a batch
FLUSH_FOR = 60.0      # seconds a batch's listeners get to finish before it is removed anyway
LEASE = timedelta(seconds=FLUSH_FOR + 30)  # then a batch a dead relay claimed is claimed again

_T = OutboxEvent.__table__
_FREE = or_(_T.c.claimed_until.is_(None), _T.c.claimed_until < bindparam("now"))
_INSERT = insert(_T)
_PEEK = select(_T.c.id).where(_FREE).order_by(_T.c.id).limit(bindparam("limit"))
_CLAIM = (update(_T).where(_T.c.id.in_(bindparam("ids", expanding=True)), _FREE)
          .values(claimed_until=bindparam("until"))
          .returning(_T.c.id, _T.c.kind, _T.c.body, _T.c.origin))
_REMOVE = delete(_T).where(_T.c.id.in_(bindparam("ids", expanding=True)))


# --------------------------------------------------------------------------- to and from JSON


def _types() -> dict[str, type[DomainEvent]]:
    return {cls.__name__: cls for cls in vars(domain).values()
            if isinstance(cls, type) and issubclass(cls, DomainEvent) and cls is not DomainEvent}


EVENT_TYPES = _types()
_FIELDS = {cls: tuple(f.name for f in fields(cls)) for cls in EVENT_TYPES.values()}


def _when(value: Any) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot be stored in an event")


def encode(event: DomainEvent) -> str:
    return json.dumps({name: getattr(event, name) for name in _FIELDS[type(event)]},
                      ensure_ascii=False, separators=(",", ":"), default=_when)


def _converters(cls: type[DomainEvent]) -> dict[str, Callable[[str], Any]]:
    """Fields stored as ISO text that come back as dates and times."""
    out: dict[str, Callable[[str], Any]] = {}
    for name, hint in typing.get_type_hints(cls).items():
        args = set(typing.get_args(hint)) or {hint}
        if datetime in args:
            out[name] = datetime.fromisoformat
        elif date in args:
            out[name] = date.fromisoformat
    return out


_CONVERT = {cls: _converters(cls) for cls in EVENT_TYPES.values()}


def decode(kind: str, body: str) -> DomainEvent:
    cls = EVENT_TYPES[kind]
    data = json.loads(body)
    for name, convert in _CONVERT[cls].items():
        if isinstance(data.get(name), str):
            data[name] = convert(data[name])
    return cls(**data)


# --------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Stored:
    id: int
    event: DomainEvent
    origin: str | None


class Outbox:
    """Writes events inside a transaction; reads and removes them for the relay."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._listeners: list[Callable[[], None]] = []

    def record(self, conn: Connection, events: list[DomainEvent], now: datetime) -> None:
        origin = ORIGIN.get()
        conn.execute(_INSERT, [{"kind": type(ev).__name__, "body": encode(ev), "origin": origin, "created_at": now}
                               for ev in events])

    def on_commit(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def committed(self) -> None:
        """Events were just committed: wake whoever relays them in this process."""
        for listener in self._listeners:
            try:
                listener()
            except Exception:  # noqa: BLE001 - telling is never allowed to fail the money
                log.exception("outbox listener failed")

    def claim(self, limit: int = BATCH, *, told: list[int] | None = None) -> list[Stored]:
        """Remove the events `told`, and lease up to `limit` others no relay is telling, oldest first.

        A read first, so an idle relay never takes the write lock; then one write for both (on
        SQLite every write waits for the one writer, so a relay takes its turn once a pass). Of the
        rows read, the write keeps only those still free: two relays racing for a row, one gets it."""
        now = utcnow()
        with self.db.engine.connect() as conn:
            ids = list(conn.execute(_PEEK, {"now": now, "limit": limit}).scalars())
        if not ids and not told:
            return []
        with self.db.write_conn() as conn:
            if told:
                conn.execute(_REMOVE, {"ids": told})
            rows = conn.execute(_CLAIM, {"ids": ids, "now": now, "until": now + LEASE}).all() if ids else []
        out = []
        for row in sorted(rows, key=lambda r: r.id):
            try:
                out.append(Stored(row.id, decode(row.kind, row.body), row.origin))
            except (KeyError, TypeError, ValueError):  # written by another version of the code
                log.error("outbox event %d of kind %s cannot be read; removed", row.id, row.kind)
                self.remove([row.id])
        return out

    def remove(self, ids: list[int]) -> None:
        if ids:
            with self.db.write_conn() as conn:
                conn.execute(_REMOVE, {"ids": ids})


# --------------------------------------------------------------------------- the relay


class Relay:
    """Tells stored events to `bus`, oldest first, then removes them.

    `flush` waits until the listeners have finished what they were told (they may work on
    threads of their own); only then is the batch removed. Modes: `inline` tells each commit's
    events on the committing thread; `thread` runs a background thread in every process that asks
    for it, each claiming its own batches; `off` records only.
    """

    def __init__(self, outbox: Outbox, bus: MessageBus, *, flush: Callable[[float], bool] = lambda _t: True,
                 mode: str = "inline", batch: int = BATCH, poll: float = POLL) -> None:
        self.outbox, self.bus, self.flush, self.mode = outbox, bus, flush, mode
        self.batch, self.poll = batch, poll
        self.told = 0
        self._told: list[int] = []  # told, to be removed by the next claim
        self._mutex = threading.Lock()
        self._local = threading.local()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = threading.Lock()
        if mode != "off":
            outbox.on_commit(self.nudge)

    def nudge(self) -> None:
        if self.mode == "inline":
            if not getattr(self._local, "telling", False):  # a listener's own change waits for the next pass
                self.run_until_empty()
        elif self.mode == "thread":  # no wake-up: a pass every `poll` tells a batch, not one event per pass
            self.start()

    def run_once(self) -> int:
        """Tell one batch; how many events it held."""
        with self._mutex:
            self._local.telling = True
            try:
                return self._tell_batch()
            finally:
                self._local.telling = False

    def _tell_batch(self) -> int:
        """Claim a batch (removing the last one told, in the same write), tell it, wait for the
        listeners. The batch is removed by the next pass's claim: one write a pass, not two; until
        then its lease keeps other relays off it. `inline` removes at once (no next pass may come)."""
        batch = self.outbox.claim(self.batch, told=self._told)
        self._told = []
        if not batch:
            return 0
        for item in batch:
            token = ORIGIN.set(item.origin)
            try:
                self.bus.publish([item.event])
            finally:
                ORIGIN.reset(token)
        if not self.flush(FLUSH_FOR):
            log.warning("outbox: %d event(s) still being told after %.0f s", len(batch), FLUSH_FOR)
        self._told = [item.id for item in batch]
        if self.mode != "thread":
            self.outbox.remove(self._told)
            self._told = []
        self.told += len(batch)
        return len(batch)

    def run_until_empty(self, limit: int = 10_000) -> int:
        done = 0
        try:
            while done < limit:
                n = self.run_once()
                done += n
                if n < self.batch:
                    break
        except Exception:  # noqa: BLE001 - left in the outbox for the next pass
            log.exception("outbox relay pass failed")
        return done

    # ------------------------------------------------------------------ the background thread

    def start(self) -> None:
        """Start the relay thread of this process, once (after a fork too: it starts on first use)."""
        if self._thread is not None or self.mode != "thread" or self._stop.is_set():
            return
        with self._started:
            if self._thread is None:
                self._thread = threading.Thread(target=self.serve, name="outbox-relay", daemon=True)
                self._thread.start()

    def serve(self) -> None:
        """Relay until `stop`: a batch after another while there are any, a look every `poll` when idle."""
        while not self._stop.is_set():
            if self.run_until_empty() < self.batch:
                self._wake.wait(self.poll)
                self._wake.clear()

    def request_stop(self) -> None:
        """Ask `serve` to return after the batch in hand (safe from a signal handler)."""
        self._stop.set()
        self._wake.set()

    def stop(self, grace: float = 5.0) -> None:
        self.request_stop()
        if self._thread is not None:
            self._thread.join(grace)
        with self._mutex:
            if self._told:
                self.outbox.remove(self._told)
                self._told = []
