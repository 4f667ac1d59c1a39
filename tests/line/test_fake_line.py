"""The fake LINE platform behaves like LINE where our code could get it wrong."""
from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
import requests
from flask import Flask

from simulator.fake_line import FakeLineStore, create_fake_line_blueprint
from tests.line.conftest import ALICE, BOB, TOKEN, FakeLine, png

AUTH = {"Authorization": f"Bearer {TOKEN}"}
HELLO = [{"type": "text", "text": "こんにちは"}]


def post(fake: FakeLine, path: str, body: Any = None, headers: dict[str, str] | None = None,
         **kwargs: Any) -> requests.Response:
    return requests.post(fake.url + path, json=body, headers={**AUTH, **(headers or {})}, timeout=5, **kwargs)


def get(fake: FakeLine, path: str) -> requests.Response:
    return requests.get(fake.url + path, headers=AUTH, timeout=5)


# --------------------------------------------------------------------------- auth and request ids


def test_wrong_or_missing_token_is_401_and_nothing_is_sent(fake_line: FakeLine) -> None:
    wrong = post(fake_line, "/v2/bot/message/push", {"to": ALICE, "messages": HELLO},
                 headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.json()["message"].startswith("Authentication failed")
    assert wrong.headers["x-line-request-id"]
    missing = requests.post(fake_line.url + "/v2/bot/message/push", json={"to": ALICE, "messages": HELLO}, timeout=5)
    assert missing.status_code == 401
    assert fake_line.store.deliveries == []


def test_every_answer_has_a_request_id_and_is_recorded(fake_line: FakeLine) -> None:
    ok = post(fake_line, "/v2/bot/message/push", {"to": ALICE, "messages": HELLO})
    missing = get(fake_line, "/v2/bot/profile/" + "U" + "f" * 32)
    assert ok.status_code == 200 and missing.status_code == 404
    ids = {ok.headers["x-line-request-id"], missing.headers["x-line-request-id"]}
    assert len(ids) == 2
    recorded = fake_line.store.requests_to("/v2/bot/")
    assert [(r.method, r.status) for r in recorded] == [("POST", 200), ("GET", 404)]
    assert recorded[0].json == {"to": ALICE, "messages": HELLO}
    assert recorded[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert fake_line.store.messages_to(ALICE) == HELLO
    fake_line.store.clear()
    assert fake_line.store.requests == [] and fake_line.store.messages_to(ALICE) == []


# --------------------------------------------------------------------------- spec violations


def test_invalid_payload_is_400_with_details_and_recorded_loudly(fake_line: FakeLine,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    bad = {"to": ALICE, "messages": [{"type": "text"}, {"type": "flex", "altText": "x",
                                                         "contents": {"type": "bubble", "body": {
                                                             "type": "box", "layout": "vertical",
                                                             "contents": [{"type": "table"}]}}}]}
    with caplog.at_level(logging.ERROR, logger="simulator.fake_line"):
        answer = post(fake_line, "/v2/bot/message/push", bad)
    assert answer.status_code == 400
    body = answer.json()
    assert body["message"] == "The request body has 2 error(s)"
    assert {d["property"] for d in body["details"]} == {"messages[0]", "messages[1].contents.body.contents[0].type"}
    assert len(fake_line.store.violations) == 1
    assert fake_line.store.violations[0].path == "/v2/bot/message/push"
    assert "LINE payload violation" in caplog.text
    assert fake_line.store.deliveries == []


def test_recipient_that_is_not_a_line_id_is_refused(fake_line: FakeLine) -> None:
    answer = post(fake_line, "/v2/bot/message/push", {"to": "yamada", "messages": HELLO})
    assert answer.status_code == 400
    assert fake_line.store.violations[0].errors == ["to: is not a valid user, group or room id"]


def test_strict_ids_can_be_turned_off() -> None:
    app = Flask(__name__)
    store = FakeLineStore(strict_ids=False)
    app.register_blueprint(create_fake_line_blueprint(store))
    answer = app.test_client().post("/v2/bot/message/push", json={"to": "demo-user", "messages": HELLO})
    assert answer.status_code == 200 and store.messages_to("demo-user") == HELLO


def test_body_that_is_not_json_is_refused(fake_line: FakeLine) -> None:
    answer = requests.post(fake_line.url + "/v2/bot/message/push", data=b"{not json",
                           headers={**AUTH, "Content-Type": "application/json"}, timeout=5)
    assert answer.status_code == 400
    assert fake_line.store.violations


# --------------------------------------------------------------------------- reply tokens


def test_reply_token_is_single_use(fake_line: FakeLine) -> None:
    token = fake_line.store.new_reply_token(ALICE)
    first = post(fake_line, "/v2/bot/message/reply", {"replyToken": token, "messages": HELLO})
    assert first.status_code == 200 and len(first.json()["sentMessages"]) == 1
    again = post(fake_line, "/v2/bot/message/reply", {"replyToken": token, "messages": HELLO})
    unknown = post(fake_line, "/v2/bot/message/reply", {"replyToken": "f" * 32, "messages": HELLO})
    assert again.status_code == unknown.status_code == 400
    assert again.json() == {"message": "Invalid reply token"}
    assert fake_line.store.messages_to(ALICE) == HELLO


def test_reply_token_expires() -> None:
    now = [1000.0]
    store = FakeLineStore(clock=lambda: now[0])
    app = Flask(__name__)
    app.register_blueprint(create_fake_line_blueprint(store))
    token = store.new_reply_token(ALICE)
    now[0] += 61
    answer = app.test_client().post("/v2/bot/message/reply", json={"replyToken": token, "messages": HELLO})
    assert answer.status_code == 400


# --------------------------------------------------------------------------- retry keys and faults


def test_reused_retry_key_is_409_with_the_first_request_id(fake_line: FakeLine) -> None:
    key = {"X-Line-Retry-Key": str(uuid.uuid4())}
    first = post(fake_line, "/v2/bot/message/push", {"to": ALICE, "messages": HELLO}, key)
    second = post(fake_line, "/v2/bot/message/push", {"to": ALICE, "messages": HELLO}, key)
    assert first.status_code == 200 and second.status_code == 409
    assert second.headers["x-line-accepted-request-id"] == first.headers["x-line-request-id"]
    assert second.json()["sentMessages"] == first.json()["sentMessages"]
    assert fake_line.store.messages_to(ALICE) == HELLO
    multicast = {"to": [ALICE, BOB], "messages": HELLO}
    mkey = {"X-Line-Retry-Key": str(uuid.uuid4())}
    assert post(fake_line, "/v2/bot/message/multicast", multicast, mkey).status_code == 200
    assert post(fake_line, "/v2/bot/message/multicast", multicast, mkey).status_code == 409
    assert len(fake_line.store.messages_to(BOB)) == 1


def test_retry_key_must_be_a_uuid(fake_line: FakeLine) -> None:
    answer = post(fake_line, "/v2/bot/message/broadcast", {"messages": HELLO}, {"X-Line-Retry-Key": "grant-1"})
    assert answer.status_code == 400


def test_fault_injection_counts_down_and_can_say_retry_after(fake_line: FakeLine) -> None:
    fake_line.store.fail_next("/v2/bot/message/push", 429, count=2, retry_after=1)
    statuses = [post(fake_line, "/v2/bot/message/push", {"to": ALICE, "messages": HELLO}) for _ in range(3)]
    assert [s.status_code for s in statuses] == [429, 429, 200]
    assert statuses[0].headers["Retry-After"] == "1"
    assert len(fake_line.store.messages_to(ALICE)) == 1


def test_fault_after_processing_delivers_then_fails(fake_line: FakeLine) -> None:
    fake_line.store.fail_next("/v2/bot/message/push", 500, after_processing=True)
    key = {"X-Line-Retry-Key": str(uuid.uuid4())}
    assert post(fake_line, "/v2/bot/message/push", {"to": ALICE, "messages": HELLO}, key).status_code == 500
    assert post(fake_line, "/v2/bot/message/push", {"to": ALICE, "messages": HELLO}, key).status_code == 409
    assert fake_line.store.messages_to(ALICE) == HELLO


# --------------------------------------------------------------------------- profiles, content, loading


def test_profile_comes_from_personas(fake_line: FakeLine) -> None:
    answer = get(fake_line, f"/v2/bot/profile/{BOB}")
    assert answer.json() == {"userId": BOB, "displayName": "Bob", "language": "en"}


def test_message_content_and_loading(fake_line: FakeLine) -> None:
    fake_line.store.put_content("4687895", b"\xff\xd8jpeg", "image/jpeg")
    content = get(fake_line, "/v2/bot/message/4687895/content")
    assert content.content == b"\xff\xd8jpeg" and content.headers["Content-Type"] == "image/jpeg"
    assert get(fake_line, "/v2/bot/message/1/content").status_code == 404
    assert post(fake_line, "/v2/bot/chat/loading/start", {"chatId": ALICE, "loadingSeconds": 7}).status_code == 400
    assert post(fake_line, "/v2/bot/chat/loading/start", {"chatId": ALICE, "loadingSeconds": 10}).status_code == 202
    assert fake_line.store.loading[ALICE] == 10


# --------------------------------------------------------------------------- rich menus


MENU = {"size": {"width": 2500, "height": 843}, "selected": False, "name": "main", "chatBarText": "メニュー",
        "areas": [{"bounds": {"x": 0, "y": 0, "width": 2500, "height": 843},
                   "action": {"type": "postback", "data": "menu=1"}}]}


def test_rich_menu_image_rules_and_linking(fake_line: FakeLine) -> None:
    menu_id = post(fake_line, "/v2/bot/richmenu", MENU).json()["richMenuId"]
    assert menu_id.startswith("richmenu-")
    assert post(fake_line, f"/v2/bot/user/{ALICE}/richmenu/{menu_id}").status_code == 400  # no image yet
    upload = f"/v2/bot/richmenu/{menu_id}/content"
    wrong_size = requests.post(fake_line.url + upload, data=png(1200, 405),
                               headers={**AUTH, "Content-Type": "image/png"}, timeout=5)
    assert wrong_size.status_code == 400 and "does not match" in wrong_size.json()["message"]
    ok = requests.post(fake_line.url + upload, data=png(), headers={**AUTH, "Content-Type": "image/png"}, timeout=5)
    assert ok.status_code == 200
    twice = requests.post(fake_line.url + upload, data=png(), headers={**AUTH, "Content-Type": "image/png"}, timeout=5)
    assert twice.status_code == 400
    assert post(fake_line, f"/v2/bot/user/{ALICE}/richmenu/{menu_id}").status_code == 200
    assert post(fake_line, f"/v2/bot/user/all/richmenu/{menu_id}").status_code == 200
    assert fake_line.store.menu_for(ALICE) == menu_id and fake_line.store.menu_for(BOB) == menu_id
    assert requests.delete(fake_line.url + f"/v2/bot/richmenu/{menu_id}", headers=AUTH, timeout=5).status_code == 200
    assert fake_line.store.menu_for(ALICE) is None


def test_alias_create_conflict_and_update(fake_line: FakeLine) -> None:
    a = post(fake_line, "/v2/bot/richmenu", MENU).json()["richMenuId"]
    b = post(fake_line, "/v2/bot/richmenu", MENU).json()["richMenuId"]
    assert post(fake_line, "/v2/bot/richmenu/alias/main", {"richMenuId": a}).status_code == 400  # no such alias
    assert post(fake_line, "/v2/bot/richmenu/alias", {"richMenuAliasId": "main", "richMenuId": a}).status_code == 200
    assert post(fake_line, "/v2/bot/richmenu/alias", {"richMenuAliasId": "main", "richMenuId": b}).status_code == 400
    assert post(fake_line, "/v2/bot/richmenu/alias/main", {"richMenuId": b}).status_code == 200
    assert get(fake_line, "/v2/bot/richmenu/alias/main").json() == {"richMenuAliasId": "main", "richMenuId": b}


# --------------------------------------------------------------------------- LIFF ID tokens


def verify(fake: FakeLine, token: str, client_id: str = "1234567890") -> requests.Response:
    return requests.post(fake.url + "/oauth2/v2.1/verify", data={"id_token": token, "client_id": client_id},
                         timeout=5)


def test_verify_accepts_an_issued_id_token(fake_line: FakeLine) -> None:
    token = fake_line.store.issue_id_token(ALICE, "1234567890")
    answer = verify(fake_line, token)
    assert answer.status_code == 200
    claims = answer.json()
    assert claims["sub"] == ALICE and claims["aud"] == "1234567890" and claims["name"] == "山田花子"
    assert claims["iss"] == "https://access.line.me" and claims["exp"] > claims["iat"]
    assert claims["amr"] == ["linesso"] and claims["picture"] == "https://example.com/a.png"


def test_verify_rejects_forged_foreign_and_expired_tokens(fake_line: FakeLine) -> None:
    token = fake_line.store.issue_id_token(ALICE, "1234567890")
    head, payload, _sig = token.split(".")
    forged = verify(fake_line, f"{head}.{payload}.Zm9yZ2Vk")
    assert forged.status_code == 400
    assert forged.json() == {"error": "invalid_request", "error_description": "Invalid IdToken."}
    assert verify(fake_line, token, "999").json()["error_description"] == "Invalid IdToken Audience."
    expired = fake_line.store.issue_id_token(ALICE, "1234567890", ttl=-1)
    assert verify(fake_line, expired).json()["error_description"] == "IdToken expired."


# --------------------------------------------------------------------------- mounting


def test_blueprint_mounts_in_any_app_at_the_real_paths() -> None:
    app = Flask(__name__)
    store = FakeLineStore()
    app.register_blueprint(create_fake_line_blueprint(store, channel_access_token=TOKEN), url_prefix="")
    client = app.test_client()
    answer = client.post("/v2/bot/message/push", json={"to": ALICE, "messages": HELLO}, headers=AUTH)
    assert answer.status_code == 200 and answer.headers["x-line-request-id"]
    assert client.post("/v2/bot/message/push", json={"to": ALICE, "messages": HELLO}).status_code == 401
