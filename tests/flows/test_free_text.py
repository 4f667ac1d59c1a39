"""Typed questions with nothing running: the words residents really type lead to the right flow or
a short answer (flows/faq.yaml), and anything else to the town's phone number and a few buttons."""
from __future__ import annotations

from pathlib import Path

import pytest

from flows.actions import Services
from flows.engine import Engine
from flows.faq import FAQ_FILE, MAX_CHIPS, parse_faq
from flows.loader import DEFINITIONS, FlowRegistry, load_flows
from flows.spec import FlowSpecError
from flows.state import InMemoryStateStore
from flows.surveys import InMemorySurveyStore
from flows.typed import destination
from flows.yaml_loaders import load_text_yaml
from tests.flows.conftest import Chat

CASES = Path(__file__).parent / "free_text_cases.yaml"


@pytest.fixture(scope="module")
def town() -> FlowRegistry:
    return load_flows(DEFINITIONS, strict=True, faq=FAQ_FILE)


def cases() -> list[tuple[str, str]]:
    return [(str(say), str(want)) for say, want in load_text_yaml(CASES.read_text(encoding="utf-8"))]


def test_there_are_at_least_200_cases_of_every_kind():
    found = cases()
    assert len(found) >= 200
    wanted = {w for _, w in found}
    assert {"faq:greeting", "faq:bus", "faq:garbage", "faq:hours", "guide", "balance", "pay", "points",
            "grants", "event_application", "fallback"} <= wanted


def test_nine_typed_messages_in_ten_find_their_way(town):
    wrong = [(say, want, got) for say, want in cases() if (got := destination(town, say)) != want]
    share = 1 - len(wrong) / len(cases())
    assert share >= 0.90, f"{share:.0%} matched right; wrong: {wrong}"


@pytest.mark.parametrize(("said", "leads_to"), [
    ("こんにちは", "faq:greeting"),
    ("お金ない", "balance"),
    ("バス", "faq:bus"),
    ("使い方がわからない", "guide"),
    ("わからない", "guide"),
    ("夏まつり申込", "event_application"),  # a menu button's label, typed
    ("ざんだっか", "balance"),  # a typo
    ("ｻﾞﾝﾀﾞｶ", "balance"),  # half-width katakana
    ("ごみのひ", "faq:garbage"),  # kana for ゴミの日
    ("ポイント交換したい", "points_exchange"),  # the longer phrase beats ポイント
    ("役場の電話番号", "contact"),
    ("ありがとうございました", "faq:thanks"),
    ("balance", "balance"),
    ("hello", "faq:greeting"),
    ("bus", "faq:bus"),
    ("あいうえお", "fallback"),
    ("machi", "fallback"),  # "hi" inside an English word is no greeting
])
def test_must_match(town, said, leads_to):
    assert destination(town, said) == leads_to


def chat_in(town: FlowRegistry, lang: str | None = None) -> Chat:
    return Chat(Engine(town, InMemoryStateStore()), Services(surveys=InMemorySurveyStore()), lang=lang)


def test_nothing_fits_the_phone_number_and_a_few_buttons(town):
    chat = chat_in(town)
    chat.say("あいうえお")
    assert "0164-64-2211" in chat.text()
    assert 1 <= len(chat.labels()) <= MAX_CHIPS
    assert "使い方" in chat.labels()


def test_a_question_gets_its_short_answer_with_the_phone_number(town):
    chat = chat_in(town)
    chat.say("バスの時間")
    assert "町営バス" in chat.text() and "0164-64-2211" in chat.text()
    chat.say("ごみのひ")
    assert "燃えるごみ" in chat.text()
    chat.say("役場は何時まで")
    assert "8時30分" in chat.text()


def test_greeting_offers_a_few_buttons(town):
    chat = chat_in(town)
    chat.say("こんにちは")
    assert "まちウォレット" in chat.text()
    assert 1 <= len(chat.labels()) <= MAX_CHIPS


def test_english_profile_gets_english_answers(town):
    chat = chat_in(town, lang="en")
    chat.say("hello")
    assert "Hello, this is Machi Wallet" in chat.text()
    chat.say("bus")
    assert "town bus" in chat.text() and "0164-64-2211" in chat.text()
    chat.say("バス")  # the same answer, in the resident's language, whatever they typed
    assert "town bus" in chat.text()
    chat.say("qwertyuiop")
    assert "Sorry" in chat.text() and "0164-64-2211" in chat.text()


def test_typed_menu_label_starts_its_flow(town):
    chat = chat_in(town)
    chat.say("夏まつり申込")
    assert "お名前" in chat.text()


def test_inside_a_question_typed_words_are_the_answer(town):
    chat = chat_in(town)
    chat.say("夏まつり申込")
    chat.say("バス 太郎")  # a name that holds a FAQ word is still the name
    assert "フリガナ" in chat.text() or "ふりがな" in chat.text()


def test_an_faq_naming_a_missing_flow_is_refused_at_load():
    faq = parse_faq({"fallback": {"text": "x", "chips": ["nope"]}, "entries": [{"id": "a", "says": ["a"], "answer": "b"}]})
    with pytest.raises(FlowSpecError, match="nope"):
        FlowRegistry([], faq=faq)


@pytest.mark.parametrize("raw", [
    {"fallback": {"text": "x"}, "entries": [{"id": "a", "says": ["a"]}]},  # neither answer nor flow
    {"fallback": {"text": "x"}, "entries": [{"id": "a", "says": [], "answer": "b"}]},
    {"fallback": {"text": "x"}, "entries": [{"id": "a", "says": ["a"], "answer": "b", "typo": 1}]},
    {"entries": [{"id": "a", "says": ["a"], "answer": "b"}]},
])
def test_faq_mistakes_are_named_at_load(raw):
    with pytest.raises(FlowSpecError):
        parse_faq(raw)


def test_every_menu_label_typed_starts_its_flow_in_either_language(town):
    for flow in town.menu():
        for lang in ("ja", "en"):
            assert destination(town, flow.title_for(lang)) == flow.id, (flow.id, lang)
            assert destination(town, f" {flow.title_for(lang)}。") == flow.id, (flow.id, lang)
