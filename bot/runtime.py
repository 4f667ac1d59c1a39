"""The LINE bot assembled from the app's parts, one per server process.

`build(machi)` wires the LINE client (every call to `LINE_API_HOST`), the renderer, the
conversation engine on the database-backed state store, the inbox, the notifier subscribed to
the ledger's bus, and rich-menu linking. The app keeps it at `machi.extras["bot"]`.

How events run is set by `MACHI_BOT_WORKERS`: 0 runs each event inside the /callback request
(the default in dev and test: simple and deterministic; the simulator waits for the answer);
N > 0 records events in the inbox, answers LINE at once and runs them on N threads, with a
sweep every few seconds for events a full queue or a stopped process left behind (the default
in production: 4).

Notices (receipts, grant notices) come from the ledger's outbox, and `MACHI_NOTICES` says who
tells them: `inline`, the server process right after the commit (dev and test); `thread`, a
relay thread in every server worker, each claiming batches of its own (the default in
production); `separate`, nobody in the server: `machi notices` runs the relay in a process of
its own, so pushing receipts never slows the payments (a busy town's choice).
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.dispatcher import Dispatcher, Sweeper
from bot.events import judge, peek
from bot.handler import Handler
from bot.inbox import Inbox
from bot.line_client import LineClient
from bot.notifications import Notifier
from bot.render import Renderer
from bot.richmenu import MenuLinker
from bot.sender import Sender
from flows.actions import Services
from flows.clock import Clock
from flows.engine import Engine
from flows.faq import FAQ_FILE
from flows.loader import DEFINITIONS, load_flows
from flows.state import DbStateStore
from flows.verification import CounterVerifier
from ledger import installation
from ledger.clock import utcnow
from ledger.events import MessageBus
from ledger.outbox import Outbox, Relay

log = logging.getLogger(__name__)

BOT_FLOWS = Path(__file__).parent / "flows"  # flows only a LINE account has (the follow greeting)
RECOVER_AFTER = timedelta(seconds=10)
SWEEP_EVERY = 5.0
RECOVER_BATCH = 100
RECOVER_BATCHES = 50  # at most 5,000 events a sweep, so one sweep cannot run for ever
DEFAULT_NOTICE_WORKERS = 4


def notice_workers(config: Any) -> int:
    """Threads that push the notices a relay in this process tells (`MACHI_NOTICE_WORKERS`, default 4).

    A push mostly waits for LINE's answer (tens of milliseconds across the internet): with LINE
    answering in 50 ms, 4 threads push about 80 a second. In `thread` mode they share the server
    worker's interpreter with its payments, so more threads keep up at a higher rate but slow the
    payments down; a busy town runs `machi notices` instead (`--threads`, default 32). Notices that
    fall behind wait in the outbox: the relay claims its next batch only when this one is sent."""
    return config.notice_workers


NOTICE_MODES = {"inline": "inline", "thread": "thread", "separate": "off"}


def notice_mode(config: Any) -> str:
    """Who tells the outbox's events from a server process (`MACHI_NOTICES`); see the module's doc."""
    return NOTICE_MODES[config.notice_mode]


def relay_for(machi: Any, notifier: Notifier, mode: str) -> Relay:
    """The relay that tells the outbox's events to the notifier."""
    bus = MessageBus()
    notifier.install(bus)
    outbox = machi.outbox or Outbox(machi.db)
    if mode == "inline":  # dev and test: handed to the notice threads; a request never waits for LINE
        return Relay(outbox, bus, mode=mode)
    return Relay(outbox, bus, flush=lambda timeout: notifier.dispatcher.drain(timeout), mode=mode)


def default_workers(config: Any) -> int:
    """Threads that run webhook events (`MACHI_BOT_WORKERS`; 0 in dev and test, 4 in prod)."""
    return config.event_workers


