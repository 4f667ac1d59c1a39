"""Rate limits, with Flask-Limiter (a maintained library) on the storage MACHI_RATELIMIT_STORAGE.

- `/api/...`, per LIFF ID token: MACHI_RATELIMIT_PER_TOKEN calls (default 300 a minute; a page polls
  every 2 s). The token is hashed before it becomes a storage key.
- `/api/...`, per address: MACHI_RATELIMIT_PER_ADDRESS refused calls (tokens that do not verify, bad
  bodies...). Only refusals count: a town's phones share a few carrier addresses (CGNAT), and a
  flood of junk tokens is what costs a call to LINE each.
- per card: MACHI_RATELIMIT_PER_CARD lookups and PIN attempts (`GET /api/cards/<n>`, card payments),
  on top of the ledger's lock after 5 wrong PINs. The card number is hashed too.
- `POST /callback`, per source address: MACHI_RATELIMIT_WEBHOOK refused webhooks (bad signatures,
  oversized bodies). LINE's well-signed deliveries never count, so they are never slowed.

Over a limit: 429 with a Japanese JSON message. `memory://` (the default) counts per server process;
`redis://host:port` shares the counts between gunicorn workers and servers. If the storage cannot be
reached, requests pass uncounted (logged) rather than fail: a limit must never take the town down.
"""
from __future__ import annotations

import hashlib
import logging

from flask import Blueprint, Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse

from web.errors import Refusal

log = logging.getLogger(__name__)

KEY = "machi_rate_limits"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:32]


def token_key() -> str:
    """The caller's ID token (hashed), or its address when it sent none."""
    scheme, _, token = (request.headers.get("Authorization") or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return "addr:" + get_remote_address()
    return "token:" + _digest(token)


def _refused(response: Response) -> bool:
    return response.status_code >= 400


def too_many() -> Refusal:
    return Refusal("too_many_requests",
                   "短い時間に操作が続いたため、受け付けを少し止めています。少し待ってから、もう一度お試しください。",
                   "Too many requests in a short time. Please wait a moment and try again.", 429)


class RateLimits:
    """The limiter of one app, and the per-card count the LIFF API asks for."""

    def __init__(self, app: Flask, *, storage: str, per_token: str, per_address: str, per_card: str,
                 webhook: str) -> None:
        self.limiter = Limiter(get_remote_address, app=app, storage_uri=storage, key_prefix="machi",
                               strategy="fixed-window", swallow_errors=True, in_memory_fallback_enabled=True)
        self.per_token, self.per_address, self.webhook = per_token, per_address, webhook
        self.per_card = parse(per_card)
        app.extensions[KEY] = self

    def limit_api(self, bp: Blueprint) -> None:
        self.limiter.shared_limit(self.per_token, scope="api-token", key_func=token_key)(bp)
        self.limiter.shared_limit(self.per_address, scope="api-address", deduct_when=_refused)(bp)

    def limit_webhook(self, bp: Blueprint) -> None:
        self.limiter.shared_limit(self.webhook, scope="webhook", deduct_when=_refused)(bp)

    def card_attempt(self, number: str) -> None:
        """Count one lookup or PIN attempt on a card; a Refusal (429) past MACHI_RATELIMIT_PER_CARD."""
        try:
            allowed = self.limiter.limiter.hit(self.per_card, "machi", "card", _digest(number))
        except Exception:  # noqa: BLE001 - a storage outage must not stop the tills
            log.warning("rate-limit storage unavailable: card attempt not counted", exc_info=True)
            return
        if not allowed:
            raise too_many()


def card_attempt(number: str) -> None:
    """`RateLimits.card_attempt` of the current app (no limit where none is installed)."""
    limits: RateLimits | None = current_app.extensions.get(KEY)
    if limits is not None:
        limits.card_attempt(number)
