"""Where staff commands send LINE messages through: a small interface, so announcements, reminders and
lottery results are written against it and tested with a fake; the real one is the bot's LINE client
(time-outs, retries, retry keys, ≤500 recipients a request)."""
from __future__ import annotations

import uuid
from typing import Any, Protocol

from bot.line_client import LineClient
from config import Config


class Sender(Protocol):
    def multicast(self, user_ids: list[str], messages: list[dict[str, Any]], retry_key_prefix: str) -> Any:
        """Send to up to 500 users per request; chunk keys derive from the prefix, so a re-send is a no-op."""
        ...

    def push(self, user_id: str, messages: list[dict[str, Any]], retry_key: str) -> Any:
        ...


def line_sender(config: Config, retry_namespace: uuid.UUID) -> LineClient:
    """The bot's client, aimed at LINE_API_HOST (the local fake LINE in dev and in tests), making its
    retry keys within the database's installation id (`ledger.installation.namespace`)."""
    return LineClient(config.line_api_host, config.line_channel_access_token, timeout=10.0, max_retries=3,
                      retry_namespace=retry_namespace)
