"""Where staff commands send LINE messages through: a small interface (a port), so announcements,
reminders and lottery results are written against it and tested with a fake; the real one is the bot's
LINE client (time-outs, retries, retry keys, ≤500 recipients a request), which the faces plug in
(`admin_cli.context.line_sender`): the town layer never imports the LINE adapter."""
from __future__ import annotations

from typing import Any, Protocol


class Sender(Protocol):
    def multicast(self, user_ids: list[str], messages: list[dict[str, Any]], retry_key_prefix: str) -> Any:
        """Send to up to 500 users per request; chunk keys derive from the prefix, so a re-send is a no-op."""
        ...

    def push(self, user_id: str, messages: list[dict[str, Any]], retry_key: str) -> Any:
        ...

