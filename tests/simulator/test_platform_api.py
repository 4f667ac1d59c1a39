"""The fake LINE platform as the dev server mounts it: LINE's paths on the app itself, checked against the
official spec, answering as LINE does; the simulator's own JSON API around it; nothing of it in prod."""
from __future__ import annotations

import base64
import json
import logging
import uuid
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from config import Config, load_config
from simulator import webhook
from simulator.chatlog import SimulatorStore
from tests.prod_values import PROD_VALUES
from tests.simulator.conftest import ACOOP, BAKER, HANAKO, KENTA, EchoBot, LiveSim, auth
from town import demo_town

EMILY = demo_town.EMILY.line_user_id

HELLO = [{"type": "text", "text": "こんにちは"}]
QUICK = [{"type": "action", "action": {"type": "message", "label": f"{i}", "text": f"{i}"}} for i in range(14)]
BUBBLE = {"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": [
    {"type": "text", "text": "残高", "weight": "bold"},
    {"type": "button", "action": {"type": "uri", "label": "支払う", "uri": "https://liff.line.me/1234567890-devliff/pay"}},
    {"type": "button", "action": {"type": "datetimepicker", "label": "日付", "data": "d=1", "mode": "date"}}]}}

GOOD: list[tuple[str, dict[str, Any]]] = [
    ("/v2/bot/message/push", {"to": HANAKO, "messages": [
        {"type": "text", "text": "どれにしますか", "quickReply": {"items": QUICK[:13]}}]}),
    ("/v2/bot/message/push", {"to": HANAKO, "messages": [
        {"type": "flex", "altText": "カルーセル", "contents": {"type": "carousel", "contents": [BUBBLE, BUBBLE]}}]}),
    ("/v2/bot/message/multicast", {"to": [HANAKO, KENTA], "messages": HELLO}),
    ("/v2/bot/message/broadcast", {"messages": HELLO}),
    ("/v2/bot/message/narrowcast", {"messages": HELLO}),
    ("/v2/bot/chat/loading/start", {"chatId": HANAKO, "loadingSeconds": 20}),
]

BAD: list[tuple[str, dict[str, Any], str]] = [
    ("/v2/bot/message/push", {"to": HANAKO, "messages": HELLO * 6}, "messages: must have at most 5 items"),
    ("/v2/bot/message/push", {"to": HANAKO, "messages": [{"type": "text", "text": "q", "quickReply": {"items": QUICK}}]},
     "messages[0].quickReply.items: must have at most 13 items"),
    ("/v2/bot/message/push", {"to": HANAKO, "messages": [{"type": "text"}]}, "'text' is a required property"),
    ("/v2/bot/message/push", {"to": HANAKO, "messages": [{"type": "flex", "altText": "x", "contents": {
        "type": "bubble", "body": {"type": "box", "layout": "sideways", "contents": []}}}]},
     "messages[0].contents.body.layout: must be one of"),
    ("/v2/bot/message/push", {"to": "佐藤 花子", "messages": HELLO}, "to: is not a valid user, group or room id"),
    ("/v2/bot/message/multicast", {"to": [HANAKO] * 501, "messages": HELLO}, "to: must have at most 500 items"),
    ("/v2/bot/message/broadcast", {"messages": []}, "messages: must have at least 1 items"),
    ("/v2/bot/chat/loading/start", {"chatId": HANAKO, "loadingSeconds": 70}, "loadingSeconds: must be <= 60"),
    ("/v2/bot/richmenu", {"selected": False, "name": "x", "chatBarText": "x", "areas": []}, "'size' is a required"),
    ("/v2/bot/richmenu/bulk/link", {"richMenuId": "richmenu-0"}, "'userIds' is a required property"),
]


def post(client: FlaskClient, config: Config, path: str, body: Any, **headers: str) -> Any:
    return client.post(path, json=body, headers={**auth(config), **headers})


# --------------------------------------------------------------------------- spec checks


