"""Check payloads meant for LINE against the official SDK's models: needs only installed packages.

The `linebot.v3` models are generated from LINE's OpenAPI spec, so they carry its types, enums,
required fields, sizes and `type` discriminators; they ship with `line-bot-sdk`, so this check
works on a lone clone and on a server install where LINE's spec files are not found.

The SDK's own `from_dict` is not a checker: it silently drops unknown keys, raises a bare
`KeyError` for a missing `type`, echoes the whole payload (a resident's message) in its error for
an unknown one, and stops at the first problem with no path. So the models are walked here
instead: each object dispatches on its `type` through the SDK's discriminator mapping (an
unknown type is refused, or, for webhook bodies, checked against its base), each field is
checked by pydantic's own field validator, and LINE's extra rules (`bot.line_rules.LINE_RULES`)
are applied on top, reported in the same words as the spec-file checker (`bot.openapi_check`).
"""
from __future__ import annotations

import ast
import functools
import importlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft4Validator
from linebot.v3 import messaging, webhooks
from pydantic.v1 import BaseModel, ValidationError
from pydantic.v1.fields import SHAPE_DICT, SHAPE_LIST, SHAPE_MAPPING, SHAPE_SINGLETON, ModelField

from bot.line_rules import (
    BODY_REQUIRED,
    LINE_RULES,
    at,
    describe,
    required,
    size_rule,
    unknown_endpoint,
    unknown_type,
)

JsonPath = list[str | int]


@dataclass(frozen=True)
class Endpoint:
    """One LINE endpoint this project calls, and the SDK model of its JSON body (None: no JSON body)."""

    method: str
    template: str
    operation_id: str
    model: str | None

    @property
    def json_body(self) -> bool:
        return self.model is not None

    @property
    def body_required(self) -> bool:
        return self.model is not None


# The endpoints the bot, the rich menu deploy and the fake LINE use (bot/line_client.py and
# simulator/fake_line.py), with the SDK request model of each JSON body.
ENDPOINTS: tuple[Endpoint, ...] = tuple(Endpoint(*row) for row in (
    ("POST", "/v2/bot/message/reply", "replyMessage", "ReplyMessageRequest"),
    ("POST", "/v2/bot/message/push", "pushMessage", "PushMessageRequest"),
    ("POST", "/v2/bot/message/multicast", "multicast", "MulticastRequest"),
    ("POST", "/v2/bot/message/narrowcast", "narrowcast", "NarrowcastRequest"),
    ("POST", "/v2/bot/message/broadcast", "broadcast", "BroadcastRequest"),
    ("GET", "/v2/bot/message/progress/narrowcast", "getNarrowcastProgress", None),
    ("GET", "/v2/bot/message/{messageId}/content", "getMessageContent", None),
    ("POST", "/v2/bot/chat/loading/start", "showLoadingAnimation", "ShowLoadingAnimationRequest"),
    ("GET", "/v2/bot/profile/{userId}", "getProfile", None),
    ("POST", "/v2/bot/richmenu", "createRichMenu", "RichMenuRequest"),
    ("POST", "/v2/bot/richmenu/validate", "validateRichMenuObject", "RichMenuRequest"),
    ("GET", "/v2/bot/richmenu/list", "getRichMenuList", None),
    ("GET", "/v2/bot/richmenu/{richMenuId}", "getRichMenu", None),
    ("DELETE", "/v2/bot/richmenu/{richMenuId}", "deleteRichMenu", None),
    ("POST", "/v2/bot/richmenu/{richMenuId}/content", "setRichMenuImage", None),  # a PNG or JPEG
    ("GET", "/v2/bot/richmenu/{richMenuId}/content", "getRichMenuImage", None),
    ("POST", "/v2/bot/user/all/richmenu/{richMenuId}", "setDefaultRichMenu", None),
    ("GET", "/v2/bot/user/all/richmenu", "getDefaultRichMenuId", None),
    ("DELETE", "/v2/bot/user/all/richmenu", "cancelDefaultRichMenu", None),
    ("POST", "/v2/bot/user/{userId}/richmenu/{richMenuId}", "linkRichMenuIdToUser", None),
    ("GET", "/v2/bot/user/{userId}/richmenu", "getRichMenuIdOfUser", None),
    ("DELETE", "/v2/bot/user/{userId}/richmenu", "unlinkRichMenuIdFromUser", None),
    ("POST", "/v2/bot/richmenu/bulk/link", "linkRichMenuIdToUsers", "RichMenuBulkLinkRequest"),
    ("POST", "/v2/bot/richmenu/bulk/unlink", "unlinkRichMenuIdFromUsers", "RichMenuBulkUnlinkRequest"),
    ("POST", "/v2/bot/richmenu/alias", "createRichMenuAlias", "CreateRichMenuAliasRequest"),
    ("GET", "/v2/bot/richmenu/alias/list", "getRichMenuAliasList", None),
    ("POST", "/v2/bot/richmenu/alias/{richMenuAliasId}", "updateRichMenuAlias", "UpdateRichMenuAliasRequest"),
    ("GET", "/v2/bot/richmenu/alias/{richMenuAliasId}", "getRichMenuAlias", None),
    ("DELETE", "/v2/bot/richmenu/alias/{richMenuAliasId}", "deleteRichMenuAlias", None),
    ("GET", "/v2/bot/info", "getBotInfo", None),
    ("GET", "/v2/bot/message/quota", "getMessageQuota", None),
))


