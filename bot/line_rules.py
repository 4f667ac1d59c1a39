"""What both LINE payload checkers share: LINE's rules the OpenAPI spec leaves out, and error wording.

The spec-file checker (`openapi_check`) and the SDK-model checker (`sdk_check`) must refuse the
same payloads and say so in the same words, so the rules and the messages live here once.

Error messages name the property and the rule, never the offending value: the checkers run on
payloads that carry residents' messages, and their findings are logged.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from jsonschema.exceptions import ValidationError

# Rules from LINE's Messaging API reference that the OpenAPI spec (and so the SDK's models,
# generated from it) leaves out, so that a payload the real platform would refuse does not pass.
# JSON Schema fragments keyed by the spec's schema name (the SDK's class name is the same).
LINE_RULES: dict[str, dict[str, Any]] = {
    "TextMessage": {"properties": {"text": {"maxLength": 5000}}},
    "FlexMessage": {"properties": {"altText": {"maxLength": 1500}}},
    "TemplateMessage": {"properties": {"altText": {"maxLength": 1500}}},
    "ImagemapMessage": {"properties": {"altText": {"maxLength": 1500}}},
    "MessageAction": {"required": ["text"], "properties": {"text": {"maxLength": 300}}},
    "PostbackAction": {"required": ["data"]},
    "URIAction": {"required": ["uri"], "properties": {"uri": {"maxLength": 1000}}},
    "DatetimePickerAction": {"required": ["data", "mode"]},
    "QuickReplyItem": {"required": ["action"]},
    "FlexText": {"anyOf": [{"required": ["text"]}, {"required": ["contents"]}]},
    "FlexSpan": {"required": ["text"]},
    "FlexCarousel": {"properties": {"contents": {"maxItems": 12}}},
    "ConfirmTemplate": {"properties": {"actions": {"minItems": 2, "maxItems": 2}}},
    "ButtonsTemplate": {"properties": {"actions": {"minItems": 1, "maxItems": 4}}},
    "CarouselTemplate": {"properties": {"columns": {"minItems": 1, "maxItems": 10}}},
    "ImageCarouselTemplate": {"properties": {"columns": {"minItems": 1, "maxItems": 10}}},
    # A rich menu LINE accepts names all its parts (the spec marks none required).
    "RichMenuRequest": {"required": ["size", "selected", "name", "chatBarText", "areas"],
                        "properties": {"chatBarText": {"maxLength": 14}, "areas": {"maxItems": 20}}},
    "RichMenuSize": {"required": ["width", "height"]},
    "RichMenuArea": {"required": ["bounds", "action"]},
    "RichMenuBounds": {"required": ["x", "y", "width", "height"]},
}


def json_path(parts: Iterable[Any]) -> str:
    """`("messages", 0, "text")` → `messages[0].text`."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def at(path: Iterable[Any], text: str) -> str:
    """One finding: `path: text`, or the text alone at the top of the payload."""
    where = json_path(path)
    return f"{where}: {text}" if where else text


def required(name: str) -> str:
    return f"'{name}' is a required property"


BODY_REQUIRED = "a JSON request body is required"


def unknown_endpoint(method: str, path: str) -> str:
    """The one wording both checkers use for a request LINE does not document."""
    return f"unknown LINE endpoint: {method.upper()} {path.split('?', 1)[0]}"


def unknown_type(prop: str, known: Iterable[str]) -> str:
    return f"unknown {prop} (expected one of: {', '.join(sorted(known))})"


def _short(value: Any, limit: int = 8) -> str:
    if isinstance(value, list) and len(value) > limit:
        return ", ".join(map(str, value[:limit])) + ", ..."
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def size_rule(kind: str, limit: Any, value: Any) -> str | None:
    """The wording of a size or range rule (`maxItems`, `maxLength`, `maximum`...), or None."""
    size = len(value) if isinstance(value, list | str | dict) else None
    messages = {
        "maxItems": f"must have at most {limit} items (has {size})",
        "minItems": f"must have at least {limit} items (has {size})",
        "maxLength": f"must be at most {limit} characters (has {size})",
        "minLength": f"must be at least {limit} characters (has {size})",
        "maximum": f"must be <= {limit}",
        "minimum": f"must be >= {limit}",
        "exclusiveMaximum": f"must be < {limit}",
        "exclusiveMinimum": f"must be > {limit}",
    }
    return messages.get(kind)


def _rule(error: ValidationError) -> str:
    """Say which rule failed without echoing the value (it may be a resident's message)."""
    kind, limit = str(error.validator), error.validator_value
    sized = size_rule(kind, limit, error.instance)
    if sized is not None:
        return sized
    messages = {
        "enum": f"must be one of: {_short(limit)}",
        "type": f"must be of type {_short(limit)}",
        "pattern": f"must match the pattern {limit}",
        "format": f"is not a valid {limit}",
        "multipleOf": f"must be a multiple of {limit}",
        "additionalProperties": "has properties that are not allowed",
        "uniqueItems": "must not contain duplicates",
    }
    if kind in messages:
        return messages[kind]
    if kind in ("required", "discriminator"):
        return error.message
    return error.message if len(error.message) <= 200 else error.message[:200] + "..."


def describe(error: ValidationError, prefix: Iterable[Any] = ()) -> str:
    """One JSON Schema error in our words, at `prefix` + the error's own path."""
    if error.validator == "anyOf" and error.context and all(e.validator == "required" for e in error.context):
        wanted = " or ".join(repr(e.validator_value[0]) for e in error.context)
        return at([*prefix, *error.absolute_path], f"one of {wanted} is required")
    if error.context:  # oneOf / anyOf: the deepest branch says the most
        return describe(min(error.context, key=lambda e: (-len(e.absolute_path), e.message)), prefix)
    return at([*prefix, *error.absolute_path], _rule(error))
