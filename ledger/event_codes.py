"""Rotating check-in codes for events marked `rotating` (`machi event create --rotating`).

The venue's screen (`machi event screen`) shows a QR that changes every PERIOD seconds, so a photo of
it passed around outside stops working within a minute. Such an event takes only a genuine rotating
code; its plain code (typed, `MWE.<CODE>`, or a URL without a live `t=`) is refused.

A rotating code is `MWE.<CODE>.<step>.<sig>` (or the check-in URL with `code=<CODE>&t=<step>.<sig>`):
step = unix time // PERIOD; sig = the first 12 hex digits of HMAC-SHA256 over "<CODE>|<step>", keyed
by a key derived from MACHI_SECRET_KEY for this purpose alone (`ledger.keys.derive`). The current step
and the one before it are accepted, so a code scanned just as the screen changes still works.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable

from ledger import keys

PERIOD = 30
PURPOSE = b"machi-event-qr-v1"
TOKEN = re.compile(r"[0-9]{1,12}\.[0-9a-f]{12}")


class RotatingCodes:
    """Makes and checks the rotating part (`<step>.<sig>`) of event codes. `clock` is replaceable for tests."""

    def __init__(self, secret: str | bytes, *, period: int = PERIOD, clock: Callable[[], float] = time.time) -> None:
        self._key = keys.derive(secret, PURPOSE)
        self.period = period
        self.clock = clock

    def _step(self, now: float | None) -> int:
        return int((self.clock() if now is None else now) // self.period)

    def _sig(self, code: str, step: int) -> str:
        return hmac.new(self._key, f"{code.upper()}|{step}".encode(), hashlib.sha256).hexdigest()[:12]

    def token(self, code: str, now: float | None = None) -> str:
        """What the screen shows now for `code`: `<step>.<sig>`."""
        step = self._step(now)
        return f"{step}.{self._sig(code, step)}"

    def payload(self, code: str, now: float | None = None) -> str:
        return f"MWE.{code.upper()}.{self.token(code, now)}"

    def verify(self, code: str, token: str | None, now: float | None = None) -> bool:
        """Whether `token` is the genuine rotating part for `code`, of this step or the one before."""
        if not isinstance(token, str) or not TOKEN.fullmatch(token):
            return False
        raw_step, sig = token.split(".")
        step, current = int(raw_step), self._step(now)
        if step not in (current, current - 1):
            return False
        return hmac.compare_digest(sig, self._sig(code, step))
