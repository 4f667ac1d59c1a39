"""The SDK check of every send, done once per message shape: still refuses every bad body."""
from __future__ import annotations

import inspect

import pytest
from linebot.v3.messaging import models
from pydantic.v1 import BaseModel, StrictStr
from pydantic.v1.fields import SHAPE_LIST, SHAPE_SINGLETON

from bot.line_client import FREE_TEXT_KEYS, LineApiError, LineClient
from tests.line.conftest import ALICE, FakeLine

REPLIES = "/v2/bot/message/reply"


def card(amount: str, data: str) -> dict:
    return {"type": "flex", "altText": f"残高 {amount}", "contents": {
        "type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": [
            {"type": "text", "text": amount, "size": "3xl"}]},
        "footer": {"type": "box", "layout": "vertical", "contents": [
            {"type": "button", "action": {"type": "postback", "label": "履歴", "data": data}}]}}}


def test_free_text_fields_are_plain_strings_in_every_sdk_model() -> None:
    """Skipping the check for a known shape is only sound if these fields take any string."""
    seen = 0
    for _, cls in inspect.getmembers(models, inspect.isclass):
        if not issubclass(cls, BaseModel):
            continue
        for field in cls.__fields__.values():
            if field.alias in FREE_TEXT_KEYS:
                seen += 1
                assert field.type_ is StrictStr, (cls.__name__, field.alias)
                # a plain string, or a list of them (where any string fails alike: not a list)
                assert (field.shape == SHAPE_SINGLETON and not field.class_validators
                        or field.shape == SHAPE_LIST), (cls.__name__, field.alias)
        if any(f.alias in FREE_TEXT_KEYS for f in cls.__fields__.values()):
            assert not cls.__pre_root_validators__ and not cls.__post_root_validators__, cls.__name__
    assert seen > 10


def test_same_shape_with_a_bad_value_is_still_refused(fake_line: FakeLine, line_client: LineClient) -> None:
    line_client.reply(fake_line.store.new_reply_token(ALICE), [card("12,000円", "a=history")])
    line_client.reply(fake_line.store.new_reply_token(ALICE), [card("9,500円", "a=history")])
    with pytest.raises(LineApiError) as raised:  # postback data is limited to 300 characters
        line_client.reply(fake_line.store.new_reply_token(ALICE), [card("9,500円", "x" * 301)])
    assert raised.value.status == 0 and "data" in raised.value.message
    with pytest.raises(LineApiError):  # a box layout LINE does not know
        bad = card("1円", "a=history")
        bad["contents"]["body"]["layout"] = "diagonal"
        line_client.reply(fake_line.store.new_reply_token(ALICE), [bad])
    sent = fake_line.store.requests_to(REPLIES)
    assert len(sent) == 2 and fake_line.store.violations == []
    assert sent[1].json["messages"][0]["contents"]["body"]["contents"][0]["text"] == "9,500円"


def test_a_refused_body_is_refused_again(fake_line: FakeLine, line_client: LineClient) -> None:
    for _ in range(2):
        with pytest.raises(LineApiError) as raised:
            line_client.push(ALICE, [{"type": "text", "text": 5}])
        assert raised.value.status == 0 and "text" in raised.value.message
    assert fake_line.store.requests == []
