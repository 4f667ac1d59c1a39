"""Composition root: wires configuration, database, ledger, LINE adapter, LIFF and the simulator."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

import bot
import console
import health
import liff
import logs
import models_registry  # noqa: F401 - every table registered before anything touches the DB
import schema
import simulator
import web
from config import Config, ConfigError, load_config
from ledger import keys
from ledger.anchors import AnchorLog
from ledger.chain import Sealer
from ledger.db import Database
from ledger.events import MessageBus
from ledger.outbox import Outbox
from ledger.policy import Policy
from ledger.uow import UnitOfWork

log = logging.getLogger(__name__)


class NotMigrated(RuntimeError):
    """The database is behind the code; the server refuses to start on it."""


@dataclass
class Machi:
    """What the blueprints reach through `current_app.extensions["machi"]`."""

    config: Config
    db: Database
    bus: MessageBus
    uow: UnitOfWork
    sealer: Sealer
    outbox: Outbox | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    closers: list[Callable[[float], None]] = field(default_factory=list)

    def close(self, grace: float = 5.0) -> None:
        """Stop what the layers run in the background (given `grace` seconds), then release the database."""
        for close in reversed(self.closers):
            close(grace)
        self.db.dispose()


def build_core(config: Config, *, check_migrated: bool = True, outbox: bool = False) -> Machi:
    """Database, bus and unit of work: what the CLI and the server share.

    With `outbox`, the unit of work also stores its events for the notice relay (the server,
    `machi notices` and the staff command: a sale's receipt, a payout's notice to the shop). A job that
    tells people itself (a grant run's multicast) says so with `uow.telling_itself(...)`."""
    config.check()
    db = Database(config.database_url)
    if check_migrated and not schema.is_current(db.engine, config.database_url):
        raise NotMigrated(
            "データベースが最新の状態ではありません。`machi db upgrade` を実行してから起動してください。"
            " (The database is not migrated: run `machi db upgrade`.)")
    bus = MessageBus()
    box = Outbox(db) if outbox else None
    sealer = Sealer(keys.seal_key(config.secret_key), AnchorLog(config.anchor_path))
    return Machi(config=config, db=db, bus=bus, uow=UnitOfWork(db, bus, Policy(), outbox=box), sealer=sealer,
                 outbox=box)


def create_app(config: Config | None = None, *, check_migrated: bool = True) -> Flask:
    config = config or load_config()
    try:
        machi = build_core(config, check_migrated=check_migrated, outbox=True)
    except ConfigError:
        raise
    app = Flask(__name__)
    _install_production_basics(app, config)
    app.config["SECRET_KEY"] = config.derived_key("session")  # never the raw secret
    app.config["JSON_AS_ASCII"] = False
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["machi"] = machi

    _register_blueprints(app, machi)
    health.register(app, machi)
    web.register(app, config, api=app.blueprints["liff_api"], webhook=app.blueprints["line_webhook"])

    return app


def _install_production_basics(app: Flask, config: Config) -> None:
    """JSON logs with request ids; the proxy's X-Forwarded-* trusted only when MACHI_TRUST_PROXY says
    how many proxies stand in front (else a client could forge its address and scheme)."""
    logs.setup(config, "web")
    logs.install_request_ids(app)
    if config.trust_proxy:
        n = config.trust_proxy
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n)  # type: ignore[method-assign]


def _register_blueprints(app: Flask, machi: Machi) -> None:
    """Each layer mounts itself; one line per layer."""
    liff.register(app, machi)
    bot.register(app, machi)
    simulator.register(app, machi)
    console.register(app, machi)