@pytest.mark.parametrize(("path", "body"), GOOD, ids=[f"{p.rsplit('/', 1)[-1]}-{i}" for i, (p, _) in enumerate(GOOD)])
def test_good_payload_is_accepted_with_a_request_id(sim_client: FlaskClient, sim_config: Config, store: SimulatorStore,
                                                     path: str, body: dict[str, Any]) -> None:
    answer = post(sim_client, sim_config, path, body)
    assert answer.status_code in (200, 202), answer.get_data(as_text=True)
    assert uuid.UUID(answer.headers["x-line-request-id"])
    assert store.violations == []
    assert store.requests_to(path)[-1].status == answer.status_code


@pytest.mark.parametrize(("path", "body", "error"), BAD, ids=[e.split(":")[0][:30] for _, _, e in BAD])
def test_bad_payload_is_400_recorded_loudly_and_shown(sim_client: FlaskClient, sim_config: Config,
                                                       store: SimulatorStore, caplog: pytest.LogCaptureFixture,
                                                       path: str, body: dict[str, Any], error: str) -> None:
    with caplog.at_level(logging.ERROR, logger="simulator.fake_line"):
        answer = post(sim_client, sim_config, path, body)
    assert answer.status_code == 400
    details = answer.get_json()["details"]
    assert any(error in f"{d.get('property', '')}: {d['message']}" or error in d["message"] for d in details), details
    assert answer.headers["x-line-request-id"]
    assert store.deliveries == []
    assert f"LINE payload violation: POST {path}" in caplog.text
    shown = sim_client.get("/simulator/api/violations").get_json()
    assert shown["total"] == 1
    assert shown["violations"][0]["path"] == path
    assert any(error in e for e in shown["violations"][0]["errors"])
    # the chat UI learns of it on its next poll (it then shows the red banner)
    assert sim_client.get(f"/simulator/api/messages?user={HANAKO}").get_json()["violations"] == 1


def test_pushed_messages_reach_the_persona_chat_in_order(sim_client: FlaskClient, sim_config: Config) -> None:
    sim_client.get("/simulator/api/personas")  # the platform learns who is a friend: Hanako is, Kenta not yet
    for path, body in GOOD[:4]:
        assert post(sim_client, sim_config, path, body).status_code == 200
    kenta = sim_client.get(f"/simulator/api/messages?user={KENTA}").get_json()["entries"]
    assert [(e["from"], e["via"], e["message"]["text"]) for e in kenta] == [("bot", "multicast", "こんにちは")]
    hanako = sim_client.get(f"/simulator/api/messages?user={HANAKO}").get_json()["entries"]
    assert [(e["message"]["type"], e["via"]) for e in hanako] == [
        ("text", "push"), ("flex", "push"), ("text", "multicast"), ("text", "broadcast")]
    assert len(hanako[0]["message"]["quickReply"]["items"]) == 13


# --------------------------------------------------------------------------- LINE's answers


def test_reused_retry_key_is_409_and_sends_once(sim_client: FlaskClient, sim_config: Config,
                                               store: SimulatorStore) -> None:
    key = str(uuid.uuid4())
    body = {"to": HANAKO, "messages": HELLO}
    first = post(sim_client, sim_config, "/v2/bot/message/push", body, **{"X-Line-Retry-Key": key})
    again = post(sim_client, sim_config, "/v2/bot/message/push", body, **{"X-Line-Retry-Key": key})
    assert first.status_code == 200
    assert again.status_code == 409
    assert again.get_json()["message"] == "The retry key is already accepted"
    assert again.headers["x-line-accepted-request-id"] == first.headers["x-line-request-id"]
    assert again.get_json()["sentMessages"] == first.get_json()["sentMessages"]
    assert store.messages_to(HANAKO) == HELLO
    multi = {"to": [HANAKO, KENTA], "messages": HELLO}
    key2 = str(uuid.uuid4())
    assert post(sim_client, sim_config, "/v2/bot/message/multicast", multi, **{"X-Line-Retry-Key": key2}).status_code == 200
    assert post(sim_client, sim_config, "/v2/bot/message/multicast", multi, **{"X-Line-Retry-Key": key2}).status_code == 409
    assert store.messages_to(KENTA) == HELLO


def test_wrong_access_token_is_401(sim_client: FlaskClient) -> None:
    answer = sim_client.post("/v2/bot/message/push", json={"to": HANAKO, "messages": HELLO},
                             headers={"Authorization": "Bearer someone-elses"})
    assert answer.status_code == 401
    assert answer.headers["x-line-request-id"]


