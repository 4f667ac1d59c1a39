"""What a request may hold, checked before anything trusts it: body size, JSON shape, whole numbers.

- Bodies: `/api/...` at most MACHI_MAX_BODY bytes, `/callback` at most MACHI_WEBHOOK_MAX_BODY, checked
  on Content-Length before a byte is read; a body sent without one (chunked) is read at most one
  byte past the limit (werkzeug's own cap would silently cut it short). Too large: 413.
- JSON: parsed with Python's `json`, but a body nested deeper than a person's request ever is, or one
  that would exhaust the parser's recursion, is refused (400), as are NaN and Infinity.
- Whole numbers in a query or a form: ASCII digits only. `"²".isdigit()` is True in Python and
  `int("²")` then fails; `"٣"` would pass both as 3. Neither is a number a page sends.
"""
from __future__ import annotations

import io
import json
from typing import Any

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from web.errors import Refusal

API_MAX_DEPTH = 8  # a payment is one flat object; nothing the pages send nests
WEBHOOK_MAX_DEPTH = 32  # LINE's events nest about 7 deep (envelope, event, message, mention, mentionee)
OTHER_MAX_BODY = 16 * 1024 * 1024  # dev-only routes (the simulator's images); nothing else takes a body
_MAX_DIGITS = 18  # a whole number past this is not an id, a count or an amount we know


def bad_request() -> Refusal:
    return Refusal("bad_request", "送られた内容を読み取れませんでした。画面を閉じて、もう一度開いてください。",
                   "The request could not be read. Please close this screen and open it again.")


def limit_body(api_max: int, webhook_max: int) -> None:
    """Before any view reads the body: refuse one that says it is too large; cap one that does not say."""
    path = request.path
    if path == "/callback":
        limit = webhook_max
    elif path.startswith("/api/"):
        limit = api_max
    else:
        limit = OTHER_MAX_BODY
    if request.content_length is not None:
        if request.content_length > limit:
            raise RequestEntityTooLarge()
        request.max_content_length = limit
        return
    environ = request.environ
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if chunked and environ.get("wsgi.input_terminated"):  # read at most one byte past the limit, then judge
        raw = environ["wsgi.input"].read(limit + 1)
        if len(raw) > limit:
            raise RequestEntityTooLarge()
        environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(raw), str(len(raw))


def parse_json(raw: bytes | str, *, max_depth: int = API_MAX_DEPTH) -> Any:
    """The JSON value of `raw`, or a Refusal (bad JSON, too deep, NaN/Infinity)."""
    try:
        value = json.loads(raw, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:  # RecursionError: "[[[[…" thousands deep
        raise bad_request() from exc
    if not depth_within(value, max_depth):
        raise bad_request()
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a request sends")


def depth_within(value: Any, max_depth: int) -> bool:
    """Whether no object or array in `value` sits deeper than `max_depth` (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > max_depth:
            return False
        stack.extend((child, depth + 1) for child in children)
    return True


def is_ascii_digits(text: Any) -> bool:
    """True for "0"–"9" only: not "²", "٣" or full-width "３" (callers that forgive those translate first)."""
    return isinstance(text, str) and text.isascii() and text.isdigit()


def whole_number(raw: str | None, *, low: int, high: int, default: int | None = None,
                 message: str = "数の指定が正しくありません。",
                 message_en: str = "A number in the request is not valid.") -> int | None:
    """`raw` as an int in [low, high]; `default` when absent or empty; a 400 Refusal otherwise."""
    if raw is None or raw == "":
        return default
    if not is_ascii_digits(raw) or len(raw) > _MAX_DIGITS:
        raise Refusal("invalid_input", message, message_en)
    value = int(raw)
    if not low <= value <= high:
        raise Refusal("invalid_input", message, message_en)
    return value
