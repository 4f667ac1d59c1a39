"""What an action receives and what it hands back (kept apart so generic actions can live in
their own modules without importing the registry)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flows.i18n import pick, t
from flows.messages import Message


@dataclass
class ActionContext:
    """The answers so far, who is asking, in which language, and the app's services.

    `services` is whatever the app passed to `Engine.handle` (see `flows.actions.Services`);
    `params` are the step's `with:` mapping from the YAML.
    """

    user_id: str
    lang: str
    answers: dict[str, Any]
    vars: dict[str, Any]
    services: Any
    flow_id: str
    step_id: str
    params: dict[str, Any] = field(default_factory=dict)
    now: datetime | None = None

    def t(self, key: str, **kw: Any) -> str:
        return t(key, self.lang, **kw)

    def text(self, value: Any) -> str:
        """A `{ja, en}` parameter (or a plain string) in the user's language."""
        return pick(value, self.lang)


@dataclass
class ActionResult:
    """Messages to show, variables to set, and where to go: `goto` a step, `end` the flow, or
    (both unset) the step's `next`."""

    messages: list[Message] = field(default_factory=list)
    vars: dict[str, Any] = field(default_factory=dict)
    goto: str | None = None
    end: bool = False