def test_reply_token_from_a_webhook_works_once(sim_client: FlaskClient, sim_config: Config,
                                               echo_bot: EchoBot, store: SimulatorStore) -> None:
    sim_client.post("/simulator/api/events", json={"type": "follow", "user": KENTA})
    answer = sim_client.post("/simulator/api/events", json={"type": "text", "user": KENTA, "text": "やあ"})
    assert answer.get_json()["ok"] is True
    token = echo_bot.events[-1]["replyToken"]
    again = post(sim_client, sim_config, "/v2/bot/message/reply", {"replyToken": token, "messages": HELLO})
    assert again.status_code == 400 and again.get_json()["message"] == "Invalid reply token"


def test_profile_and_id_token_verify(sim_client: FlaskClient, sim_config: Config) -> None:
    sim_client.get("/simulator/api/personas")
    profile = sim_client.get(f"/v2/bot/profile/{HANAKO}", headers=auth(sim_config)).get_json()
    assert profile == {"userId": HANAKO, "displayName": "佐藤 花子", "language": "ja"}
    token = sim_client.get(f"/simulator/api/id-token?user={HANAKO}").get_json()["id_token"]
    ok = sim_client.post("/oauth2/v2.1/verify", data={"id_token": token, "client_id": sim_config.line_login_channel_id})
    assert ok.status_code == 200 and ok.get_json()["sub"] == HANAKO
    wrong = sim_client.post("/oauth2/v2.1/verify", data={"id_token": token, "client_id": "999"})
    assert wrong.status_code == 400 and wrong.get_json()["error_description"] == "Invalid IdToken Audience."
    assert sim_client.get("/simulator/api/id-token?user=hanako").status_code == 400


# --------------------------------------------------------------------------- webhooks and the UI's API


def test_webhook_is_signed_with_the_channel_secret_and_valid(sim_client: FlaskClient, echo_bot: EchoBot) -> None:
    sim_client.post("/simulator/api/events", json={"type": "follow", "user": KENTA})
    for event in ({"type": "text", "text": "こんにちは"}, {"type": "postback", "data": "d=1", "params": {"date": "2026-05-03"}},
                  {"type": "image", "content": base64.b64encode(b"\xff\xd8jpeg").decode()}, {"type": "location"}):
        answer = sim_client.post("/simulator/api/events", json={**event, "user": KENTA})
        assert answer.status_code == 200 and answer.get_json()["ok"], answer.get_data(as_text=True)
    assert echo_bot.bad_signatures == 0
    assert [e["type"] for e in echo_bot.events] == ["follow", "message", "postback", "message", "message"]
    assert echo_bot.events[2]["postback"] == {"data": "d=1", "params": {"date": "2026-05-03"}}
    chat = sim_client.get(f"/simulator/api/messages?user={KENTA}").get_json()["entries"]
    assert [e["message"].get("text") for e in chat if e["from"] == "bot"][:2] == ["ようこそ", "echo: こんにちは"]


def test_a_wrongly_signed_body_is_refused_by_the_real_callback(sim_app: Flask) -> None:
    body = webhook.callback_body([webhook.base_event("unfollow", KENTA, reply_token=None)])
    bad = sim_app.test_client().post("/callback", data=body, headers={"X-Line-Signature": webhook.sign("not-it", body),
                                                                     "Content-Type": "application/json"})
    assert bad.status_code == 400


def test_messages_need_a_friend_and_a_line_id(sim_client: FlaskClient) -> None:
    refused = sim_client.post("/simulator/api/events", json={"type": "text", "user": KENTA, "text": "やあ"})
    assert refused.status_code == 409
    assert "友だち追加" in refused.get_json()["error"]["message"]
    assert sim_client.post("/simulator/api/events", json={"type": "text", "user": "x", "text": "a"}).status_code == 400
    assert sim_client.post("/simulator/api/events", data="{", content_type="application/json").status_code == 400


