"""The webhook inbox: each `webhookEventId` is taken once, whichever process receives it.

- `accept` records an event as `pending` with its raw JSON, before /callback answers 200 (the
  asynchronous path), and says whether it is new; a redelivery of a known id is refused by the
  primary key, also from another server process.
- `claim` moves one pending event to `processing` and hands back its JSON (then dropped from the
  table: it may hold a resident's message). Exactly one caller wins a claim, so an event queued
  in memory and the recovery sweep can never both run it.
- `take` does both at once for the synchronous path (nothing stored but the id).
- `pending` lists events left waiting (a full queue, a process stopped before its queue ran), for
  the recovery sweep to claim and run.

An event that ran stays `processing` (claimed, which is all "once" needs: one write fewer per
event); a failed one is marked `failed`. Once claimed, an event runs at most once: a process killed in the middle of one loses that
event rather than risk answering a resident twice.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.models import WebhookEvent
from ledger.clock import utcnow
from ledger.db import Database

log = logging.getLogger(__name__)

_PENDING_BODY = select(WebhookEvent.body).where(WebhookEvent.id == bindparam("eid"), WebhookEvent.status == "pending")
_CLAIM = (update(WebhookEvent).where(WebhookEvent.id == bindparam("eid"), WebhookEvent.status == "pending")
          .values(status="processing", body=None, claimed_at=bindparam("now"), attempts=WebhookEvent.attempts + 1)
          .returning(WebhookEvent.id))


class Inbox:
    def __init__(self, db: Database) -> None:
        self.db = db
        # Statements built once: two or three run on every webhook.
        self._insert = ((sqlite.insert if db.sqlite else postgresql.insert)(WebhookEvent.__table__)
                        .on_conflict_do_nothing(index_elements=["id"]).returning(WebhookEvent.id))

    def _add(self, conn: Connection, event_id: str, kind: str, status: str, body: dict[str, Any] | None,
             now: datetime) -> bool:
        values = {"id": event_id, "kind": kind[:32], "status": status, "body": body, "attempts": 0,
                  "received_at": now, "claimed_at": now if status == "processing" else None}
        # RETURNING, not rowcount: psycopg reports -1 for a skipped ON CONFLICT DO NOTHING.
        result = conn.execute(self._insert, values)
        return result.first() is not None

    def accept(self, events: list[tuple[str, str, dict[str, Any]]]) -> list[str]:
        """Record (id, type, raw event) as pending, in one transaction; returns the ids that were new."""
        now = utcnow()
        with self.db.write_conn() as conn:
            return [eid for eid, kind, raw in events if self._add(conn, eid, kind, "pending", raw, now)]

    def take(self, event_id: str, kind: str) -> bool:
        """Record and claim at once (the synchronous path); False if this id was seen before."""
        with self.db.write_conn() as conn:
            return self._add(conn, event_id, kind, "processing", None, utcnow())

    def once(self, key: str) -> bool:
        """True the first time `key` is seen: for things done once per period (a note to a group)."""
        with self.db.write_conn() as conn:
            return self._add(conn, key, "once", "done", None, utcnow())

    def seen(self, key: str) -> bool:
        with self.db.engine.connect() as conn:
            return conn.execute(select(WebhookEvent.id).where(WebhookEvent.id == key)).first() is not None

    def claim(self, event_id: str) -> dict[str, Any] | None:
        """The raw event if this caller won it (pending → processing), else None."""
        with self.db.write_conn() as conn:
            body = conn.execute(_PENDING_BODY, {"eid": event_id}).scalar()
            if body is None:
                return None
            won = conn.execute(_CLAIM, {"eid": event_id, "now": utcnow()}).first() is not None
        return body if won else None

    def finish(self, event_id: str, status: str = "done") -> None:
        with self.db.write_conn() as conn:
            conn.execute(update(WebhookEvent).where(WebhookEvent.id == event_id)
                         .values(status=status, done_at=utcnow(), body=None))

    def pending(self, older_than: timedelta, limit: int = 100) -> list[str]:
        cutoff = utcnow() - older_than
        with self.db.engine.connect() as conn:
            return list(conn.execute(select(WebhookEvent.id).where(WebhookEvent.status == "pending",
                                                                   WebhookEvent.received_at <= cutoff)
                                     .order_by(WebhookEvent.received_at).limit(limit)).scalars())

    def status(self, event_id: str) -> str | None:
        with self.db.engine.connect() as conn:
            return conn.execute(select(WebhookEvent.status).where(WebhookEvent.id == event_id)).scalar()

    def purge(self, before: datetime) -> int:
        """Forget finished events received before `before` (LINE redelivers within hours, not weeks).

        Once-only keys stay: they remember lasting facts (a grant offer told, a menu linked)."""
        with self.db.write_conn() as conn:
            result = conn.execute(delete(WebhookEvent).where(WebhookEvent.received_at < before,
                                                             WebhookEvent.status != "pending",
                                                             WebhookEvent.kind != "once"))
        return int(result.rowcount or 0)