@dataclass
class Bot:
    handler: Handler
    inbox: Inbox
    sender: Sender
    engine: Engine
    notifier: Notifier
    linker: MenuLinker
    client: LineClient
    events: Dispatcher
    channel_secret: str
    relay: Relay | None = None
    sweeper: Sweeper | None = None
    counters: dict[str, int] = field(default_factory=lambda: {"received": 0, "duplicates": 0, "deferred": 0,
                                                                     "skipped": 0})

    # ------------------------------------------------------------------ receiving

    def receive(self, events: list[Any]) -> None:
        """Take a verified webhook's events: each new id runs once; known ids are skipped."""
        self.counters["received"] += len(events)
        judged = [(raw, found) for raw in events if (found := judge(raw)) is not None]
        self.counters["skipped"] += len(events) - len(judged)
        if self.events.inline:
            for raw, (eid, kind) in judged:
                self._take_and_run(raw, eid, kind)
            return
        keyed = [(eid, kind, raw) for raw, (eid, kind) in judged if eid is not None]
        new = set(self._accept(keyed)) if keyed else set()
        self.counters["duplicates"] += len(keyed) - len(new)
        batch = [raw for raw, (eid, _kind) in judged if eid is None or eid in new]
        if batch and not self.events.submit(self._run_batch, batch):
            self.counters["deferred"] += len(batch)
            log.warning("bot queue full: %d event(s) left for the recovery sweep", len(batch))
        if self.sweeper is not None:
            self.sweeper.start()

    def _take_and_run(self, raw: dict[str, Any], eid: str | None, kind: str) -> None:
        """The synchronous path, one event: a failure to record it loses this event, not its neighbours."""
        try:
            new = eid is None or self.inbox.take(eid, kind)
        except Exception as exc:  # noqa: BLE001 - see _not_recorded
            self._not_recorded(kind, exc)
            return
        if new:
            self._run(raw, eid)
        else:
            self.counters["duplicates"] += 1

    def _accept(self, keyed: list[tuple[str, str, dict[str, Any]]]) -> list[str]:
        """Record a webhook's events in one transaction; if that fails, one by one, so one bad event
        is lost alone."""
        try:
            return self.inbox.accept(keyed)
        except Exception as exc:  # noqa: BLE001 - retried event by event just below
            log.warning("webhook events could not be recorded together (%s); recording them one by one",
                        type(exc).__name__)
        new: list[str] = []
        for item in keyed:
            try:
                new += self.inbox.accept([item])
            except Exception as exc:  # noqa: BLE001 - see _not_recorded
                self._not_recorded(item[1], exc)
        return new

    def _not_recorded(self, kind: str, exc: Exception) -> None:
        """Logged by type only: the database's error text quotes the statement's parameters, which
        hold the event (a resident's LINE id, their message)."""
        log.error("webhook event of type %r could not be recorded (%s); skipped", kind[:40], type(exc).__name__)
        self.counters["skipped"] += 1

    def _run_batch(self, batch: list[Any]) -> None:
        """Events of one webhook, in order (LINE orders them; one person's taps stay in sequence)."""
        for raw in batch:
            eid = peek(raw)[0]
            if eid is None:
                self._run(raw, None)
                continue
            body = self.inbox.claim(eid)
            if body is not None:
                self._run(body, eid)

    def _run(self, raw: Any, event_id: str | None) -> None:
        """Run one claimed event. A success leaves its row `processing` (claimed: never run again)
        rather than spend a second write on `done`; only a failure is written down."""
        try:
            self.handler.handle(raw if isinstance(raw, dict) else {})
        except Exception:  # noqa: BLE001 - logged by type only: the event may hold a resident's message
            log.exception("webhook event of type %s failed", peek(raw)[1])
            if event_id is not None:
                self.inbox.finish(event_id, "failed")

    def recover(self, older_than: timedelta = RECOVER_AFTER) -> int:
        """Run events left pending (queue full, or a process stopped before its queue ran)."""
        done = 0
        for _ in range(RECOVER_BATCHES):  # a burst that overflowed the queue is cleared in one sweep
            batch = self.inbox.pending(older_than, RECOVER_BATCH)
            for eid in batch:
                body = self.inbox.claim(eid)
                if body is not None:
                    self._run(body, eid)
                    done += 1
            if len(batch) < RECOVER_BATCH:
                break
        if done:
            log.info("recovered %d pending webhook event(s)", done)
        return done

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait for queued events, then tell the outbox's notices and wait for them (tests, shutdown)."""
        done = self.events.drain(timeout)
        if self.relay is not None and self.relay.mode != "off":
            self.relay.run_until_empty()
        return self.notifier.dispatcher.drain(timeout) and done

    def close(self, grace: float = 5.0) -> None:
        """Stop taking work; queued events and notices get `grace` seconds to finish."""
        if self.sweeper is not None:
            self.sweeper.stop()
        self.events.close(grace)
        if self.relay is not None:
            self.relay.stop(grace)
        self.notifier.dispatcher.close(grace)
        self.client.close()


def build(machi: Any, *, client: LineClient | None = None, clock: Clock = utcnow, workers: int | None = None,
          notices: int | None = None, relay_mode: str | None = None) -> Bot:
    config = machi.config
    client = client or LineClient(config.line_api_host, config.line_channel_access_token, timeout=5.0)
    client.retry_namespace = installation.namespace(machi.db)  # keys of this copy of the database only
    sender = Sender(client, Renderer(config.liff_id))
    inbox = Inbox(machi.db)
    linker = MenuLinker(machi.db, client)
    registry = load_flows(DEFINITIONS, BOT_FLOWS, strict=True, faq=FAQ_FILE)
    if config.env != "test":  # the typed-question index takes ~2 s to build: not on a resident's first message
        threading.Thread(target=registry.matcher, name="faq-warm-up", daemon=True).start()
    engine = Engine(registry, DbStateStore(machi.db), clock)
    services = Services(db=machi.db, extras={"uow": machi.uow, "verifier": CounterVerifier(), "flows": registry})
    handler = Handler(machi.db, engine, services, sender, inbox, linker, client)
    services.extras.update(menu_for=handler.menu_for, after_registration=handler.link_menu,
                           after_withdrawal=handler.link_menu, after_relink=handler.link_menu)
    notifier = Notifier(machi.db, sender, Dispatcher(notices or notice_workers(config), 2000, name="bot-notice",
                                                          block_for=2.0), inbox)
    relay = relay_for(machi, notifier, notice_mode(config) if relay_mode is None else relay_mode)
    n = default_workers(config) if workers is None else workers
    bot = Bot(handler=handler, inbox=inbox, sender=sender, engine=engine, notifier=notifier, linker=linker,
              client=client, events=Dispatcher(n, 500, name="bot-event"), channel_secret=config.line_channel_secret,
              relay=relay)
    if n > 0:
        bot.sweeper = Sweeper(bot.recover, SWEEP_EVERY)
    return bot
