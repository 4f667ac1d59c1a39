"""Local stand-in for the LINE platform (DESIGN.md §1): fake Messaging API, chat UI, LIFF frames.

`register(app, machi)` is the one call `app.py` makes. In dev mode (`MACHI_ENV=dev`) it mounts
the fake LINE API at LINE's own paths (`/v2/bot/...`, `/oauth2/v2.1/verify`) on the app itself,
so `LINE_API_HOST` can point at the dev server, and the chat UI at `/simulator`. Anywhere else
it mounts nothing: those paths answer 404.
"""
from __future__ import annotations

from typing import Any

from flask import Flask

from simulator import web
from simulator.chatlog import SimulatorStore
from simulator.fake_line import create_fake_line_blueprint
from simulator.service import KEY, Simulator

STORE_KEY = "fake_line"


def register(app: Flask, machi: Any) -> None:
    if not machi.config.is_dev:
        return
    store = SimulatorStore()
    machi.extras[STORE_KEY] = store
    machi.extras[KEY] = Simulator(app=app, machi=machi, store=store)
    app.register_blueprint(create_fake_line_blueprint(
        store, channel_access_token=machi.config.line_channel_access_token))
    app.register_blueprint(web.bp)