def source() -> str:
    """What this checker checks against, for logs and the test summary."""
    return f"the models of line-bot-sdk {_sdk_version()}"


@functools.cache
def _sdk_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("line-bot-sdk")
    except PackageNotFoundError:  # pragma: no cover - the SDK is imported above
        return "(unknown version)"


# --------------------------------------------------------------------------- endpoints


@functools.cache
def _routes() -> tuple[tuple[re.Pattern[str], int, Endpoint], ...]:
    """Every (path regex, literal weight, endpoint); more literal templates win ties."""
    out = []
    for ep in ENDPOINTS:
        regex = re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(ep.template)) + "/?$")
        out.append((regex, len(re.sub(r"\{[^/]+?\}", "", ep.template)), ep))
    return tuple(out)


def find_operation(method: str, path: str) -> Endpoint | None:
    """The endpoint for `METHOD /path`, e.g. `("POST", "/v2/bot/user/U.../richmenu/richmenu-...")`."""
    path = path.split("?", 1)[0]
    matches = [(w, ep) for regex, w, ep in _routes() if ep.method == method.upper() and regex.match(path)]
    return max(matches, key=lambda m: m[0])[1] if matches else None


# --------------------------------------------------------------------------- walking the models


def _own(cls: type, attribute: str) -> Any:
    """A class's own name-mangled attribute (`Message.__discriminator_...`), not an inherited one."""
    return vars(cls).get(f"_{cls.__name__}__{attribute}")


def _model_named(base: type, name: str) -> type[BaseModel]:
    package = importlib.import_module(base.__module__.rpartition(".")[0])
    return getattr(package, name)


@functools.cache
def _rule_validator(name: str) -> Draft4Validator | None:
    rule = LINE_RULES.get(name)
    return Draft4Validator(rule) if rule is not None else None


def _check_model(cls: type[BaseModel], obj: Any, path: JsonPath, out: list[str], strict: bool) -> None:
    """Check one JSON object as an instance of `cls`, dispatching on its discriminator first."""
    if not isinstance(obj, dict):
        out.append(at(path, "must be of type object"))
        return
    subtypes: Mapping[str, str] | None = _own(cls, "discriminator_value_class_map")
    if subtypes is not None:
        prop = _own(cls, "discriminator_property_name") or "type"
        value = obj.get(prop)
        if value is None:
            out.append(at(path, required(prop)))
            return
        if isinstance(value, str) and value in subtypes:
            cls = _model_named(cls, subtypes[value])
        elif strict:
            out.append(at([*path, prop], unknown_type(prop, subtypes)))
            return
        # else a type newer than the SDK (webhooks): its common fields are checked below
    for field in cls.__fields__.values():
        if field.alias not in obj:
            if field.required:
                out.append(at(path, required(field.alias)))
            continue
        _check_field(cls, field, obj[field.alias], [*path, field.alias], out, strict)
    validator = _rule_validator(cls.__name__)
    if validator is not None:
        out.extend(describe(error, path) for error in validator.iter_errors(obj))


def _check_field(owner: type[BaseModel], field: ModelField, value: Any, path: JsonPath, out: list[str],
                 strict: bool) -> None:
    if value is None:  # the spec marks nothing nullable; the SDK would quietly drop it
        out.append(at(path, "must not be null"))
        return
    model = field.type_ if isinstance(field.type_, type) and issubclass(field.type_, BaseModel) else None
    if model is None:  # a plain value (or a list of them): pydantic's own validator, constraints included
        _, errors = field.validate(value, {}, loc=field.alias, cls=owner)  # type: ignore[arg-type]
        if errors:
            out.extend(_pydantic_errors(owner, errors, path[:-1], {field.alias: value}))
    elif field.shape == SHAPE_SINGLETON:
        _check_model(model, value, path, out, strict)
    elif field.shape == SHAPE_LIST:
        _check_list(field, model, value, path, out, strict)
    elif field.shape in (SHAPE_DICT, SHAPE_MAPPING):
        if not isinstance(value, dict):
            out.append(at(path, "must be of type object"))
            return
        for key, item in value.items():
            _check_model(model, item, [*path, str(key)], out, strict)
    else:  # pragma: no cover - no other shape holds models in the SDK
        out.append(at(path, "cannot be checked"))


