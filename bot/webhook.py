"""`POST /callback`: LINE's webhook (DESIGN.md §3).

The body's size is checked before a byte is read (MACHI_WEBHOOK_MAX_BODY, `web.inputs.limit_body`:
413), then the signature on the raw bytes, before anything is parsed: 400 when it is missing or
wrong. Every well-signed body gets 200, whatever it holds (an empty event list from LINE's
"verify" button, event types LINE adds later, even a body that is not JSON), because anything
else makes LINE redeliver an event the bot can never handle. What is inside is then taken by
the bot (`Bot.receive`): each event id once, in or after the request as configured.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging

from flask import Blueprint, Response, current_app, request

from web import inputs
from web.errors import Refusal

log = logging.getLogger(__name__)

bp = Blueprint("line_webhook", __name__)


def signature_ok(secret: str, body: bytes, signature: str | None) -> bool:
    """HMAC-SHA256 of the raw body with the channel secret, base64, compared in constant time."""
    if not signature:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    return hmac.compare_digest(expected, signature.strip().encode("ascii", "replace"))


def sign(secret: str, body: bytes) -> str:
    """What LINE puts in X-Line-Signature (for the simulator, tests and the benchmark)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@bp.post("/callback")
def callback() -> Response:
    bot = current_app.extensions["machi"].extras["bot"]
    body = request.get_data(cache=False)
    if not signature_ok(bot.channel_secret, body, request.headers.get("X-Line-Signature")):
        log.warning("webhook with a missing or wrong signature refused")
        return _answer(400, "invalid signature")
    try:
        payload = inputs.parse_json(body, max_depth=inputs.WEBHOOK_MAX_DEPTH)
    except Refusal:
        log.warning("signed webhook body is not JSON (or nests too deep); ignored")
        return _answer(200)
    events = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(events, list):
        return _answer(200)
    try:
        bot.receive(events)
    except Exception:  # noqa: BLE001 - never a 500 to LINE: it would redeliver into the same failure
        log.exception("webhook events could not be taken")
    return _answer(200)


def _answer(status: int, message: str = "OK") -> Response:
    return Response(message, status=status, mimetype="text/plain")
