"""Who is calling: the LIFF ID token, verified by LINE, cached until it expires.

LINE checks the signature, the audience and the expiry (`POST /oauth2/v2.1/verify`); we only
remember its answer, so a busy till does not ask LINE on every tap. The user is the token's `sub`.
A refusal is remembered too, for REFUSED_TTL seconds (cachetools' TTLCache): the same junk token
sent 200 times asks LINE once. "LINE did not answer" (503) is never remembered.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests
from cachetools import TTLCache

from liff import errors
from liff.errors import ApiError

VERIFY_PATH = "/oauth2/v2.1/verify"
MAX_TOKEN_LENGTH = 4096
REFUSED_TTL = 60.0  # seconds a token LINE refused is refused without asking again
REFUSED_MAX = 10_000


@dataclass(frozen=True)
class Identity:
    sub: str
    exp: float
    name: str = ""


class IdTokenVerifier:
    """Verifies LIFF ID tokens through LINE_API_HOST and caches each answer until the token's `exp`."""

    def __init__(self, api_host: str, channel_id: str, *, timeout: float = 5.0,
                 clock: Callable[[], float] = time.time, max_cached: int = 50_000) -> None:
        self.url = api_host.rstrip("/") + VERIFY_PATH
        self.channel_id = channel_id
        self.timeout = timeout
        self.clock = clock
        self.max_cached = max_cached
        self._cache: dict[str, Identity] = {}
        self._refused: TTLCache[str, ApiError] = TTLCache(REFUSED_MAX, REFUSED_TTL,
                                                             timer=lambda: self.clock())
        self._lock = threading.Lock()

    def verify(self, token: str) -> Identity:
        """The caller's identity, or an ApiError (401 for a bad token, 503 when LINE does not answer)."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise errors.not_logged_in()
        now = self.clock()
        found = self._cache.get(token)
        if found is not None:
            if found.exp > now:
                return found
            with self._lock:
                self._cache.pop(token, None)
            raise errors.login_expired()
        with self._lock:
            refused = self._refused.get(token)
        if refused is not None:  # a fresh exception: re-raising one instance would grow its traceback
            raise ApiError(refused.code, refused.message, refused.message_en, refused.http_status)
        try:
            identity = self._ask_line(token, now)
        except ApiError as exc:
            if exc.http_status == 401:
                with self._lock:
                    self._refused[token] = exc
            raise
        with self._lock:
            if len(self._cache) >= self.max_cached:
                self._evict(now)
            self._cache[token] = identity
        return identity

    def _ask_line(self, token: str, now: float) -> Identity:
        try:
            resp = requests.post(self.url, data={"id_token": token, "client_id": self.channel_id},
                                 timeout=self.timeout)
        except requests.RequestException as exc:
            raise errors.line_unreachable() from exc
        if resp.status_code >= 500 or resp.status_code == 429:
            raise errors.line_unreachable()
        try:
            claims = resp.json()
        except ValueError as exc:
            raise errors.line_unreachable() from exc
        if resp.status_code != 200 or not isinstance(claims, dict):
            description = str(claims.get("error_description", "")) if isinstance(claims, dict) else ""
            raise errors.login_expired() if "expired" in description.lower() else errors.not_logged_in()
        sub, exp, aud = claims.get("sub"), claims.get("exp"), claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if not isinstance(sub, str) or not sub or self.channel_id not in audiences:
            raise errors.not_logged_in()
        if not isinstance(exp, int | float) or isinstance(exp, bool) or exp <= now:
            raise errors.login_expired()
        return Identity(sub=sub, exp=float(exp), name=str(claims.get("name") or ""))

    def _evict(self, now: float) -> None:
        """Drop expired answers; if all are live, drop the oldest half (insertion order)."""
        for key in [k for k, v in self._cache.items() if v.exp <= now]:
            del self._cache[key]
        if len(self._cache) >= self.max_cached:
            for key in list(self._cache)[: self.max_cached // 2]:
                del self._cache[key]


def bearer_token(header: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header, or ""."""
    if not header:
        return ""
    scheme, _, token = header.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""
