"""Surveys and forms: one answer per survey per resident, stored in survey_responses."""
from __future__ import annotations

from sqlalchemy import func, select

from flows.surveys import DbSurveyStore, InMemorySurveyStore, SurveyResponse
from tests.flows.conftest import Chat


def answer_survey(chat: Chat, label: str = "5 とても満足", comment: str = "使いやすいです") -> None:
    chat.say("アンケート")
    chat.tap(label)
    chat.say(comment)


def test_survey_is_stored_once_per_resident(db_engine, db_services, flow_db):
    chat = Chat(db_engine, db_services)
    answer_survey(chat)
    assert "ご回答ありがとうございました" in chat.text()
    chat.say("アンケート")
    assert chat.text() == "すでに回答済みです。ありがとうございました。"
    assert chat.labels() == []  # nothing asked
    with flow_db.session() as s:
        rows = s.scalars(select(SurveyResponse)).all()
    assert len(rows) == 1
    row = rows[0]
    assert (row.survey_id, row.resident_key, row.score) == ("satisfaction_2026", "U1", 5)
    assert row.answers == {"satisfaction": "5", "comment": "使いやすいです"}


def test_two_surveys_started_at_once_store_only_one(db_engine, db_services, flow_db):
    first = Chat(db_engine, db_services)
    first.say("アンケート")  # passes the check at the start...
    first.tap("4 満足")
    DbSurveyStore(flow_db).save("satisfaction_2026", "U1", {"satisfaction": "2"}, 2)  # ...another session wins
    first.say("なし")
    assert "すでに回答済みです" in first.text()
    with flow_db.session() as s:
        assert s.scalar(select(func.count()).select_from(SurveyResponse)) == 1


def test_other_residents_and_other_surveys_are_independent(db_engine, db_services):
    answer_survey(Chat(db_engine, db_services, "UA"))
    other = Chat(db_engine, db_services, "UB")
    answer_survey(other, "1 とても不満", "なし")
    assert "ご回答ありがとうございました" in other.text()
    other.say("申込")
    assert "夏まつり" in other.text() and "お名前" in other.text()


def test_memory_store_refuses_a_second_answer():
    store = InMemorySurveyStore()
    assert store.save("s", "U1", {"a": 1}, None) is True
    assert store.save("s", "U1", {"a": 2}, None) is False
    assert store.has_answered("s", "U1") and not store.has_answered("s", "U2")


def test_db_store_refuses_a_second_answer(flow_db):
    store = DbSurveyStore(flow_db)
    assert store.save("s", "U1", {"a": 1}, 3) is True
    assert store.save("s", "U1", {"a": 2}, 4) is False
    assert store.has_answered("s", "U1") and not store.has_answered("t", "U1")


def test_application_form_says_already_applied(chat):
    chat.say("申込")
    chat.say("山田 花子")
    chat.say("やまだ はなこ")
    chat.say("0164642211")
    chat.tap("1人")
    chat.tap("はい、送る")
    chat.say("申込")
    assert chat.text() == "すでにお申し込み済みです。"
