"""Two server processes handling turns of one user at the same moment: no turn is lost.

Each turn of the counting flow below adds one to a number kept in the user's conversation state
(its action takes a little time, as a payment would). Two processes each send the same user 20
messages at once; the user's state must count all 40. Before the turn lock, both processes
loaded the same state and the later save dropped the other's turn. SQLite (a file shared by the
processes) and PostgreSQL when TEST_DATABASE_URL is set.
"""
from __future__ import annotations

import multiprocessing
import time
from typing import Any

from flows.actions import ACTIONS, ActionContext, ActionResult
from flows.engine import Engine
from flows.inputs import Incoming
from flows.loader import FlowRegistry
from flows.spec import parse_flow
from flows.state import DbStateStore
from ledger.db import Database

USER = "U" + "7c" * 16
TURNS = 20
COUNTER: dict[str, Any] = {
    "id": "counter", "title": {"ja": "数える", "en": "Count"}, "triggers": {"keywords": ["数える"]},
    "steps": [
        {"id": "n", "type": "ask", "key": "n", "prompt": {"ja": "数字をどうぞ。", "en": "A number, please."}},
        {"type": "action", "action": "count_one"},
        {"type": "end", "text": {"ja": "おわり", "en": "done"}},
    ],
}
_actions = ACTIONS.child()


@_actions.action("count_one")
def count_one(ctx: ActionContext) -> ActionResult:
    time.sleep(0.01)  # the work of a turn: the window in which another process could load the same state
    return ActionResult(vars={"count": int(ctx.vars.get("count", 0)) + 1}, goto="n")


def _engine(db: Database) -> Engine:
    return Engine(FlowRegistry([parse_flow(COUNTER)], _actions), DbStateStore(db))


def _talk(url: str, go: Any, turns: int) -> None:
    """One server process: its own engine, connections and state store on the shared database."""
    db = Database(url)
    engine = _engine(db)
    go.wait(30)
    for _ in range(turns):
        engine.handle(Incoming.from_text(USER, "1"))
    db.dispose()


def test_two_processes_taking_turns_for_one_user_lose_none(db_url):
    db = Database(db_url)
    engine = _engine(db)
    engine.handle(Incoming.from_text(USER, "数える"))
    spawn = multiprocessing.get_context("spawn")
    go = spawn.Event()
    workers = [spawn.Process(target=_talk, args=(db_url, go, TURNS)) for _ in range(2)]
    for w in workers:
        w.start()
    go.set()
    for w in workers:
        w.join(120)
    assert [w.exitcode for w in workers] == [0, 0]
    state = engine.store.load(USER)
    db.dispose()
    assert state.top is not None and state.top.flow == "counter"
    assert state.top.vars["count"] == 2 * TURNS
