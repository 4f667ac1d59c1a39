"""Where the bot's work runs: inline (deterministic: dev and tests), or on a few daemon threads
so /callback answers LINE at once and a payment never waits for a push notice.

The queue is bounded. What happens when it is full is the caller's choice: the webhook leaves
the event in the inbox for the recovery sweep; notices wait a little for room (`block_for`).
Threads start on first use, so a server that forks workers after loading the app (gunicorn
--preload) gets them in each worker, and they are daemons: a stopping process does not wait on
LINE.
"""
from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Task = tuple[Callable[..., Any], tuple[Any, ...]]


class Dispatcher:
    def __init__(self, workers: int = 0, queue_limit: int = 1000, *, name: str = "bot",
                 block_for: float = 0.0) -> None:
        self.workers = workers
        self.name = name
        self.block_for = block_for
        self._queue: queue.Queue[Task | None] = queue.Queue(maxsize=queue_limit)
        self._threads: list[threading.Thread] = []
        self._in_flight = 0
        self._closed = False
        self._cond = threading.Condition()
        self._started = threading.Lock()

    @property
    def inline(self) -> bool:
        return self.workers <= 0

    def submit(self, fn: Callable[..., Any], *args: Any) -> bool:
        """Run `fn(*args)` now (inline) or soon; False when the queue stayed full or the dispatcher closed."""
        if self._closed:
            return False
        if self.inline:
            _run(fn, args)
            return True
        self._start()
        with self._cond:
            self._in_flight += 1
        try:
            self._queue.put((fn, args), block=self.block_for > 0, timeout=self.block_for or None)
        except queue.Full:
            self._done()
            return False
        return True

    def _start(self) -> None:
        if len(self._threads) >= self.workers:
            return
        with self._started:
            while len(self._threads) < self.workers:
                thread = threading.Thread(target=self._work, name=f"{self.name}-{len(self._threads)}", daemon=True)
                thread.start()
                self._threads.append(thread)

    def _work(self) -> None:
        while True:
            task = self._queue.get()
            if task is None:
                return
            try:
                if not self._closed:  # after close, what is still queued is dropped, not run
                    _run(*task)
            finally:
                self._done()

    def _done(self) -> None:
        with self._cond:
            self._in_flight -= 1
            self._cond.notify_all()

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until everything submitted has run (tests; shutdown)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._in_flight == 0, timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Let queued work finish for up to `timeout` seconds, then drop the rest and stop the threads,
        so nothing touches the database once its owner has disposed of it."""
        self.drain(timeout)
        self._closed = True
        for _ in self._threads:
            try:
                self._queue.put_nowait(None)
            except queue.Full:
                break


def _run(fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        fn(*args)
    except Exception:  # noqa: BLE001 - one failed task must not stop the others
        log.exception("bot task %s failed", getattr(fn, "__name__", "?"))


class Sweeper:
    """Calls `fn` every `interval` seconds on a daemon thread, from the first `start` on."""

    def __init__(self, fn: Callable[[], Any], interval: float) -> None:
        self._fn, self._interval = fn, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="bot-sweeper", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._fn()
            except Exception:  # noqa: BLE001 - the next round tries again
                log.exception("bot sweep failed")

    def stop(self) -> None:
        self._stop.set()
