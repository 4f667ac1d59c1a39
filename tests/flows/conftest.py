"""Fixtures for the conversation engine: flows from flows/definitions plus the test flows here,
a fake clock, and the engine on an in-memory store or on an in-memory SQLite database."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flows.actions import ACTIONS, ActionContext, ActionRegistry, ActionResult, Services
from flows.clock import FakeClock
from flows.engine import Engine
from flows.errors import ActionError
from flows.inputs import Incoming
from flows.loader import DEFINITIONS, FlowRegistry, load_flows
from flows.messages import Message, message_text
from flows.state import DbStateStore, InMemoryStateStore
from flows.surveys import InMemorySurveyStore
from ledger.db import Base, Database
from ledger.errors import InsufficientFunds

HERE = Path(__file__).parent
TEST_DEFINITIONS = HERE / "definitions"
TRANSCRIPTS = HERE / "transcripts"


def _demo_actions() -> ActionRegistry:
    actions = ACTIONS.child()

    @actions.action("demo_register")
    def demo_register(ctx: ActionContext) -> ActionResult:
        ctx.services.extras.setdefault("registered", []).append(dict(ctx.answers))
        return ActionResult(vars={"member_no": "A-0001"})

    @actions.action("demo_risky")
    def demo_risky(ctx: ActionContext) -> ActionResult:
        code = ctx.answers["code"]
        if code == "000":
            raise ActionError("その番号は使えません。", "That code cannot be used.")
        if code == "111":
            raise InsufficientFunds()
        if code == "999":
            raise RuntimeError("boom")
        return ActionResult(vars={"result": f"OK {ctx.params.get('p', '')}".strip()})

    return actions


@pytest.fixture
def actions() -> ActionRegistry:
    return _demo_actions()


@pytest.fixture
def registry(actions: ActionRegistry) -> FlowRegistry:
    return load_flows(DEFINITIONS, TEST_DEFINITIONS, actions=actions, strict=True)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def flow_db() -> Iterator[Database]:
    db = Database("sqlite://")
    Base.metadata.create_all(db.engine)
    yield db
    db.dispose()


@pytest.fixture
def services() -> Services:
    """Services without a database: surveys kept in memory."""
    return Services(surveys=InMemorySurveyStore())


@pytest.fixture
def db_services(flow_db: Database) -> Services:
    return Services(db=flow_db)


@pytest.fixture
def engine(registry: FlowRegistry, clock: FakeClock) -> Engine:
    return Engine(registry, InMemoryStateStore(), clock)


@pytest.fixture
def db_engine(registry: FlowRegistry, clock: FakeClock, flow_db: Database) -> Engine:
    return Engine(registry, DbStateStore(flow_db), clock)


class Chat:
    """Drives an engine as one user, keeping the last reply for assertions."""

    def __init__(self, engine: Engine, services: Any, user_id: str = "U1", lang: str | None = None) -> None:
        self.engine, self.services, self.user_id, self.lang = engine, services, user_id, lang
        self.last: list[Message] = []

    def send(self, inc: Incoming) -> list[Message]:
        self.last = self.engine.handle(inc, self.services)
        return self.last

    def say(self, text: str) -> list[Message]:
        return self.send(Incoming.from_text(self.user_id, text, self.lang))

    def postback(self, data: str) -> list[Message]:
        return self.send(Incoming.postback(self.user_id, data, self.lang))

    def tap(self, label: str) -> list[Message]:
        for q in self.last[-1].quick_replies:
            if q.label == label:
                return self.postback(q.data)
        raise AssertionError(f"no quick reply {label!r} in {[q.label for q in self.last[-1].quick_replies]}")

    def text(self) -> str:
        return "\n".join(message_text(m) for m in self.last)

    def labels(self) -> list[str]:
        return [q.label for q in self.last[-1].quick_replies] if self.last else []


@pytest.fixture
def chat(engine: Engine, services: Services) -> Chat:
    return Chat(engine, services)
