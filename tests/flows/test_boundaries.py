"""flows stays channel-neutral (DESIGN.md §1), and the engine copes with state it no longer knows."""
from __future__ import annotations

import ast
from datetime import datetime
from pathlib import Path

from flows.engine import Engine
from flows.inputs import Incoming, parse_postback, postback_data
from flows.loader import FlowRegistry, load_flow_text
from flows.messages import message_text
from flows.state import DbStateStore, Frame, InMemoryStateStore, UserState

FLOWS = Path(__file__).resolve().parents[2] / "flows"
FORBIDDEN = ("linebot", "flask", "bot", "liff", "rich_menus", "admin_cli", "simulator", "app", "config")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_flows_imports_no_channel_or_upper_layer():
    for path in FLOWS.glob("*.py"):
        for module in imported_modules(path):
            top = module.split(".")[0]
            assert top not in FORBIDDEN, f"{path.name} imports {module}"


def test_postback_data_round_trips_and_is_short():
    data = postback_data(a="5", s="satisfaction_survey:satisfaction", nav=None)
    assert parse_postback(data) == {"a": "5", "s": "satisfaction_survey:satisfaction"}
    assert len(data) <= 300


def test_a_frame_for_a_flow_that_was_removed_is_dropped(registry, clock, services):
    store = InMemoryStateStore()
    store.save(UserState("U1", [Frame(flow="old_flow", step="x", updated_at=clock())]))
    replies = Engine(registry, store, clock).handle(Incoming.from_text("U1", "はい"), services)
    assert "手続きの内容が変わったため" in message_text(replies[0])
    assert store.load("U1").stack == []


def test_a_frame_at_a_step_that_was_removed_is_dropped(registry, clock, services):
    store = InMemoryStateStore()
    store.save(UserState("U1", [Frame(flow="event_application", step="renamed", updated_at=clock())]))
    replies = Engine(registry, store, clock).handle(Incoming.from_text("U1", "山田"), services)
    assert "手続きの内容が変わったため" in message_text(replies[0])


def test_a_follow_flow_starts_on_follow(clock, services):
    welcome = load_flow_text("id: welcome\ntitle: ようこそ\ntriggers: {follow: true}\n"
                             "steps:\n  - {type: end, text: 友だち追加ありがとう}\n")
    engine = Engine(FlowRegistry([welcome]), InMemoryStateStore(), clock)
    assert message_text(engine.handle(Incoming.follow("U1"), services)[0]) == "友だち追加ありがとう"


def test_db_store_round_trip_and_purge(flow_db):
    store = DbStateStore(flow_db)
    assert store.load("U1").stack == []
    frame = Frame(flow="f", step="s", answers={"birth": "1965-05-03", "ok": True}, vars={"n": 1},
                  history=["a"], return_to="c", updated_at=datetime(2026, 4, 1, 1, 0))
    store.save(UserState("U1", [frame], lang="en", updated_at=datetime(2026, 4, 1, 1, 0)))
    store.save(UserState("U2", [], updated_at=datetime(2026, 4, 3)))
    loaded = store.load("U1")
    assert loaded.lang == "en" and loaded.stack == [frame]
    assert store.purge(before=datetime(2026, 4, 2)) == 1
    assert store.load("U1").stack == [] and store.load("U1").lang == "ja"


def test_unreadable_stored_state_starts_afresh(registry, clock, services):
    store = InMemoryStateStore()
    store.rows["U1"] = {"stack": [{"no": "flow"}], "lang": "ja", "updated_at": None}
    replies = Engine(registry, store, clock).handle(Incoming.from_text("U1", "申込"), services)
    assert "お名前を入力" in message_text(replies[-1])


def test_an_engine_bug_answers_politely_and_clears_the_stack(registry, clock, services, monkeypatch):
    engine = Engine(registry, InMemoryStateStore(), clock)
    engine.handle(Incoming.from_text("U1", "申込"), services)
    monkeypatch.setattr("flows.engine.parse_answer", lambda *a: 1 / 0)
    replies = engine.handle(Incoming.from_text("U1", "山田"), services)
    assert "うまく処理できませんでした" in message_text(replies[0])
    assert engine.store.load("U1").stack == []


def test_a_rich_menu_action_postback_starts_its_flow(clock, services):
    reg = load_flow_text("id: reg\ntitle: 登録\ntriggers: {actions: [register]}\n"
                         "steps:\n  - {type: say, text: '{vars.src}'}\n  - {type: end, text: 登録です}\n")
    engine = Engine(FlowRegistry([reg]), InMemoryStateStore(), clock)
    replies = engine.handle(Incoming.postback("U1", "action=register&src=menu"), services)
    assert message_text(replies[0]) == "menu\n\n登録です"
    tab = Incoming.postback("U1", "action=switch&menu=shop")
    assert not engine.claims(tab) and engine.handle(tab, services) == []
