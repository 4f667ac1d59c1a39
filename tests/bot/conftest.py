"""The bot against a local fake LINE platform, on the demo town.

`line` is the fake Messaging API on a real socket (it validates every payload against LINE's
OpenAPI spec and records violations). `bot_app` is the whole app pointed at it, running events
and notices inline so tests are deterministic. `phone(user_id)` is a LINE user: it posts signed
webhooks to /callback and reads back what the bot sent. After every test, every request the bot
made to LINE is checked again, against the spec and the SDK's models.
"""
from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
from linebot.v3.messaging import Message as SdkMessage

from app import build_core, create_app
from bot import line_check
from bot.dispatcher import Dispatcher
from bot.runtime import Bot
from bot.webhook import sign
from config import load_config
from flows.clock import FakeClock
from flows.inputs import Incoming
from flows.messages import Message
from ledger.clock import utcnow
from simulator.fake_line import FakeLineStore
from simulator.fake_line_server import run_fake_line
from tests.flex_text import read_across_lines
from town import demo_town

SECRET = "test-channel-secret"
TOKEN = "test-channel-access-token"
HANAKO, ISAMU, EMILY = demo_town.HANAKO.line_user_id, demo_town.ISAMU.line_user_id, demo_town.EMILY.line_user_id
KENTA, BAKER, CLERK = demo_town.KENTA.line_user_id, demo_town.BAKER.line_user_id, demo_town.ACOOP_CLERK.line_user_id
CARD_NUMBER, CARD_PIN = demo_town.CARD_ELDER_NUMBER, demo_town.CARD_ELDER_PIN
STRANGER = "U" + "5e" * 16  # a LINE user the town knows nothing about, LINE in English
SENT_TYPES = ("/v2/bot/message/reply", "/v2/bot/message/push", "/v2/bot/message/multicast")


@dataclass
class Line:
    url: str
    store: FakeLineStore


@pytest.fixture
def line() -> Iterator[Line]:
    url, store, stop = run_fake_line(channel_access_token=TOKEN)
    for persona in demo_town.PERSONAS:
        store.add_persona(persona.line_user_id, persona.name.split("（")[0],
                          language="en" if persona is demo_town.EMILY else "ja")
    store.add_persona(STRANGER, "Sam", language="en")
    try:
        yield Line(url, store)
    finally:
        stop()


@pytest.fixture
def bot_config(db_url: str, line: Line):
    return load_config(database_url=db_url, env="test", line_api_host=line.url, line_channel_secret=SECRET,
                       line_channel_access_token=TOKEN)


@pytest.fixture
def bot_app(bot_config, line: Line):
    core = build_core(bot_config)  # seeded on a bus of its own: the demo's history sends no pushes
    demo_town.seed(core)
    core.db.dispose()
    app = create_app(bot_config)
    app.testing = True
    machi = app.extensions["machi"]
    bot: Bot = machi.extras["bot"]
    bot.notifier.dispatcher = Dispatcher(0)  # notices inline too: deterministic
    bot.engine.clock = FakeClock(utcnow())
    bot.client.backoff = 0.001
    yield app
    bot.close()
    check_everything_sent(line.store)
    machi.db.dispose()


@pytest.fixture
def bot(bot_app) -> Bot:
    return bot_app.extensions["machi"].extras["bot"]


@pytest.fixture
def machi(bot_app):
    return bot_app.extensions["machi"]


def check_everything_sent(store: FakeLineStore) -> None:
    """Every request the bot made: no spec violation at the fake, and every message body also
    accepted by the SDK's own models (which know rules the OpenAPI spec leaves out)."""
    assert store.violations == [], [(v.path, v.errors) for v in store.violations]
    for req in store.requests:
        if req.json is None:
            continue
        assert line_check.validate_request(req.method, req.path, req.json) == [], req.path
        if req.path in SENT_TYPES:
            for message in req.json["messages"]:
                assert SdkMessage.from_dict(message) is not None


# ---------------------------------------------------------------------- a LINE user


_ids = itertools.count(1)


def event_id() -> str:
    return "01" + uuid.uuid4().hex[:24].upper()


def envelope(*events: dict[str, Any]) -> bytes:
    return json.dumps({"destination": "U" + "0" * 32, "events": list(events)}, ensure_ascii=False).encode()


