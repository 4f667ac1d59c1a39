"""Where each user is in their conversations: a stack of frames, kept in the database.

A stack, because a rich-menu tap in the middle of a form starts another flow on top; when that
one ends, the one below resumes (or is dropped, per its `interrupt` rule). Frames hold only
JSON-able values so they survive restarts and deploys.
"""
from __future__ import annotations

import copy
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import JSON, DateTime, String, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from flows import turn_lock
from ledger.clock import utcnow
from ledger.db import Base, Database


@dataclass
class Frame:
    """One running flow: where it is, what was answered, and how to go back or return after a fix."""

    flow: str
    step: str
    answers: dict[str, Any] = field(default_factory=dict)
    vars: dict[str, Any] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)  # ask steps answered, for 戻る
    return_to: str | None = None  # the confirm step to go back to after fixing one answer
    awaiting: str | None = None  # "fix": the confirm step waits for which answer to fix
    updated_at: datetime = field(default_factory=utcnow)

    def to_json(self) -> dict[str, Any]:
        return {"flow": self.flow, "step": self.step, "answers": self.answers, "vars": self.vars,
                "history": self.history, "return_to": self.return_to, "awaiting": self.awaiting,
                "updated_at": self.updated_at.isoformat()}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Frame:
        return cls(flow=raw["flow"], step=raw["step"], answers=dict(raw.get("answers") or {}),
                   vars=dict(raw.get("vars") or {}), history=list(raw.get("history") or []),
                   return_to=raw.get("return_to"), awaiting=raw.get("awaiting"),
                   updated_at=datetime.fromisoformat(raw["updated_at"]) if raw.get("updated_at") else utcnow())


@dataclass
class UserState:
    user_key: str
    stack: list[Frame] = field(default_factory=list)
    lang: str = "ja"
    updated_at: datetime | None = None

    @property
    def top(self) -> Frame | None:
        return self.stack[-1] if self.stack else None


class StateStore(Protocol):
    def load(self, user_key: str) -> UserState: ...

    def save(self, state: UserState) -> None: ...

    def turn(self, user_key: str) -> AbstractContextManager[None]:
        """Held around a turn's load, run and save: one turn of a user at a time (`flows.turn_lock`)."""
        ...


class ConversationState(Base):
    """The conversation stack of one LINE user (or any channel's user key)."""

    __tablename__ = "conversation_states"
    user_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    stack: Mapped[list] = mapped_column(JSON, default=list)
    lang: Mapped[str] = mapped_column(String(8), default="ja")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


_TABLE = ConversationState.__table__
_LOAD = select(_TABLE.c.stack, _TABLE.c.lang, _TABLE.c.updated_at).where(_TABLE.c.user_key == bindparam("key"))


class DbStateStore:
    """Conversation state in `conversation_states`; one short transaction per load and per save."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._turns = turn_lock.for_database(db)

    def turn(self, user_key: str) -> AbstractContextManager[None]:
        return self._turns.hold(user_key)

    def load(self, user_key: str) -> UserState:
        # Core, not the ORM: this runs twice a turn and an identity map buys nothing here.
        with self.db.engine.connect() as conn:
            row = conn.execute(_LOAD, {"key": user_key}).first()
        if row is None:
            return UserState(user_key=user_key)
        return UserState(user_key=user_key, stack=[Frame.from_json(f) for f in row.stack or []],
                         lang=row.lang or "ja", updated_at=row.updated_at)

    def save(self, state: UserState) -> None:
        try:
            self._save(state)
        except IntegrityError:  # two first messages at once (PostgreSQL): the row exists now
            self._save(state)

    def purge(self, before: datetime) -> int:
        """Forget conversations idle since before `before` (answers are personal data; keep them
        no longer than needed). For a scheduled job; returns how many were removed."""
        with self.db.write() as s:
            result = s.execute(delete(ConversationState).where(ConversationState.updated_at < before))
        return int(result.rowcount or 0)

    def forget(self, user_key: str) -> None:
        """Drop one person's conversation (a relinked LINE account starts afresh as a guest)."""
        with self.db.write() as s:
            s.execute(delete(ConversationState).where(ConversationState.user_key == user_key))

    def _save(self, state: UserState) -> None:
        values = {"stack": [f.to_json() for f in state.stack], "lang": state.lang,
                  "updated_at": state.updated_at or utcnow()}
        with self.db.write_conn() as conn:  # one UPDATE; an INSERT only for a first conversation
            done = conn.execute(update(_TABLE).where(_TABLE.c.user_key == state.user_key).values(**values))
            if not done.rowcount:
                conn.execute(insert(_TABLE).values(user_key=state.user_key, **values))


class InMemoryStateStore:
    """For unit tests: the same round trip through JSON as the database store."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}
        self._turns = turn_lock.LocalTurnLock()

    def turn(self, user_key: str) -> AbstractContextManager[None]:
        return self._turns.hold(user_key)

    def load(self, user_key: str) -> UserState:
        row = self.rows.get(user_key)
        if row is None:
            return UserState(user_key=user_key)
        return UserState(user_key=user_key, stack=[Frame.from_json(f) for f in copy.deepcopy(row["stack"])],
                         lang=row["lang"], updated_at=row["updated_at"])

    def save(self, state: UserState) -> None:
        self.rows[state.user_key] = {"stack": [f.to_json() for f in state.stack], "lang": state.lang,
                                     "updated_at": state.updated_at}
