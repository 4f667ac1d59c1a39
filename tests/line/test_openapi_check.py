"""Both LINE checkers must pass what LINE takes and refuse what LINE refuses, in the same words.

Every case runs against the SDK-model checker (`bot.sdk_check`, always there) and against LINE's
spec files (`bot.openapi_check`, where they are found; skipped with the reason otherwise). Plain
JSON Schema ignores `discriminator`, and the SDK's `from_dict` drops what it does not know, so
most "bad" cases below would pass without the dispatch on `type`; each of them is a mistake a
renderer could plausibly make.
"""
from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from linebot.v3.messaging import Message

from bot import line_check, openapi_check, sdk_check
from ledger.errors import InvalidInput
from tests.line_files import conformance_webhook, line_spec
from town import line_messages

U = "U" + "0" * 32
RICH_MENU_ID = "richmenu-" + "0" * 32


def text(body: str = "こんにちは", **extra: Any) -> dict[str, Any]:
    return {"type": "text", "text": body, **extra}


def bubble(*contents: dict[str, Any], footer: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "bubble",
                           "body": {"type": "box", "layout": "vertical", "contents": list(contents)}}
    if footer:
        out["footer"] = {"type": "box", "layout": "vertical", "spacing": "sm", "contents": footer}
    return out


def button(action: dict[str, Any]) -> dict[str, Any]:
    return {"type": "button", "style": "primary", "height": "sm", "action": action}


POSTBACK = {"type": "postback", "label": "支払う", "data": "action=pay&amount=500", "displayText": "支払う"}
URI = {"type": "uri", "label": "履歴", "uri": "https://liff.line.me/1234567890-devliff/history"}
DATE = {"type": "datetimepicker", "label": "生年月日", "data": "field=birth", "mode": "date",
        "initial": "1965-04-01", "max": "2024-12-31", "min": "1900-01-01"}

BALANCE_FLEX = {
    "type": "flex", "altText": "残高 12,000円",
    "contents": bubble(
        {"type": "text", "text": "残高", "weight": "bold", "size": "xl"},
        {"type": "separator", "margin": "md"},
        {"type": "box", "layout": "baseline", "contents": [
            {"type": "text", "text": "共通券", "flex": 1, "color": "#888888"},
            {"type": "text", "contents": [{"type": "span", "text": "12,000", "weight": "bold"},
                                          {"type": "span", "text": "円"}], "align": "end"}]},
        footer=[button(POSTBACK), button(URI), button(DATE)]),
}


def quick_reply(count: int) -> dict[str, Any]:
    items = [{"type": "action", "action": {"type": "message", "label": f"{i}", "text": f"{i}"}} for i in range(count)]
    return {"items": items}


CONFIRM = {"type": "template", "altText": "確認",
           "template": {"type": "confirm", "text": "500円を支払いますか？",
                        "actions": [{"type": "postback", "label": "はい", "data": "yes"},
                                    {"type": "message", "label": "いいえ", "text": "いいえ"}]}}

RICH_MENU = {
    "size": {"width": 2500, "height": 843}, "selected": True, "name": "resident-main",
    "chatBarText": "メニュー",
    "areas": [
        {"bounds": {"x": 0, "y": 0, "width": 1250, "height": 843},
         "action": {"type": "postback", "data": "menu=balance", "displayText": "残高"}},
        {"bounds": {"x": 1250, "y": 0, "width": 1250, "height": 843},
         "action": {"type": "richmenuswitch", "richMenuAliasId": "merchant", "data": "switch=merchant"}},
    ],
}


@pytest.fixture(params=[pytest.param(openapi_check, marks=line_spec, id="spec"), pytest.param(sdk_check, id="sdk")])
def oc(request: pytest.FixtureRequest) -> Any:
    """Each checker in turn: LINE's spec files, the SDK's models."""
    return request.param


# --------------------------------------------------------------------------- good payloads


