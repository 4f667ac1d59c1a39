"""Webhook events as LINE sends them, signed, delivered to the app's own `POST /callback`.

The bodies follow LINE's webhook spec (each is checked with `bot.line_check.validate_webhook`):
`destination`, and events with `type`, `mode: "active"`, a millisecond `timestamp`, a user
`source`, a ULID `webhookEventId`, `deliveryContext` and a single-use `replyToken` from the fake
platform. The signature is LINE's: base64 of the
HMAC-SHA256 of the raw body with the channel secret, in `X-Line-Signature`.

Delivery is in-process through Flask's test client: no socket, no port, the real route.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

from flask import Flask

from simulator.fake_line import FakeLineStore

log = logging.getLogger(__name__)

CALLBACK_PATH = "/callback"
# The bot's own user id as LINE names it in `destination` (any stable U + 32 hex digits).
BOT_USER_ID = "U" + hashlib.md5(b"machi-wallet-simulator-bot", usedforsecurity=False).hexdigest()
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TOMAMAE = {"title": "苫前町役場", "address": "北海道苫前郡苫前町字旭37-1", "latitude": 44.3061, "longitude": 141.6542}


def ulid(now_ms: int | None = None) -> str:
    """A ULID (26 Crockford base32 characters: 48-bit time, 80 random bits), as LINE's event ids are."""
    value = ((now_ms if now_ms is not None else int(time.time() * 1000)) << 80) | secrets.randbits(80)
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def message_id() -> str:
    """LINE message ids are decimal strings of about 18 digits."""
    return str(10**17 + secrets.randbelow(9 * 10**17))


def sign(channel_secret: str, body: bytes) -> str:
    """`X-Line-Signature`: base64(HMAC-SHA256(channel secret, raw body))."""
    digest = hmac.new(channel_secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class EventError(ValueError):
    """The UI asked for an event that LINE could not send (unknown type, missing text...)."""


def base_event(kind: str, user_id: str, *, reply_token: str | None) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": kind,
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": user_id},
        "webhookEventId": ulid(),
        "deliveryContext": {"isRedelivery": False},
    }
    if reply_token is not None:
        event["replyToken"] = reply_token
    return event


def build_event(store: FakeLineStore, user_id: str, kind: str, **fields: Any) -> dict[str, Any]:
    """One webhook event of `kind` from `user_id`.

    kinds: text (text), postback (data, params?), follow, unfollow, image (content, content_type),
    location (title?, address?, latitude?, longitude?), sticker (package_id, sticker_id).
    """
    if kind == "unfollow":
        return base_event("unfollow", user_id, reply_token=None)
    event = base_event("message", user_id, reply_token=store.new_reply_token(user_id))
    if kind == "follow":
        event.update(type="follow", follow={"isUnblocked": bool(fields.get("unblocked", False))})
    elif kind == "postback":
        data = fields.get("data")
        if not isinstance(data, str) or not data:
            raise EventError("postback needs data")
        postback: dict[str, Any] = {"data": data}
        params = fields.get("params")
        if params:
            postback["params"] = {str(k): str(v) for k, v in params.items()}
        event.update(type="postback", postback=postback)
    elif kind == "text":
        text = fields.get("text")
        if not isinstance(text, str) or not text.strip():
            raise EventError("text message needs text")
        event["message"] = {"type": "text", "id": message_id(), "text": text[:5000],
                            "quoteToken": secrets.token_urlsafe(24)}
    elif kind == "image":
        mid = message_id()
        store.put_content(mid, fields.get("content", b""), fields.get("content_type", "image/jpeg"))
        event["message"] = {"type": "image", "id": mid, "contentProvider": {"type": "line"},
                            "quoteToken": secrets.token_urlsafe(24)}
    elif kind == "location":
        place = {**TOMAMAE, **{k: v for k, v in fields.items() if k in TOMAMAE and v is not None}}
        event["message"] = {"type": "location", "id": message_id(), **place}
    elif kind == "sticker":
        event["message"] = {"type": "sticker", "id": message_id(), "packageId": str(fields.get("package_id", "446")),
                            "stickerId": str(fields.get("sticker_id", "1988")), "stickerResourceType": "STATIC",
                            "quoteToken": secrets.token_urlsafe(24)}
    else:
        raise EventError(f"unknown event kind {kind!r}")
    return event


def callback_body(events: list[dict[str, Any]], destination: str = BOT_USER_ID) -> bytes:
    """The raw body, compact as LINE sends it (the signature covers these exact bytes)."""
    return json.dumps({"destination": destination, "events": events}, ensure_ascii=False,
                      separators=(",", ":")).encode()


@dataclass(frozen=True)
class CallbackResult:
    """How `/callback` answered: status 0 means it raised instead of answering."""

    status: int
    body: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def deliver(app: Flask, channel_secret: str, events: list[dict[str, Any]]) -> CallbackResult:
    """POST the signed events to the app's `/callback`, in-process; never raises."""
    body = callback_body(events)
    headers = {"X-Line-Signature": sign(channel_secret, body), "Content-Type": "application/json; charset=utf-8",
               "User-Agent": "LineBotWebhook/2.0"}
    try:
        response = app.test_client().post(CALLBACK_PATH, data=body, headers=headers)
    except Exception as exc:  # noqa: BLE001 - the UI shows the failure; the traceback goes to the log
        log.exception("simulator: /callback raised while handling a webhook")
        return CallbackResult(0, error=type(exc).__name__)
    if response.status_code >= 400:
        log.warning("simulator: /callback answered %s", response.status_code)
    return CallbackResult(response.status_code, response.get_data(as_text=True)[:500])
