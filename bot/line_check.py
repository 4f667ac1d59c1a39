"""Check payloads before they go to LINE (and webhook bodies from it): the one entry point.

Every caller (the fake LINE, the simulator, `machi` staff messages, the tests) asks this module,
and `checker()` picks the backend once:

- `bot.openapi_check`: LINE's own OpenAPI spec files, where `LINE_OPENAPI_DIR` names them (this
  project's tests and CI set it when the files lie beside the checkout). They are the authority
  and cover every documented endpoint, but they are not a package: a server install or a lone
  clone does not have them, and run time never goes looking for them.
- `bot.sdk_check` otherwise: the official SDK's models, generated from the same spec and
  installed with `line-bot-sdk`, so every install can check.

Both apply LINE's extra rules (`bot.line_rules`) and word their findings alike, so a payload is
refused the same way whichever runs; and there is no third choice: never silently nothing.
`LINE_CHECK=sdk` forces the SDK's models; `LINE_CHECK=spec`, or `LINE_OPENAPI_DIR` set, demands
the spec files and fails loudly (`SpecNotFound`) when they are not there: an explicit setting is
never quietly ignored.
"""
from __future__ import annotations

import functools
import logging
import os
from typing import Any, Protocol

from bot import openapi_check, sdk_check

log = logging.getLogger(__name__)


class Endpoint(Protocol):
    """A LINE endpoint as either backend describes it."""

    method: str
    template: str
    operation_id: str

    @property
    def json_body(self) -> bool: ...


class Checker(Protocol):
    """What a backend module provides (`bot.openapi_check`, `bot.sdk_check`)."""

    def find_operation(self, method: str, path: str) -> Endpoint | None: ...
    def validate_request(self, method: str, path: str, body: dict[str, Any] | None) -> list[str]: ...
    def validate_messages(self, messages: list[dict[str, Any]]) -> list[str]: ...
    def validate_webhook(self, body: dict[str, Any], *, allow_unknown_types: bool = False) -> list[str]: ...
    def preload(self) -> None: ...
    def source(self) -> str: ...


@functools.cache
def checker() -> Checker:
    """The spec files when `LINE_OPENAPI_DIR` names them, else the SDK's models (logged once)."""
    wanted = os.environ.get("LINE_CHECK", "").strip().lower()
    if wanted != "sdk" and (wanted == "spec" or os.environ.get("LINE_OPENAPI_DIR")):
        openapi_check.spec_dir()  # asked for by name: a wrong setting fails loudly (SpecNotFound)
        chosen: Any = openapi_check
    else:
        chosen = sdk_check
    log.info("LINE payloads are checked against %s", chosen.source())
    return chosen


def reset() -> None:
    """Choose again (tests that change `LINE_OPENAPI_DIR` or `LINE_CHECK`)."""
    checker.cache_clear()


def source() -> str:
    """What payloads are checked against, e.g. "LINE's spec files in /…/line-openapi"."""
    return checker().source()


def find_operation(method: str, path: str) -> Endpoint | None:
    """The LINE endpoint for `METHOD /path`, or None when LINE has no such endpoint."""
    return checker().find_operation(method, path)


def validate_request(method: str, path: str, body: dict[str, Any] | None) -> list[str]:
    """Problems with a request to LINE (empty list = valid), e.g. `("POST", "/v2/bot/message/push", {...})`."""
    return checker().validate_request(method, path, body)


def validate_messages(messages: list[dict[str, Any]]) -> list[str]:
    """Problems with the `messages` array of a reply/push/multicast (1 to 5 message objects)."""
    return checker().validate_messages(messages)


def validate_webhook(body: dict[str, Any], *, allow_unknown_types: bool = False) -> list[str]:
    """Problems with a webhook request body; see the backends for `allow_unknown_types`."""
    return checker().validate_webhook(body, allow_unknown_types=allow_unknown_types)


def preload() -> None:
    """Load and compile now, so the first checked request is not the slow one."""
    checker().preload()