@pytest.mark.parametrize("messages", [
    [text()],
    [text("はい", quickReply={"items": [
        {"type": "action", "action": {"type": "message", "label": "はい", "text": "はい"}},
        {"type": "action", "action": DATE},
        {"type": "action", "action": {"type": "location", "label": "位置情報"}},
        {"type": "action", "action": {"type": "camera", "label": "カメラ"}},
        {"type": "action", "action": POSTBACK}]})],
    [BALANCE_FLEX],
    [{"type": "flex", "altText": "お知らせ", "contents": {"type": "carousel", "contents": [
        bubble({"type": "text", "text": "1"}), bubble({"type": "text", "text": "2"}, footer=[button(URI)])]}}],
    [CONFIRM],
    [text(), text(quickReply=quick_reply(13)), BALANCE_FLEX, CONFIRM,
     {"type": "sticker", "packageId": "446", "stickerId": "1988"}],
], ids=["text", "quick-reply", "flex-bubble", "flex-carousel", "confirm", "five-mixed"])
def test_good_messages_pass(oc: Any, messages: list[dict[str, Any]]) -> None:
    assert oc.validate_messages(messages) == []
    assert oc.validate_request("POST", "/v2/bot/message/push", {"to": U, "messages": messages}) == []


def test_sdk_serialisation_of_a_flex_message_still_passes(oc: Any) -> None:
    """The client sends messages through the SDK models, which add defaults such as `animated`."""
    roundtrip = Message.from_dict(copy.deepcopy(BALANCE_FLEX)).to_dict()
    assert oc.validate_messages([roundtrip]) == []


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/v2/bot/message/reply", {"replyToken": "abc", "messages": [text()]}),
    ("POST", "/v2/bot/message/multicast", {"to": [U] * 500, "messages": [text()]}),
    ("POST", "/v2/bot/message/broadcast", {"messages": [text()], "notificationDisabled": True}),
    ("POST", "/v2/bot/message/narrowcast", {
        "messages": [text()],
        "recipient": {"type": "operator", "and": [
            {"type": "audience", "audienceGroupId": 5614991017776},
            {"type": "operator", "not": {"type": "audience", "audienceGroupId": 4389303728991}}]},
        "filter": {"demographic": {"type": "operator", "or": [
            {"type": "age", "gte": "age_60"}, {"type": "area", "oneOf": ["jp_01"]}]}},
        "limit": {"max": 1000, "upToRemainingQuota": True}}),
    ("POST", "/v2/bot/chat/loading/start", {"chatId": U, "loadingSeconds": 10}),
    ("POST", "/v2/bot/richmenu", RICH_MENU),
    ("POST", "/v2/bot/richmenu/validate", RICH_MENU),
    ("POST", "/v2/bot/richmenu/bulk/link", {"richMenuId": RICH_MENU_ID, "userIds": [U] * 500}),
    ("POST", "/v2/bot/richmenu/alias", {"richMenuAliasId": "resident", "richMenuId": RICH_MENU_ID}),
    ("POST", "/v2/bot/richmenu/alias/resident", {"richMenuId": RICH_MENU_ID}),
    ("POST", f"/v2/bot/user/{U}/richmenu/{RICH_MENU_ID}", None),
    ("POST", f"/v2/bot/user/all/richmenu/{RICH_MENU_ID}", None),
    ("POST", f"/v2/bot/richmenu/{RICH_MENU_ID}/content", None),  # a PNG body: not JSON, not checked here
    ("GET", f"/v2/bot/profile/{U}", None),
    ("GET", "/v2/bot/richmenu/list?x=1", None),
    ("DELETE", f"/v2/bot/user/{U}/richmenu", None),
], ids=lambda v: v if isinstance(v, str) and v.startswith("/") else None)
def test_good_requests_pass(oc: Any, method: str, path: str, body: dict[str, Any] | None) -> None:
    assert oc.validate_request(method, path, body) == []


# --------------------------------------------------------------------------- bad payloads


def _flex_with(component: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"type": "flex", "altText": "x", "contents": bubble(component)}]


