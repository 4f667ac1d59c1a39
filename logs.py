"""Logs as one JSON object a line, each with the request id it belongs to, and no personal data.

`setup(config, process)` installs the formatter on the root logger (create_app for the server,
`machi notices` and `machi scheduler` for theirs); deploy/gunicorn.conf.py gives gunicorn's own
logs the same formatter, its access lines built from the request's atoms (`access_fields`).
`install_request_ids(app)` takes the caller's `X-Request-Id` (when it looks like one) or makes one,
keeps it for the request's log records and returns it in the response.

What must never reach a log line is kept out at the source (no code logs a name, a LINE id, a
card number or a PIN; the card number left the URLs); `scrub` is the second line of defence for
the two shapes a pattern can catch: LINE user ids and 12-digit card numbers.
"""
from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, request

REQUEST_ID: ContextVar[str | None] = ContextVar("machi_request_id", default=None)
HEADER = "X-Request-Id"
_GOOD_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
_LINE_ID = re.compile(r"\b[UCR][0-9a-f]{32}\b")
_CARD = re.compile(r"(?<!\d)\d{4}[- ]?\d{4}[- ]?\d{4}(?!\d)")
_PROCESS = {"name": "machi"}


def scrub(text: str) -> str:
    """The text with LINE user ids and card numbers blotted out."""
    return _CARD.sub("[card]", _LINE_ID.sub("[line-id]", text))


def access_fields(atoms: Mapping[str, Any]) -> dict[str, Any]:
    """One gunicorn access record as fields: the path without its query, never the client's headers."""
    def atom(key: str) -> Any:
        value = atoms.get(key, "-")
        return None if value in ("-", None) else value

    micros = atom("D")
    status = atom("s")
    return {"method": atom("m"), "path": scrub(str(atom("U") or "")), "status": int(status) if status else None,
            "duration_ms": round(int(micros) / 1000, 1) if micros else None, "bytes": atom("B"),
            "remote": atom("h"), "request_id": atom("{x-request-id}o")}


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "process", "request_id", "message", ...}` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "process": _PROCESS["name"],
            "request_id": REQUEST_ID.get(),
        }
        if record.name == "gunicorn.access" and isinstance(record.args, Mapping):
            out.update(access_fields(record.args))
            out["message"] = "request"
        else:
            out["message"] = scrub(record.getMessage())
        if record.exc_info:
            out["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False, default=str)


class StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is at the time (a command run inside a test swaps it)."""

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def name_process(process: str) -> None:
    """What the `process` field of every line says: web, notices or scheduler."""
    _PROCESS["name"] = process


def setup(config: Any, process: str) -> None:
    """Log to stderr in the configured format, unless logging is already set up by whoever runs us
    (gunicorn's config gives the root logger this formatter itself; a test runner captures records
    with handlers of its own): then only the process's name is taken. Called again, it adds nothing."""
    name_process(process)
    logging.captureWarnings(True)  # a library's warning is a log line too, not loose text on stderr
    logging.getLogger("alembic").setLevel(logging.WARNING)  # the start's schema check is no news
    root = logging.getLogger()
    if root.handlers:
        return
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter() if config.log_format == "json" else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    level = config.log_level.upper()
    root.setLevel(level if level in logging.getLevelNamesMapping() else logging.INFO)


def new_request_id() -> str:
    return uuid.uuid4().hex


def install_request_ids(app: Flask) -> None:
    """Every request gets an id: the caller's `X-Request-Id` (a proxy's) if well formed, else a new one."""

    @app.before_request
    def take_request_id() -> None:
        given = request.headers.get(HEADER, "")
        g.request_id = given if _GOOD_ID.match(given) else new_request_id()
        g.request_id_token = REQUEST_ID.set(g.request_id)

    @app.after_request
    def return_request_id(response: Response) -> Response:
        if "request_id" in g:
            response.headers[HEADER] = g.request_id
        return response

    @app.teardown_request
    def forget_request_id(_exc: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            try:
                REQUEST_ID.reset(token)
            except ValueError:  # set in another context (a streamed response): nothing to undo here
                pass
