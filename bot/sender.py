"""Sending what the bot says: render channel-neutral messages, then reply (free) or push.

Every send goes through here, so tests can watch what was said (`observers`) beside what LINE
received, and a failure to reach LINE is logged once, with no message text or user id in it.
"""
from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bot.line_client import LineApiError, LineClient, SendResult
from bot.render import Renderer
from flows.messages import Message

log = logging.getLogger(__name__)

Observer = Callable[[str, str, list[Message], list[dict[str, Any]]], None]  # (how, to, messages, payload)
MAX_PER_REQUEST = 5


class Sender:
    def __init__(self, client: LineClient, renderer: Renderer, *, loading_after: float = 1.0) -> None:
        self.client = client
        self.renderer = renderer
        self.loading_after = loading_after
        self.observers: list[Observer] = []

    def _observe(self, how: str, to: str, messages: list[Message], payload: list[dict[str, Any]]) -> None:
        for observer in self.observers:
            observer(how, to, messages, payload)

    def reply(self, reply_token: str | None, to: str, messages: list[Message]) -> str | None:
        """Reply with the token while it is good, else push; returns 'reply', 'push' or None (failed)."""
        if not messages:
            return None
        payload = self.renderer.messages(messages[:MAX_PER_REQUEST])
        try:
            if reply_token:
                how = self.client.reply_or_push(reply_token, to, payload)
            else:
                self.client.push(to, payload)
                how = "push"
        except LineApiError as exc:
            log.warning("could not answer on LINE: status=%s", exc.status)
            return None
        self._observe(how, to, messages, payload)
        return how

    def push(self, to: str, messages: list[Message], retry_key: str) -> bool:
        """A notice: the retry key (derived from what it is about) makes a repeat send a no-op."""
        payload = self.renderer.messages(messages[:MAX_PER_REQUEST])
        try:
            self.client.push(to, payload, retry_key=retry_key)
        except LineApiError as exc:
            log.warning("push notice failed: status=%s", exc.status)
            return False
        self._observe("push", to, messages, payload)
        return True

    def multicast(self, to: list[str], messages: list[Message], retry_key_prefix: str) -> SendResult | None:
        payload = self.renderer.messages(messages[:MAX_PER_REQUEST])
        try:
            result = self.client.multicast(to, payload, retry_key_prefix=retry_key_prefix)
        except LineApiError as exc:
            log.warning("multicast failed: status=%s", exc.status)
            return None
        for user in to:
            self._observe("multicast", user, messages, payload)
        return result

    @contextmanager
    def loading(self, user_id: str) -> Iterator[None]:
        """Show LINE's loading animation if the work inside takes longer than `loading_after`."""
        if self.loading_after <= 0:
            yield
            return
        alarm = _ALARMS.set(self.loading_after, self._show_loading, user_id)
        try:
            yield
        finally:
            alarm.cancelled = True

    def _show_loading(self, user_id: str) -> None:
        try:
            self.client.show_loading(user_id, seconds=10)
        except Exception:  # noqa: BLE001 - an indicator is never worth an error
            log.debug("loading animation not shown", exc_info=True)


class _Alarm:
    __slots__ = ("at", "seq", "fn", "arg", "cancelled")

    def __init__(self, at: float, seq: int, fn: Callable[[str], None], arg: str) -> None:
        self.at, self.seq, self.fn, self.arg, self.cancelled = at, seq, fn, arg, False

    def __lt__(self, other: _Alarm) -> bool:
        return (self.at, self.seq) < (other.at, other.seq)


class _Alarms:
    """One thread keeps every turn's "show the loading animation if this is slow" alarm: starting a
    `threading.Timer` (a new thread) on every turn cost more CPU than most turns' SQL. Only an
    alarm that goes off (a slow turn) gets a thread of its own, for the call to LINE."""

    def __init__(self) -> None:
        self._heap: list[_Alarm] = []
        self._cond = threading.Condition()
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None

    def set(self, after: float, fn: Callable[[str], None], arg: str) -> _Alarm:
        alarm = _Alarm(time.monotonic() + after, next(self._seq), fn, arg)
        with self._cond:
            heapq.heappush(self._heap, alarm)
            if self._thread is None or not self._thread.is_alive():  # first use, or after a fork
                self._thread = threading.Thread(target=self._run, name="bot-loading-alarm", daemon=True)
                self._thread.start()
            if self._heap[0] is alarm:
                self._cond.notify()
        return alarm

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._heap and self._heap[0].cancelled:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                wait = self._heap[0].at - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                alarm = heapq.heappop(self._heap)
            if not alarm.cancelled:  # its own thread: one slow LINE call must not hold up the next alarm
                threading.Thread(target=alarm.fn, args=(alarm.arg,), name="bot-loading", daemon=True).start()


_ALARMS = _Alarms()