@pytest.mark.parametrize(("messages", "expected"), [
    ([{"type": "text"}], "messages[0]: 'text' is a required property"),
    ([{"type": "txet", "text": "typo"}], "messages[0].type: unknown type"),
    ([{"text": "no type"}], "messages[0]: 'type' is a required property"),
    ([text()] * 6, "messages: must have at most 5 items (has 6)"),
    ([], "messages: must have at least 1 items (has 0)"),
    ([text(quickReply=quick_reply(14))], "messages[0].quickReply.items: must have at most 13 items (has 14)"),
    ([text(quickReply={"items": [{"type": "action", "action": {"type": "postback", "label": "x"}}]})],
     "messages[0].quickReply.items[0].action: 'data' is a required property"),
    ([text(quickReply={"items": [{"type": "action", "action": {"type": "teleport", "label": "x"}}]})],
     "messages[0].quickReply.items[0].action.type: unknown type"),
    (_flex_with({"type": "table", "rows": []}), "messages[0].contents.body.contents[0].type: unknown type"),
    (_flex_with({"type": "box", "layout": "vertical", "contents": [{"type": "text"}]}),
     "messages[0].contents.body.contents[0].contents[0]: one of 'text' or 'contents' is required"),
    (_flex_with({"type": "box", "layout": "diagonal", "contents": []}),
     "messages[0].contents.body.contents[0].layout: must be one of"),
    (_flex_with({"type": "button", "action": {"type": "uri", "label": "x"}}),
     "messages[0].contents.body.contents[0].action: 'uri' is a required property"),
    (_flex_with({"type": "button", "action": {"type": "datetimepicker", "label": "d", "data": "x", "mode": "week"}}),
     "messages[0].contents.body.contents[0].action.mode: must be one of"),
    ([{"type": "flex", "altText": "x", "contents": {"type": "bubbles"}}], "messages[0].contents.type: unknown type"),
    ([{"type": "flex", "contents": bubble({"type": "text", "text": "a"})}], "'altText' is a required property"),
    ([{"type": "flex", "altText": "x", "contents": {"type": "carousel", "contents": [bubble()] * 13}}],
     "messages[0].contents.contents: must have at most 12 items (has 13)"),
    ([{**CONFIRM, "template": {**CONFIRM["template"], "actions": CONFIRM["template"]["actions"][:1]}}],
     "messages[0].template.actions: must have at least 2 items (has 1)"),
    ([{**CONFIRM, "template": {"type": "confirm", "actions": CONFIRM["template"]["actions"]}}],
     "messages[0].template: 'text' is a required property"),
    ([text("あ" * 5001)], "messages[0].text: must be at most 5000 characters (has 5001)"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_bad_messages_are_refused(oc: Any, messages: list[dict[str, Any]], expected: str) -> None:
    errors = oc.validate_messages(messages)
    assert any(e.startswith(expected) or expected in e for e in errors), errors
    assert oc.validate_request("POST", "/v2/bot/message/push", {"to": U, "messages": messages}) != []


@pytest.mark.parametrize(("method", "path", "body", "expected"), [
    ("POST", "/v2/bot/message/push", {"messages": [text()]}, "'to' is a required property"),
    ("POST", "/v2/bot/message/push", None, "a JSON request body is required"),
    ("POST", "/v2/bot/message/multicast", {"to": [U] * 501, "messages": [text()]},
     "to: must have at most 500 items (has 501)"),
    ("POST", "/v2/bot/message/narrowcast", {"messages": [text()], "recipient": {"type": "everyone"}},
     "recipient.type: unknown type"),
    ("POST", "/v2/bot/message/narrowcast",
     {"messages": [text()], "filter": {"demographic": {"type": "age", "gte": "age_61"}}},
     "filter.demographic.gte: must be one of"),
    ("POST", "/v2/bot/chat/loading/start", {"chatId": U, "loadingSeconds": 90}, "loadingSeconds: must be <= 60"),
    ("POST", "/v2/bot/chat/loading/start", {"loadingSeconds": 5}, "'chatId' is a required property"),
    ("POST", "/v2/bot/richmenu/bulk/link", {"richMenuId": RICH_MENU_ID, "userIds": [U] * 501},
     "userIds: must have at most 500 items (has 501)"),
    ("POST", "/v2/bot/richmenu", {**RICH_MENU, "areas": [{"bounds": RICH_MENU["areas"][0]["bounds"],
                                                          "action": {"type": "postback"}}]},
     "areas[0].action: 'data' is a required property"),
    ("POST", "/v2/bot/richmenu", {**RICH_MENU, "size": {"width": "2500", "height": 843}},
     "size.width: must be of type integer"),
    ("POST", "/v2/bot/message/pushh", {"to": U, "messages": [text()]}, "unknown LINE endpoint"),
    ("GET", "/v2/bot/message/push", None, "unknown LINE endpoint"),
])
def test_bad_requests_are_refused(oc: Any, method: str, path: str, body: dict[str, Any] | None, expected: str) -> None:
    errors = oc.validate_request(method, path, body)
    assert any(expected in e for e in errors), errors


def test_errors_do_not_quote_the_payload(oc: Any) -> None:
    """Findings are logged: a resident's message must not end up in them."""
    secret = "山田花子 090-1234-5678 " * 300
    errors = oc.validate_messages([text(secret), {"type": "text", "text": 5}])
    assert errors and not any("090-1234-5678" in e for e in errors)


# --------------------------------------------------------------------------- paths and specs


@line_spec
def test_path_templates_match_and_the_most_literal_wins() -> None:
    oc = openapi_check
    assert oc.find_operation("POST", f"/v2/bot/user/all/richmenu/{RICH_MENU_ID}").operation_id == "setDefaultRichMenu"
    assert oc.find_operation("POST", f"/v2/bot/user/{U}/richmenu/{RICH_MENU_ID}").operation_id == "linkRichMenuIdToUser"
    assert oc.find_operation("GET", "/v2/bot/richmenu/list").operation_id == "getRichMenuList"
    assert oc.find_operation("GET", f"/v2/bot/richmenu/{RICH_MENU_ID}").operation_id == "getRichMenu"
    assert oc.find_operation("GET", "/v2/bot/message/12345/content").operation_id == "getMessageContent"
    assert oc.find_operation("POST", "/liff/v1/apps").operation_id == "addLIFFApp"
    assert oc.find_operation("PUT", "/v2/bot/message/push") is None


@line_spec
def test_spec_dir_honours_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    oc = openapi_check
    found = oc.spec_dir()
    assert (found / "messaging-api.yml").is_file()
    monkeypatch.setenv("LINE_OPENAPI_DIR", str(tmp_path))
    with pytest.raises(oc.SpecNotFound):
        oc.spec_dir()
    monkeypatch.setenv("LINE_OPENAPI_DIR", str(found))
    assert oc.spec_dir() == found


# --------------------------------------------------------------------------- webhooks


def _webhook(*events: dict[str, Any]) -> dict[str, Any]:
    return {"destination": U, "events": list(events)}


MESSAGE_EVENT = {
    "type": "message", "mode": "active", "timestamp": 1700000000000, "webhookEventId": "01HZZZZZZZZZZZZZZZZZZZZZZZ",
    "deliveryContext": {"isRedelivery": False}, "replyToken": "r" * 32,
    "source": {"type": "user", "userId": U},
    "message": {"id": "468789577898262530", "type": "text", "text": "残高", "quoteToken": "q"},
}


def test_webhook_good_and_bad(oc: Any) -> None:
    assert oc.validate_webhook(_webhook(MESSAGE_EVENT)) == []
    no_text = copy.deepcopy(MESSAGE_EVENT)
    del no_text["message"]["text"]
    assert "events[0].message: 'text' is a required property" in oc.validate_webhook(_webhook(no_text))
    bad_source = {**MESSAGE_EVENT, "source": {"type": "channel"}}
    assert any("events[0].source.type: unknown type" in e for e in oc.validate_webhook(_webhook(bad_source)))


@line_spec
def test_sdk_webhook_fixture_validates_when_newer_types_are_allowed() -> None:
    oc = openapi_check
    body = json.loads(conformance_webhook().read_text(encoding="utf-8"))
    body["destination"] = U  # the fixture's placeholder is not a bot user id
    assert oc.validate_webhook(body, allow_unknown_types=True) == []
    strict = oc.validate_webhook(body)
    assert len(strict) == 2 and all("unknown type" in e for e in strict)  # messageEdited, a made-up type


@line_spec
def test_the_sdk_checker_takes_the_fixture_when_newer_types_are_allowed() -> None:
    body = json.loads(conformance_webhook().read_text(encoding="utf-8"))
    body["destination"] = U
    assert sdk_check.validate_webhook(body, allow_unknown_types=True) == []
    strict = sdk_check.validate_webhook(body)
    assert strict and all("type: unknown type" in e for e in strict)  # the made-up type, at least


# --------------------------------------------------------------------------- the SDK-model checker


def test_the_sdk_knows_the_endpoints_this_project_calls() -> None:
    assert sdk_check.find_operation("POST", f"/v2/bot/user/all/richmenu/{RICH_MENU_ID}").operation_id == "setDefaultRichMenu"
    assert sdk_check.find_operation("POST", f"/v2/bot/user/{U}/richmenu/{RICH_MENU_ID}").operation_id == "linkRichMenuIdToUser"
    assert sdk_check.find_operation("GET", "/v2/bot/richmenu/list?x=1").operation_id == "getRichMenuList"
    assert sdk_check.find_operation("GET", f"/v2/bot/richmenu/{RICH_MENU_ID}").operation_id == "getRichMenu"
    assert sdk_check.find_operation("POST", "/v2/bot/message/push").json_body
    assert not sdk_check.find_operation("POST", f"/v2/bot/richmenu/{RICH_MENU_ID}/content").json_body
    assert sdk_check.find_operation("PUT", "/v2/bot/message/push") is None


@pytest.mark.parametrize("message", [
    {"type": "flex", "altText": "x", "contents": bubble({"type": "text"})},  # FlexText.text is optional in the SDK
    {"type": "text", "text": "x", "quickReply": {"items": [{"type": "action", "action": {"type": "postback"}}]}},
    {"type": "text", "text": "あ" * 5001},
], ids=["flex-text-without-text", "postback-without-data", "text-too-long"])
def test_the_sdk_models_alone_would_let_these_through(message: dict[str, Any]) -> None:
    """Why the models are walked and LINE's extra rules added: `from_dict` takes these."""
    Message.from_dict(copy.deepcopy(message))
    assert sdk_check.validate_messages([message]) != []


def test_the_sdk_checker_does_not_quote_an_unknown_type() -> None:
    """The SDK's own error for an unknown `type` dumps the whole payload; ours names the field."""
    secret = {"type": "txet", "text": "山田花子 090-1234-5678"}
    with pytest.raises(ValueError, match="090-1234-5678"):
        Message.from_dict(copy.deepcopy(secret))
    errors = sdk_check.validate_messages([secret])
    assert errors and errors[0].startswith("messages[0].type: unknown type") and "090" not in " ".join(errors)


# --------------------------------------------------------------------------- which checker runs


@pytest.fixture
def no_spec_files(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A lone clone: no `LINE_OPENAPI_DIR`, no `shared/` above the repository (whatever this machine has)."""
    monkeypatch.delenv("LINE_OPENAPI_DIR", raising=False)
    monkeypatch.delenv("LINE_CHECK", raising=False)

    def absent() -> Path:
        raise openapi_check.SpecNotFound("no spec files on a lone clone")

    monkeypatch.setattr(openapi_check, "spec_dir", absent)
    line_check.reset()
    yield
    line_check.reset()


def test_a_lone_clone_checks_with_the_sdk_models(no_spec_files: None) -> None:
    assert line_check.checker() is sdk_check
    assert "line-bot-sdk" in line_check.source()
    assert line_check.validate_messages([{"type": "txet", "text": "x"}]) != []
    assert line_check.validate_request("POST", "/v2/bot/message/push", {"to": U, "messages": [text()]}) == []


def test_staff_messages_are_checked_without_the_spec_files(no_spec_files: None) -> None:
    """`machi` used to check nothing at all when the spec files were missing."""
    with pytest.raises(InvalidInput, match="LINEが受け付けない形式です"):
        line_messages.check([{"type": "txet", "text": "お知らせ"}])
    with pytest.raises(InvalidInput, match="LINEが受け付けない形式です"):
        line_messages.check(_flex_with({"type": "table", "rows": []}))
    assert line_messages.check([text()]) == [text()]


def test_a_wrong_line_openapi_dir_fails_loudly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LINE_OPENAPI_DIR", str(tmp_path))
    line_check.reset()
    try:
        with pytest.raises(openapi_check.SpecNotFound, match="LINE_OPENAPI_DIR"):
            line_check.checker()
    finally:
        monkeypatch.delenv("LINE_OPENAPI_DIR")
        line_check.reset()


def test_line_check_sdk_forces_the_sdk_models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINE_CHECK", "sdk")
    line_check.reset()
    try:
        assert line_check.checker() is sdk_check
    finally:
        monkeypatch.delenv("LINE_CHECK")
        line_check.reset()


@line_spec
def test_the_spec_files_are_used_where_found() -> None:
    line_check.reset()
    assert line_check.checker() is openapi_check
    assert "spec files" in line_check.source()
