"""The LINE adapter (DESIGN.md §1): the webhook, the LINE API client, rendering of the flows'
channel-neutral messages into LINE messages, pushes for the ledger's events, rich-menu linking.

`register(app, machi)` is the one call `app.py` makes: it builds the bot (`bot.runtime.build`),
keeps it at `machi.extras["bot"]` and mounts `POST /callback`.
"""
from __future__ import annotations

from typing import Any

from flask import Flask

from bot import runtime, webhook

KEY = "bot"


def register(app: Flask, machi: Any) -> None:
    bot = machi.extras[KEY] = runtime.build(machi)
    machi.closers.append(bot.close)
    if bot.relay is not None:
        app.before_request(bot.relay.start)  # the relay thread (MACHI_NOTICES=thread) starts in each worker
    app.register_blueprint(webhook.bp)
