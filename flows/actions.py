"""The registry of Python actions that YAML flows call by name.

    from flows.actions import action, ActionContext, ActionResult

    @action("claim_grant")
    def claim_grant(ctx: ActionContext) -> ActionResult:
        grant = ctx.services.grants.claim(ctx.user_id, ctx.params["program"])
        return ActionResult(vars={"amount": grant.amount})

An action raising `ActionError` (or a ledger `LedgerError`) has its Japanese/English message
shown to the resident. Generic actions that need no ledger are registered here.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flows import surveys
from flows.context import ActionContext, ActionResult
from flows.errors import ActionError
from ledger.db import Database

__all__ = ["ACTIONS", "ActionContext", "ActionError", "ActionRegistry", "ActionResult", "Services",
           "UnknownAction", "action"]

ActionFn = Callable[[ActionContext], ActionResult | None]


class UnknownAction(LookupError):
    """A flow names an action nobody registered."""


class ActionRegistry:
    """Name → function. One default registry (`ACTIONS`); tests may build their own."""

    def __init__(self, parent: ActionRegistry | None = None) -> None:
        self._actions: dict[str, ActionFn] = {}
        self._parent = parent

    def register(self, name: str, fn: ActionFn, *, replace: bool = False) -> ActionFn:
        if name in self._actions and not replace:
            raise ValueError(f"action {name!r} is already registered")
        self._actions[name] = fn
        return fn

    def action(self, name: str) -> Callable[[ActionFn], ActionFn]:
        """Decorator: `@registry.action("name")`."""
        def decorate(fn: ActionFn) -> ActionFn:
            return self.register(name, fn)
        return decorate

    def get(self, name: str) -> ActionFn:
        if name in self._actions:
            return self._actions[name]
        if self._parent is not None:
            return self._parent.get(name)
        raise UnknownAction(f"no action named {name!r} is registered (known: {', '.join(sorted(self.names()))})")

    def __contains__(self, name: object) -> bool:
        return name in self._actions or (self._parent is not None and name in self._parent)

    def names(self) -> set[str]:
        return set(self._actions) | (self._parent.names() if self._parent else set())

    def missing(self, names: Iterable[str]) -> list[str]:
        return sorted(n for n in names if n not in self)

    def child(self) -> ActionRegistry:
        """A registry that sees this one's actions and can add or override its own."""
        return ActionRegistry(parent=self)


ACTIONS = ActionRegistry()


def action(name: str) -> Callable[[ActionFn], ActionFn]:
    """Register on the default registry: `@action("save_survey")`."""
    return ACTIONS.action(name)


@dataclass
class Services:
    """What the app hands to actions. Attributes not declared here go in `extras` and read as
    attributes too (`services.grants`), so other layers add theirs without changing this class."""

    db: Database | None = None
    surveys: surveys.SurveyStore | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        extras = self.__dict__.get("extras", {})
        if name in extras:
            return extras[name]
        raise AttributeError(f"services has no {name!r}: pass it in Services(extras={{{name!r}: ...}})")


# --------------------------------------------------------------------------- generic actions


@action("set_vars")
def set_vars(ctx: ActionContext) -> ActionResult:
    """`with: {x: 1}` sets vars.x, for branches and texts."""
    return ActionResult(vars=dict(ctx.params))


ACTIONS.register("check_survey", surveys.check_survey)
ACTIONS.register("save_survey", surveys.save_survey)
