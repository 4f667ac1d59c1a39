"""What every staff command needs: the configuration, the database, the ledger's unit of work."""
from __future__ import annotations

import getpass
import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import click

from app import Machi, NotMigrated, build_core
from config import Config, load_config
from ledger import installation
from ledger.models import AuditLog


@dataclass
class CliContext:
    database_url: str | None = None
    json_output: bool = False
    _core: Machi | None = field(default=None, repr=False)
    _sender: Any = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        return load_config(**({"database_url": self.database_url} if self.database_url else {}))

    def core(self, *, check_migrated: bool = True) -> Machi:
        if self._core is None:
            try:
                # with the outbox: what staff jobs do (a sale, a payout, an award) is told by the notice
                # relay (`machi notices` / the server), like what residents do in the chat
                self._core = build_core(self.config, check_migrated=check_migrated, outbox=True)
            except NotMigrated as exc:
                raise click.ClickException(str(exc)) from exc
        return self._core

    @property
    def actor(self) -> str:
        """Who the staff member is: MACHI_STAFF if set, else the login name."""
        return os.environ.get("MACHI_STAFF") or f"staff:{getpass.getuser()}"

    def sender(self) -> Any:
        """How messages reach LINE (see admin_cli/sender.py); tests swap `sender_factory`."""
        if self._sender is None:
            self._sender = sender_factory(self.config, installation.namespace(self.core().db))
        return self._sender

    def presenter(self) -> Any:
        """How the town's notices look on LINE (the chat's own cards); the port is town/presenter.py."""
        from bot.town_presenter import LinePresenter  # noqa: PLC0415 - the LINE rendering only for commands that send

        return LinePresenter(self.config.liff_id)

    def audit(self, action: str, params: dict[str, Any], result: str = "") -> None:
        """Record a staff action; dates and times in `params` are kept as ISO text (a JSON column)."""
        params = json.loads(json.dumps(params, ensure_ascii=False, default=_iso))
        with self.core().db.write() as s:
            s.add(AuditLog(actor=self.actor, action=action, params=params, result=result[:400]))


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, date | datetime) else str(value)


def line_sender(config: Config, retry_namespace: uuid.UUID) -> Any:
    """The bot's client, aimed at LINE_API_HOST (the local fake LINE in dev and in tests), making its
    retry keys within the database's installation id (`ledger.installation.namespace`)."""
    from bot.line_client import LineClient  # noqa: PLC0415 - the LINE SDK only for commands that send

    return LineClient(config.line_api_host, config.line_channel_access_token, timeout=10.0, max_retries=3,
                      retry_namespace=retry_namespace)


sender_factory: Callable[[Config, uuid.UUID], Any] = line_sender

pass_ctx = click.make_pass_decorator(CliContext)
