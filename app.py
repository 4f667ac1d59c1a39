"""Composition root: wires configuration, database, ledger, LINE adapter, LIFF and the simulator."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, jsonify

import bot
import console
import liff
import models_registry  # noqa: F401 - every table registered before anything touches the DB
import schema
import simulator
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

    With `outbox`, the unit of work also stores its events for the notice relay (the server and
    `machi notices`). The staff command's own writes tell residents themselves (a grant run's
    multicast) or nobody (the demo's history), so its core has none."""
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
    app.config["SECRET_KEY"] = config.secret_key
    app.config["JSON_AS_ASCII"] = False
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["machi"] = machi

    _register_blueprints(app, machi)

    @app.get("/healthz")
    def healthz():
        try:
            machi.db.ping()
        except Exception:  # noqa: BLE001 - health is a yes/no answer
            return jsonify(status="db-unavailable"), 503
        return jsonify(status="ok")

    @app.errorhandler(404)
    def not_found(_e):
        return jsonify(error={"code": "not_found", "message": "ページが見つかりません。"}), 404

    @app.errorhandler(405)
    def not_allowed(_e):
        return jsonify(error={"code": "method_not_allowed", "message": "この操作はできません。"}), 405

    @app.errorhandler(500)
    def server_error(_e):
        return jsonify(error={"code": "server_error",
                              "message": "ただいま処理できません。しばらくしてからもう一度お試しください。"}), 500

    return app


def _register_blueprints(app: Flask, machi: Machi) -> None:
    """Each layer mounts itself; one line per layer."""
    liff.register(app, machi)
    bot.register(app, machi)
    simulator.register(app, machi)
    console.register(app, machi)