@dataclass
class Phone:
    """One LINE user talking to the town's account through signed webhooks."""

    client: Any
    store: FakeLineStore
    user_id: str
    last: list[dict[str, Any]] = field(default_factory=list)

    def event(self, kind: str, **extra: Any) -> dict[str, Any]:
        ev = {"type": kind, "mode": "active", "timestamp": int(time.time() * 1000),
              "source": {"type": "user", "userId": self.user_id}, "webhookEventId": event_id(),
              "deliveryContext": {"isRedelivery": False}}
        if kind not in ("unfollow", "leave"):
            ev["replyToken"] = self.store.new_reply_token(self.user_id)
        ev.update(extra)
        return ev

    def post(self, *events: dict[str, Any]) -> list[dict[str, Any]]:
        before = len(self.store.messages_to(self.user_id))
        body = envelope(*events)
        res = self.client.post("/callback", data=body, headers={"X-Line-Signature": sign(SECRET, body),
                                                                 "Content-Type": "application/json"})
        assert res.status_code == 200, res.data
        self.last = self.store.messages_to(self.user_id)[before:]
        return self.last

    def say(self, text: str) -> list[dict[str, Any]]:
        return self.post(self.event("message", message={"type": "text", "id": str(next(_ids)), "text": text,
                                                        "quoteToken": "q"}))

    def postback(self, data: str, **params: str) -> list[dict[str, Any]]:
        postback: dict[str, Any] = {"data": data}
        if params:
            postback["params"] = params
        return self.post(self.event("postback", postback=postback))

    def follow(self) -> list[dict[str, Any]]:
        return self.post(self.event("follow", follow={"isUnblocked": False}))

    def unfollow(self) -> list[dict[str, Any]]:
        return self.post(self.event("unfollow"))

    def tap(self, label: str) -> list[dict[str, Any]]:
        """Press a quick reply or a button of the last answer, as the phone would."""
        for action in actions(self.last):
            if action.get("label") == label:
                if action["type"] == "postback":
                    return self.postback(action["data"])
                if action["type"] == "message":
                    return self.say(action["text"])
                raise AssertionError(f"“{label}” is a {action['type']} action")
        raise AssertionError(f"no “{label}” in {[a.get('label') for a in actions(self.last)]}")

    def text(self) -> str:
        return "\n".join(texts(self.last))


def actions(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every tappable action in these messages: buttons inside Flex, then the quick replies."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "button":
                found.append(node["action"])
            for key, value in node.items():
                if key != "quickReply":
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(messages)
    for m in messages:
        found += [item["action"] for item in m.get("quickReply", {}).get("items", [])]
    return found


def texts(messages: list[dict[str, Any]]) -> list[str]:
    """All the words of these messages: text messages, and every text inside Flex bubbles."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "text" and isinstance(node.get("text"), str):
                out.append(read_across_lines(node["text"]))
            for key, value in node.items():
                if key not in ("quickReply", "action"):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(messages)
    return out


@pytest.fixture
def phone(bot_app, line: Line):
    client = bot_app.test_client()

    def make(user_id: str) -> Phone:
        return Phone(client, line.store, user_id)

    return make


# ---------------------------------------------------------------------- transcripts


class WebhookEngine:
    """Stands in for `flows.engine.Engine` under `flows.transcripts.run_transcript`, but every turn
    goes the real way: a signed webhook to /callback, the engine, the renderer, the fake LINE
    server. It returns the channel-neutral messages the bot rendered, so transcripts read the same."""

    def __init__(self, bot: Bot, phone_for: Any) -> None:
        self.bot = bot
        self.clock = bot.engine.clock
        self._phone_for = phone_for
        self._said: list[tuple[str, list[Message]]] = []
        bot.sender.observers.append(lambda how, to, messages, payload: self._said.append((to, messages)))

    def handle(self, incoming: Incoming, services: Any = None) -> list[Message]:
        phone = self._phone_for(incoming.user_id)
        self._said.clear()
        if incoming.kind == "text":
            phone.say(incoming.text)
        elif incoming.kind == "follow":
            phone.follow()
        elif incoming.kind == "date":
            phone.postback(urlencode(incoming.data), date=str(incoming.date_value))
        elif incoming.kind == "postback":
            phone.postback(urlencode(incoming.data))
        elif incoming.kind == "location":
            place = {"title": "", "address": "", "latitude": 0.0, "longitude": 0.0, **(incoming.location or {})}
            phone.post(phone.event("message", message={"type": "location", "id": "1", **place}))
        elif incoming.kind == "image":
            phone.post(phone.event("message", message={"type": "image", "id": incoming.media_id,
                                                       "contentProvider": {"type": "line"}, "quoteToken": "q"}))
        else:
            raise AssertionError(f"cannot send a {incoming.kind} through the webhook")
        return [m for to, messages in self._said if to == incoming.user_id for m in messages]