def _check_list(field: ModelField, model: type[BaseModel], value: Any, path: JsonPath, out: list[str],
                strict: bool) -> None:
    if not isinstance(value, list):
        out.append(at(path, "must be of type array"))
        return
    low, high = getattr(field.outer_type_, "min_items", None), getattr(field.outer_type_, "max_items", None)
    if low is not None and len(value) < low:
        out.append(at(path, size_rule("minItems", low, value) or ""))
    if high is not None and len(value) > high:
        out.append(at(path, size_rule("maxItems", high, value) or ""))
    for i, item in enumerate(value):
        _check_model(model, item, [*path, i], out, strict)


# --------------------------------------------------------------------------- pydantic's findings


_SIZES = {
    "value_error.list.max_items": "maxItems", "value_error.list.min_items": "minItems",
    "value_error.any_str.max_length": "maxLength", "value_error.any_str.min_length": "minLength",
    "value_error.number.not_le": "maximum", "value_error.number.not_ge": "minimum",
    "value_error.number.not_lt": "exclusiveMaximum", "value_error.number.not_gt": "exclusiveMinimum",
}
_TYPES = {
    "type_error.str": "string", "type_error.integer": "integer", "type_error.float": "number",
    "type_error.bool": "boolean", "value_error.strictbool": "boolean", "type_error.list": "array",
    "type_error.dict": "object", "type_error.none.not_allowed": "not null",
}
_ENUM_MESSAGE = re.compile(r"^must be one of enum values (\(.*\))$")


def _pydantic_errors(owner: type[BaseModel], errors: Any, base: JsonPath, values: dict[str, Any]) -> list[str]:
    found = ValidationError(errors if isinstance(errors, list) else [errors], owner).errors()  # type: ignore[arg-type]
    return [at([*base, *e["loc"]], _pydantic_rule(e, _value_at(values, e["loc"]))) for e in found]


def _value_at(values: Any, loc: tuple[Any, ...]) -> Any:
    for part in loc:
        try:
            values = values[part]
        except (KeyError, IndexError, TypeError):
            return None
    return values


def _pydantic_rule(error: Mapping[str, Any], value: Any) -> str:
    """Pydantic's finding in the words of `bot.line_rules`, never quoting the value."""
    kind, ctx = str(error["type"]), error.get("ctx") or {}
    if kind in _SIZES:
        return size_rule(_SIZES[kind], ctx.get("limit_value"), value) or str(error["msg"])
    if kind in _TYPES:
        return f"must be of type {_TYPES[kind]}" if kind != "type_error.none.not_allowed" else "must not be null"
    if kind == "type_error.enum":
        return "must be one of: " + ", ".join(str(getattr(v, "value", v)) for v in ctx.get("enum_values", ()))
    if kind == "value_error.str.regex":
        return f"must match the pattern {ctx.get('pattern')}"
    enum = _ENUM_MESSAGE.match(str(error["msg"]))
    if enum:  # the SDK's generated `*_validate_enum` validators
        allowed = ast.literal_eval(enum.group(1))
        return "must be one of: " + ", ".join(map(str, allowed if isinstance(allowed, tuple) else (allowed,)))
    return str(error["msg"])[:200]


# --------------------------------------------------------------------------- public API


def _messaging_model(name: str) -> type[BaseModel]:
    return getattr(messaging, name)


def validate_request(method: str, path: str, body: dict[str, Any] | None) -> list[str]:
    """Problems with a request to LINE (empty list = valid), e.g. `("POST", "/v2/bot/message/push", {...})`."""
    ep = find_operation(method, path)
    if ep is None:
        return [unknown_endpoint(method, path)]
    if ep.model is None:  # no body, or a binary one (images): nothing to check here
        return []
    if body is None:
        return [BODY_REQUIRED]
    out: list[str] = []
    _check_model(_messaging_model(ep.model), body, [], out, strict=True)
    return list(dict.fromkeys(out))


def validate_messages(messages: list[dict[str, Any]]) -> list[str]:
    """Problems with the `messages` array of a reply/push/multicast (1 to 5 message objects)."""
    push = _messaging_model("PushMessageRequest")
    out: list[str] = []
    _check_field(push, push.__fields__["messages"], messages, ["messages"], out, strict=True)
    return list(dict.fromkeys(out))


def validate_schema(schema_name: str, instance: Any) -> list[str]:
    """Problems with `instance` as one named SDK model, e.g. `("FlexContainer", {...})`."""
    out: list[str] = []
    _check_model(_messaging_model(schema_name), instance, [], out, strict=True)
    return list(dict.fromkeys(out))


def validate_webhook(body: dict[str, Any], *, allow_unknown_types: bool = False) -> list[str]:
    """Problems with a webhook request body (`{"destination": ..., "events": [...]}`).

    `allow_unknown_types` accepts event/source/message types newer than the SDK (LINE adds them
    without notice), checking their common fields only.
    """
    out: list[str] = []
    _check_model(webhooks.CallbackRequest, body, [], out, strict=not allow_unknown_types)
    return list(dict.fromkeys(out))


def preload() -> None:
    """Compile LINE's extra rules now, so the first checked request is not the slow one."""
    for name in LINE_RULES:
        _rule_validator(name)
