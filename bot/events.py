"""LINE webhook events, read with the official SDK's models, reduced to what the bot acts on.

Event types the SDK does not know (LINE adds new ones; the conformance fixture has `undefined`)
and events whose shape it refuses are still read for their id, type and source, never raised.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from linebot.v3.webhooks import (
    Event,
    ImageMessageContent,
    LocationMessageContent,
    MessageEvent,
    PostbackEvent,
    TextMessageContent,
)

from flows.inputs import Incoming, parse_postback

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Received:
    """One event: who it came from, where to answer, and the SDK model when it could be read."""

    event_id: str | None
    type: str
    source_type: str | None
    user_id: str | None  # the person (also inside a group, when LINE says who)
    chat_id: str | None  # where an answer goes: the user, group or room id
    reply_token: str | None
    standby: bool
    model: Any = None
    raw: dict[str, Any] | None = None

    @property
    def one_to_one(self) -> bool:
        return self.source_type == "user" and self.user_id is not None


MAX_EVENT_ID = 100  # the inbox's key (bot_webhook_events.id, VARCHAR(100)); LINE's ids are 26 characters


def judge(raw: Any) -> tuple[str | None, str] | None:
    """(id, type) of an event the bot may take, or None for one to skip on its own.

    An event that is not an object, or whose id the inbox cannot hold, is skipped and logged (its
    type and the reason only: never its content), so the other events of its webhook still run."""
    if not isinstance(raw, dict):
        log.warning("webhook event skipped: not an object")
        return None
    eid, kind = peek(raw)
    if eid is not None and len(eid) > MAX_EVENT_ID:
        log.warning("webhook event of type %r skipped: its webhookEventId is %d characters (at most %d)",
                    kind[:40], len(eid), MAX_EVENT_ID)
        return None
    return eid, kind


def peek(raw: Any) -> tuple[str | None, str]:
    """The event's id and type without the SDK's models: what /callback needs before it answers."""
    if not isinstance(raw, dict):
        return None, "unknown"
    eid = raw.get("webhookEventId")
    return (str(eid) if eid else None), str(raw.get("type") or "unknown")


def read(raw: Any) -> Received:
    """Never raises: a malformed event reads as type `unknown`."""
    if not isinstance(raw, dict):
        return Received(None, "unknown", None, None, None, None, False)
    source = raw.get("source") if isinstance(raw.get("source"), dict) else {}
    source_type = source.get("type")
    chat_id = {"user": source.get("userId"), "group": source.get("groupId"), "room": source.get("roomId")}.get(
        source_type or "")
    try:
        model = Event.from_dict(raw)
    except Exception:  # noqa: BLE001 - an event type or shape the SDK does not know yet
        log.info("webhook event of type %r not understood by the SDK; read as is", str(raw.get("type"))[:40])
        model = None
    token = raw.get("replyToken")
    return Received(event_id=str(raw["webhookEventId"]) if raw.get("webhookEventId") else None,
                    type=str(raw.get("type") or "unknown"), source_type=source_type,
                    user_id=source.get("userId"), chat_id=chat_id,
                    reply_token=token if isinstance(token, str) and token else None,
                    standby=raw.get("mode") == "standby", model=model, raw=raw)


def to_incoming(ev: Received, lang: str | None = None) -> Incoming | None:
    """A message or postback from a person as the conversation engine takes it; None for the rest."""
    uid = ev.user_id
    if uid is None:
        return None
    model = ev.model
    if isinstance(model, MessageEvent):
        content = model.message
        if isinstance(content, TextMessageContent):
            return Incoming.from_text(uid, content.text or "", lang)
        if isinstance(content, LocationMessageContent):
            place = {"title": content.title, "address": content.address, "latitude": content.latitude,
                     "longitude": content.longitude}
            return Incoming(user_id=uid, kind="location", location=place, lang=lang)
        if isinstance(content, ImageMessageContent):
            return Incoming(user_id=uid, kind="image", media_id=content.id, lang=lang)
        return Incoming(user_id=uid, kind="media", lang=lang)  # sticker, video, audio, file
    if isinstance(model, PostbackEvent):
        return _postback(uid, model.postback.data or "", model.postback.params or {}, lang)
    if model is None and ev.raw is not None:
        return _from_raw(uid, ev.type, ev.raw, lang)
    return None


def _postback(uid: str, data: str, params: dict[str, Any], lang: str | None) -> Incoming:
    picked = params.get("date") or params.get("datetime") or params.get("time")
    parsed = parse_postback(data)
    if picked:
        return Incoming.date(uid, str(picked), parsed, lang)
    return Incoming.postback(uid, parsed, lang)


def _from_raw(uid: str, kind: str, raw: dict[str, Any], lang: str | None) -> Incoming | None:
    """The SDK refused this event's shape (a field it insists on is missing): read the plain JSON."""
    if kind == "message" and isinstance(raw.get("message"), dict):
        message = raw["message"]
        if message.get("type") == "text":
            return Incoming.from_text(uid, str(message.get("text") or ""), lang)
        if message.get("type") == "image":
            return Incoming(user_id=uid, kind="image", media_id=str(message.get("id") or ""), lang=lang)
        return Incoming(user_id=uid, kind="media", lang=lang)
    if kind == "postback" and isinstance(raw.get("postback"), dict):
        postback = raw["postback"]
        params = postback.get("params") if isinstance(postback.get("params"), dict) else {}
        return _postback(uid, str(postback.get("data") or ""), params, lang)
    return None