def test_rich_menus_are_deployed_and_linked_by_state(sim_client: FlaskClient) -> None:
    menus = {user: sim_client.get(f"/simulator/api/richmenu?user={user}").get_json()["richMenu"]
             for user in (HANAKO, KENTA, ACOOP, EMILY)}
    assert {u: m["name"] for u, m in menus.items()} == {HANAKO: "machi-resident", KENTA: "machi-guest",
                                                         ACOOP: "machi-shop", EMILY: "machi-resident-en"}
    assert menus[EMILY]["chatBarText"] == "Menu"
    image = sim_client.get(menus[HANAKO]["image"])
    assert image.status_code == 200 and image.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert all(a["action"]["type"] in ("postback", "uri", "richmenuswitch") for a in menus[HANAKO]["areas"])


def test_office_grant_goes_through_the_ledger_and_is_refused_when_not_eligible(sim_client: FlaskClient) -> None:
    residents = sim_client.get("/simulator/api/office").get_json()
    hanako = next(r for r in residents["residents"] if r["line_user_id"] == HANAKO)
    isamu = next(r for r in residents["residents"] if r["name"] == "高橋 勇")
    assert [p["code"] for p in residents["programs"]] == ["BIRTH2026"]
    refused = sim_client.post("/simulator/api/office", json={"action": "grant", "resident_id": isamu["id"],
                                                             "program": "BIRTH2026"})
    assert refused.status_code == 400
    assert refused.get_json()["error"]["message"] == "「出産祝い給付金」の対象ではありません。"
    done = sim_client.post("/simulator/api/office", json={"action": "grant", "resident_id": hanako["id"],
                                                          "program": "BIRTH2026"})
    assert done.status_code == 200
    assert done.get_json()["message"] == "佐藤 花子さんに「出産祝い給付金」50,000円を入金しました。"
    twice = sim_client.post("/simulator/api/office", json={"action": "grant", "resident_id": hanako["id"],
                                                           "program": "BIRTH2026"})
    assert twice.status_code == 400 and "すでに受け取っています" in twice.get_json()["error"]["message"]
    for bad in ({"action": "fly", "resident_id": 1}, {"action": "birth", "resident_id": "x"},
                {"action": "verify", "resident_id": hanako["id"]}):
        answer = sim_client.post("/simulator/api/office", json=bad)
        assert answer.status_code == 400 and answer.get_json()["error"]["message"]


def test_real_bot_answers_through_the_fake_platform(live_sim: LiveSim) -> None:
    """`make run`: LINE_API_HOST is the dev server itself; the bot's reply reaches the persona's chat."""
    events = live_sim.url + "/simulator/api/events"
    assert requests.post(events, json={"type": "follow", "user": KENTA}, timeout=30).json()["ok"]
    chat = requests.get(live_sim.url + f"/simulator/api/messages?user={KENTA}", timeout=10).json()["entries"]
    bot = [e for e in chat if e["from"] == "bot"]
    assert bot and bot[0]["via"] == "reply"
    assert "登録" in json.dumps(bot[0]["message"], ensure_ascii=False)
    assert live_sim.store.violations == []
    assert all(r.status is not None and r.status < 400 for r in live_sim.store.requests_to("/v2/bot/message"))


# --------------------------------------------------------------------------- prod


def test_prod_has_no_simulator_no_dev_tokens_and_no_fake_line(db_url: str) -> None:
    config = load_config(database_url=db_url, **PROD_VALUES)
    app = create_app(config)
    client = app.test_client()
    try:
        for path in ("/simulator", "/simulator/", f"/simulator/api/id-token?user={HANAKO}",
                     "/simulator/api/personas", "/simulator/static/sim.js"):
            assert client.get(path).status_code == 404, path
        assert client.post("/oauth2/v2.1/verify", data={"id_token": "x", "client_id": "1"}).status_code == 404
        assert client.post("/v2/bot/message/push", json={"to": HANAKO, "messages": HELLO},
                           headers={"Authorization": f"Bearer {PROD_VALUES['line_channel_access_token']}"}).status_code == 404
        assert client.post("/simulator/api/events", json={"type": "follow", "user": BAKER}).status_code == 404
        assert "fake_line" not in app.extensions["machi"].extras
    finally:
        app.extensions["machi"].close(grace=0)  # its relay thread (prod: `thread` mode) stops too
