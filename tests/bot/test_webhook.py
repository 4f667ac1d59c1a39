"""POST /callback: signatures, 200 for every well-signed body, each event id once, the LINE
conformance fixture, groups, follow and unfollow."""
from __future__ import annotations

import copy
import dataclasses
import json
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import create_app
from bot.webhook import sign
from ledger.models import Resident
from tests.bot.conftest import HANAKO, KENTA, SECRET, actions, envelope, event_id, texts
from tests.line_files import conformance_webhook, line_spec


def post(client, body: bytes, signature: str | None):
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Line-Signature"] = signature
    return client.post("/callback", data=body, headers=headers)


def test_signature_is_checked_on_the_raw_body(bot_app):
    client = bot_app.test_client()
    body = envelope()
    assert post(client, body, None).status_code == 400
    assert post(client, body, "").status_code == 400
    assert post(client, body, sign("another-secret", body)).status_code == 400
    assert post(client, body + b" ", sign(SECRET, body)).status_code == 400  # one byte changed
    assert post(client, body, sign(SECRET, body)).status_code == 200


@pytest.mark.parametrize("body", [b"", b"not json", b"[]", b'{"events": "no"}', b'{"events": [1, "x", null]}',
                                  b'{"destination": "U0", "events": []}'])
def test_every_well_signed_body_gets_200(bot_app, body):
    assert post(bot_app.test_client(), body, sign(SECRET, body)).status_code == 200


def fixture_events() -> list[dict]:
    """The official SDK's fixture, with a fresh id for every event (it repeats one id)."""
    events = json.loads(conformance_webhook().read_text())["events"]
    for ev in events:
        ev["webhookEventId"] = event_id()
    return events


@line_spec
def test_the_line_conformance_fixture_is_taken_without_error(bot_app, line, caplog):
    client = bot_app.test_client()
    events = fixture_events()
    assert len(events) == 28
    with caplog.at_level(logging.WARNING):
        body = json.dumps({"destination": "xxxxxxxxxx", "events": events}).encode()
        assert post(client, body, sign(SECRET, body)).status_code == 200
        for ev in events:  # and one at a time
            single = envelope(ev | {"webhookEventId": event_id()})
            assert post(client, single, sign(SECRET, single)).status_code == 200
    problems = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert problems == [], [r.getMessage() for r in problems]
    # the text from a person got an answer (pushed: the fixture's reply tokens are not real)
    assert line.store.messages_to("U206d25c2ea6bd87c17655609a1c37cb8")
    # the group and the room got the one-to-one note, once each per day
    for chat in ("Ca56f94637cc4347f90a25382909b24b9", "Ra8dbf4673c4c812cd491258042226c99"):
        notes = [t for t in texts(line.store.messages_to(chat)) if "1対1" in t]
        assert 1 <= len(notes) <= 3, chat


def test_each_event_id_is_processed_once(bot_app, phone, line):
    kenta = phone(KENTA)
    ev = kenta.event("message", message={"type": "text", "id": "1", "text": "残高", "quoteToken": "q"})
    assert kenta.post(ev)
    redelivered = copy.deepcopy(ev) | {"deliveryContext": {"isRedelivery": True}}
    assert kenta.post(redelivered) == []
    assert kenta.post(ev, ev) == []


def test_once_across_server_processes_and_restarts(bot_app, bot_config, phone, line):
    """A second app on the same database (another gunicorn worker, or after a restart) refuses an
    id the first one took."""
    kenta = phone(KENTA)
    ev = kenta.event("message", message={"type": "text", "id": "1", "text": "ヘルプ", "quoteToken": "q"})
    assert kenta.post(ev)
    other = create_app(bot_config)
    try:
        body = envelope(ev)
        before = len(line.store.requests)
        res = other.test_client().post("/callback", data=body, headers={"X-Line-Signature": sign(SECRET, body)})
        assert res.status_code == 200
        assert len(line.store.requests) == before
    finally:
        other.extensions["machi"].extras["bot"].close()
        other.extensions["machi"].db.dispose()


def test_a_redelivery_that_was_never_processed_is_processed(bot_app, phone):
    kenta = phone(KENTA)
    ev = kenta.event("message", message={"type": "text", "id": "1", "text": "ヘルプ", "quoteToken": "q"},
                     deliveryContext={"isRedelivery": True})
    assert kenta.post(ev)


