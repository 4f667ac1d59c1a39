"""The simulator in a dev-mode app on the demo town; an echo bot standing in at `/callback` where a test
needs the round trip to be deterministic (it checks the signature like the real bot must)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask, Response, request
from werkzeug.serving import make_server

from app import build_core, create_app
from config import Config, load_config
from simulator.chatlog import SimulatorStore
from town import demo_town

LOCAL = "http://localhost"  # Flask's test client host: LINE_API_HOST pointing "here"
HANAKO = demo_town.HANAKO.line_user_id
KENTA = demo_town.KENTA.line_user_id
BAKER = demo_town.BAKER.line_user_id
ACOOP = demo_town.ACOOP_CLERK.line_user_id


def dev_config(db_url: str, host: str = LOCAL) -> Config:
    return load_config(database_url=db_url, env="dev", line_api_host=host, public_url=host)


def seed_demo(config: Config) -> None:
    core = build_core(config)
    try:
        demo_town.seed(core)
    finally:
        core.db.dispose()


def callback_endpoint(app: Flask) -> str | None:
    return next((r.endpoint for r in app.url_map.iter_rules() if r.rule == "/callback"), None)


@dataclass
class EchoBot:
    """Answers each event through the fake platform, in-process: text → "echo: …" with quick replies."""

    app: Flask
    secret: str
    token: str
    events: list[dict[str, Any]] = field(default_factory=list)
    bad_signatures: int = 0

    def view(self) -> Response | tuple[str, int]:
        body = request.get_data()
        expected = base64.b64encode(hmac.new(self.secret.encode(), body, hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(expected, request.headers.get("X-Line-Signature", "")):
            self.bad_signatures += 1
            return "bad signature", 400
        for event in json.loads(body)["events"]:
            self.events.append(event)
            if "replyToken" in event and event["type"] in ("message", "postback", "follow"):
                self.reply(event)
        return "OK", 200

    def reply(self, event: dict[str, Any]) -> None:
        if event["type"] == "message":
            text = "echo: " + event["message"].get("text", event["message"]["type"])
        elif event["type"] == "postback":
            text = "postback: " + event["postback"]["data"] + json.dumps(event["postback"].get("params", {}))
        else:
            text = "ようこそ"
        messages = [{"type": "text", "text": text, "quickReply": {"items": [
            {"type": "action", "action": {"type": "message", "label": "はい", "text": "はい"}},
            {"type": "action", "action": {"type": "datetimepicker", "label": "日付", "data": "d=1", "mode": "date"}},
        ]}}]
        answer = self.app.test_client().post("/v2/bot/message/reply", json={"replyToken": event["replyToken"],
                                                                           "messages": messages},
                                             headers={"Authorization": f"Bearer {self.token}"})
        assert answer.status_code == 200, answer.get_data(as_text=True)


@pytest.fixture
def sim_config(db_url: str) -> Config:
    config = dev_config(db_url)
    seed_demo(config)
    return config


@pytest.fixture
def sim_app(sim_config: Config) -> Iterator[Flask]:
    app = create_app(sim_config)
    app.testing = True
    yield app
    app.extensions["machi"].close(grace=0)


@pytest.fixture
def echo_bot(sim_app: Flask, sim_config: Config) -> EchoBot:
    """Installed before the first request: replaces the real bot's view if there is one."""
    bot = EchoBot(sim_app, sim_config.line_channel_secret, sim_config.line_channel_access_token)
    endpoint = callback_endpoint(sim_app)
    if endpoint is None:
        sim_app.add_url_rule("/callback", "echo_bot", bot.view, methods=["POST"])
    else:
        sim_app.view_functions[endpoint] = bot.view
    return bot


@pytest.fixture
def sim_client(sim_app: Flask):
    return sim_app.test_client()


@pytest.fixture
def store(sim_app: Flask) -> SimulatorStore:
    return sim_app.extensions["machi"].extras["fake_line"]


def auth(config: Config) -> dict[str, str]:
    return {"Authorization": f"Bearer {config.line_channel_access_token}"}


def free_port() -> int:
    """A port nobody listens on now (the app's config must name its own address before it starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveSim:
    """The dev server as `make run` starts it: the app on a socket, LINE_API_HOST pointing at itself."""

    url: str
    app: Flask
    config: Config

    @property
    def store(self) -> SimulatorStore:
        return self.app.extensions["machi"].extras["fake_line"]


@pytest.fixture
def live_sim(db_url: str) -> Iterator[LiveSim]:
    url = f"http://127.0.0.1:{free_port()}"
    config = dev_config(db_url, url)
    seed_demo(config)
    app = create_app(config)
    server = make_server("127.0.0.1", int(url.rsplit(":", 1)[1]), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield LiveSim(url, app, config)
    server.shutdown()
    server.server_close()
    thread.join(5)
    app.extensions["machi"].close(grace=0)