def test_group_and_room_get_a_short_note(bot_app, phone, line):
    kenta = phone(KENTA)
    group_id = "C" + "1" * 32
    group = {"type": "group", "groupId": group_id, "userId": KENTA}

    def in_group(kind: str, **extra):
        return kenta.event(kind, source=group, replyToken=line.store.new_reply_token(group_id), **extra)

    kenta.post(in_group("join"))
    for n in range(2):
        kenta.post(in_group("message", message={"type": "text", "id": str(n), "text": "残高", "quoteToken": "q"}))
    notes = texts(line.store.messages_to(group_id))
    assert len(notes) == 2 and all("1対1" in n for n in notes)  # on joining, then once a day
    assert line.store.messages_to(KENTA) == []  # no conversation with anyone in the group


def test_unfollow_marks_unreachable_and_follow_welcomes_back(bot_app, phone, machi):
    hanako = phone(HANAKO)
    hanako.unfollow()
    with machi.db.session() as s:
        r = s.execute(select(Resident).where(Resident.line_user_id == HANAKO)).scalar_one()
        assert r.reachable is False and r.status == "active"
    reply = hanako.follow()
    assert "おかえりなさい" in hanako.text() and reply
    with machi.db.session() as s:
        assert s.execute(select(Resident.reachable).where(Resident.line_user_id == HANAKO)).scalar_one() is True


def test_follow_greets_a_newcomer_and_offers_registration(bot_app, phone):
    kenta = phone(KENTA)
    kenta.follow()
    assert "ようこそ" in kenta.text()
    assert "登録する" in [a.get("label") for a in actions(kenta.last)]


@pytest.fixture
def queued_app(bot_app, bot_config, monkeypatch):
    """The app as production runs it: events recorded in the inbox, run on worker threads."""
    app = create_app(dataclasses.replace(bot_config, bot_workers=2))
    bot = app.extensions["machi"].extras["bot"]
    bot.client.backoff = 0.001
    yield app
    bot.close()
    app.extensions["machi"].db.dispose()


def test_queued_events_are_answered_after_the_200_each_once(queued_app, phone, line):
    bot = queued_app.extensions["machi"].extras["bot"]
    assert not bot.events.inline
    kenta = phone(KENTA)
    kenta.client = queued_app.test_client()
    ev = kenta.event("message", message={"type": "text", "id": "1", "text": "ヘルプ", "quoteToken": "q"})
    kenta.post(ev)
    kenta.post(ev | {"deliveryContext": {"isRedelivery": True}})  # LINE retried before we answered
    assert bot.drain(10)
    assert len(line.store.deliveries_to(KENTA)) == 1


def test_events_a_full_queue_left_behind_are_recovered_once(queued_app, phone, line):
    bot = queued_app.extensions["machi"].extras["bot"]
    bot.events.submit = lambda *args: False  # the queue stays full
    kenta = phone(KENTA)
    kenta.client = queued_app.test_client()
    kenta.post(kenta.event("message", message={"type": "text", "id": "1", "text": "ヘルプ", "quoteToken": "q"}))
    assert line.store.deliveries_to(KENTA) == [] and bot.counters["deferred"] == 1
    assert bot.recover(older_than=timedelta(0)) == 1
    assert bot.recover(older_than=timedelta(0)) == 0  # another process sweeping finds nothing left
    assert len(line.store.deliveries_to(KENTA)) == 1


def test_one_sweep_clears_a_burst_larger_than_its_batch(queued_app, phone, line, monkeypatch):
    from bot import runtime

    monkeypatch.setattr(runtime, "RECOVER_BATCH", 2)  # a burst of 5 events against batches of 2
    bot = queued_app.extensions["machi"].extras["bot"]
    bot.events.submit = lambda *args: False  # the queue stays full
    kenta = phone(KENTA)
    kenta.client = queued_app.test_client()
    for n in range(5):
        kenta.post(kenta.event("message", message={"type": "text", "id": str(n), "text": "ヘルプ", "quoteToken": "q"}))
    assert bot.counters["deferred"] == 5
    assert bot.recover(older_than=timedelta(0)) == 5
    assert len(line.store.deliveries_to(KENTA)) == 5
