"""Check payloads meant for LINE against LINE's official OpenAPI spec files, where they are found.

DESIGN.md §5: every payload sent to LINE must validate against LINE's spec (`line-openapi/`).
The files are not shipped with the package: they are used only where `LINE_OPENAPI_DIR` names
them (this project's tests and CI set it when LINE's files lie beside the checkout). Callers go
through `bot.line_check`, which uses the SDK's models (`bot.sdk_check`) without the setting.

Plain JSON Schema ignores OpenAPI's `discriminator`, so a text message without `text` or a
Flex box holding a component of an unknown type would pass; here `discriminator` is a real
keyword that dispatches on `type` through the mapping, recursively (Flex contents, actions,
quick replies, templates, recipients, webhook events...).

Error messages name the property and the rule, never the offending value (`bot.line_rules`).
"""
from __future__ import annotations

import copy
import functools
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jsonschema.exceptions import ValidationError
from jsonschema.validators import extend
from openapi_schema_validator import OAS30WriteValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from bot.line_rules import BODY_REQUIRED, LINE_RULES, describe, unknown_endpoint, unknown_type

SPEC_FILES = {"messaging-api": "messaging-api.yml", "liff": "liff.yml", "webhook": "webhook.yml"}
REQUEST_SPECS = ("messaging-api", "liff")
_SCHEMAS = "#/components/schemas/"
_BASE_SUFFIX = "__base"


class SpecNotFound(FileNotFoundError):
    """LINE's OpenAPI spec files are not found: `bot.line_check` then uses the SDK's models."""


@dataclass(frozen=True)
class Operation:
    """One documented LINE endpoint and where its JSON request body schema lives."""

    spec: str
    method: str
    template: str
    operation_id: str
    body_pointer: str | None  # JSON pointer to the application/json schema, if any
    body_required: bool
    content_types: tuple[str, ...]

    @property
    def json_body(self) -> bool:
        """Whether the endpoint takes a JSON body to check (not none, not an image)."""
        return self.body_pointer is not None


# --------------------------------------------------------------------------- spec loading


def spec_dir() -> Path:
    """The folder `LINE_OPENAPI_DIR` names; run time never looks for LINE's files anywhere else.

    Once found, the folder is kept for the process (per setting): a server that chose these files
    keeps checking with them even if the folder goes away.
    """
    return _find_spec_dir(os.environ.get("LINE_OPENAPI_DIR", ""))


@functools.lru_cache(maxsize=8)
def _find_spec_dir(env: str) -> Path:
    if not env:
        raise SpecNotFound("LINE_OPENAPI_DIR is not set")
    path = Path(env)
    if not (path / SPEC_FILES["messaging-api"]).is_file():
        raise SpecNotFound(f"LINE_OPENAPI_DIR={env} holds no {SPEC_FILES['messaging-api']}")
    return path


def source() -> str:
    """What this checker checks against, for logs and the test summary."""
    return f"LINE's spec files in {spec_dir()}"


def _spec_uri(name: str) -> str:
    return f"urn:line-openapi:{name}"


@functools.lru_cache(maxsize=8)
def _load_spec(directory: str, name: str) -> dict[str, Any]:
    """Parse one spec file and make its discriminators safe to dispatch on."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(Path(directory) / SPEC_FILES[name], encoding="utf-8") as fh:
        spec = yaml.load(fh, Loader=loader)  # noqa: S506 - a safe loader
    return _add_line_rules(_split_discriminated_bases(spec))


def _add_line_rules(spec: dict[str, Any]) -> dict[str, Any]:
    schemas: dict[str, Any] = spec.get("components", {}).get("schemas", {})
    for name, rule in LINE_RULES.items():
        if isinstance(schemas.get(name), dict):
            schemas[name].setdefault("allOf", []).append(copy.deepcopy(rule))
    return spec


def _split_discriminated_bases(spec: dict[str, Any]) -> dict[str, Any]:
    """Give each discriminated base a plain twin `<Name>__base` for its subtypes' `allOf`.

    A subtype such as TextMessage is `allOf: [Message, {...}]`; if Message dispatched on
    `type` there too, validation would loop. References from elsewhere keep dispatching.
    """
    spec = copy.deepcopy(spec)
    schemas: dict[str, Any] = spec.get("components", {}).get("schemas", {})
    for name, schema in list(schemas.items()):
        if not isinstance(schema, dict) or "discriminator" not in schema:
            continue
        schemas[name + _BASE_SUFFIX] = {k: v for k, v in schema.items() if k != "discriminator"}
        for target in schema["discriminator"].get("mapping", {}).values():
            sub = schemas.get(target.removeprefix(_SCHEMAS))
            for part in (sub or {}).get("allOf", []):
                if part.get("$ref") == _SCHEMAS + name:
                    part["$ref"] = _SCHEMAS + name + _BASE_SUFFIX
    return spec


@functools.lru_cache(maxsize=4)
def _registry(directory: str) -> Registry:
    resources = [
        (_spec_uri(name), Resource(contents=_load_spec(directory, name), specification=DRAFT4))
        for name in SPEC_FILES
    ]
    return Registry().with_resources(resources)


def clear_cache() -> None:
    """Forget loaded specs (tests that switch `LINE_OPENAPI_DIR`)."""
    for cached in (_find_spec_dir, _load_spec, _registry, _validator, _operations):
        cached.cache_clear()


# --------------------------------------------------------------------------- the validator


def _make_discriminator(strict: bool) -> Any:
    def discriminator(validator: Any, disc: Mapping[str, Any], instance: Any, schema: Any) -> Iterator[ValidationError]:
        """Dispatch to the mapped subtype; a missing value, or (strict) an unknown one, is an error."""
        if not validator.is_type(instance, "object"):
            return
        prop = disc.get("propertyName", "type")
        mapping: Mapping[str, str] = disc.get("mapping", {})
        value = instance.get(prop)
        if value is None:
            yield ValidationError(f"'{prop}' is a required property", validator="required", validator_value=[prop])
        elif isinstance(value, str) and value in mapping:
            yield from validator.descend(instance, {"$ref": mapping[value]})
        elif strict:
            yield ValidationError(unknown_type(prop, mapping), validator="discriminator",
                                  validator_value=disc, path=[prop])
    return discriminator


LineValidator = extend(OAS30WriteValidator, validators={"discriminator": _make_discriminator(strict=True)})
# For bodies LINE sends us: a type newer than the spec is checked against its base schema only.
LenientLineValidator = extend(OAS30WriteValidator, validators={"discriminator": _make_discriminator(strict=False)})


@functools.lru_cache(maxsize=256)
def _validator(directory: str, ref: str, strict: bool = True) -> Any:
    cls = LineValidator if strict else LenientLineValidator
    return cls({"$ref": ref}, registry=_registry(directory))


def _check(ref: str, instance: Any, *, wrapper: dict[str, Any] | None = None, strict: bool = True) -> list[str]:
    directory = str(spec_dir())
    if wrapper is None:
        validator = _validator(directory, ref, strict)
    else:
        validator = LineValidator(wrapper, registry=_registry(directory))
    errors = sorted(validator.iter_errors(instance), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    return list(dict.fromkeys(describe(error) for error in errors))  # a schema reached twice reports once


# --------------------------------------------------------------------------- operations


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def _operation(spec: str, template: str, method: str, op: dict[str, Any]) -> Operation:
    body = op.get("requestBody") or {}
    content: dict[str, Any] = body.get("content") or {}
    pointer = None
    if "application/json" in content:
        pointer = "#/" + _pointer("paths", template, method, "requestBody", "content", "application/json", "schema")
    return Operation(spec=spec, method=method.upper(), template=template,
                     operation_id=str(op.get("operationId", "")), body_pointer=pointer,
                     body_required=bool(body.get("required")), content_types=tuple(content))


@functools.lru_cache(maxsize=4)
def _operations(directory: str) -> tuple[tuple[re.Pattern[str], int, Operation], ...]:
    """Every (path regex, literal weight, operation); more literal templates win ties."""
    found = []
    for spec in REQUEST_SPECS:
        for template, item in _load_spec(directory, spec).get("paths", {}).items():
            regex = re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "/?$")
            weight = len(re.sub(r"\{[^/]+?\}", "", template))
            for method, op in item.items():
                if method in ("get", "post", "put", "delete", "patch"):
                    found.append((regex, weight, _operation(spec, template, method, op)))
    return tuple(found)


def find_operation(method: str, path: str) -> Operation | None:
    """The documented operation for `METHOD /path` (templates like `/v2/bot/user/{userId}/...`)."""
    path = path.split("?", 1)[0]
    matches = [(w, op) for regex, w, op in _operations(str(spec_dir()))
               if op.method == method.upper() and regex.match(path)]
    return max(matches, key=lambda m: m[0])[1] if matches else None


# --------------------------------------------------------------------------- public API


def validate_request(method: str, path: str, body: dict[str, Any] | None) -> list[str]:
    """Problems with a request to LINE (empty list = valid), e.g. `("POST", "/v2/bot/message/push", {...})`."""
    op = find_operation(method, path)
    if op is None:
        return [unknown_endpoint(method, path)]
    if op.body_pointer is None:  # no body, or a binary one (images): nothing to check here
        return []
    if body is None:
        return [BODY_REQUIRED] if op.body_required else []
    return _check(_spec_uri(op.spec) + op.body_pointer, body)


def validate_messages(messages: list[dict[str, Any]]) -> list[str]:
    """Problems with the `messages` array of a reply/push/multicast (1 to 5 message objects)."""
    wrapper = {"type": "array", "minItems": 1, "maxItems": 5,
               "items": {"$ref": _spec_uri("messaging-api") + _SCHEMAS + "Message"}}
    return [f"messages{err}" if err.startswith("[") else f"messages: {err}"
            for err in _check("", messages, wrapper=wrapper)]


def validate_schema(schema_name: str, instance: Any, *, spec: str = "messaging-api") -> list[str]:
    """Problems with `instance` as one named component schema, e.g. `("FlexContainer", {...})`."""
    return _check(_spec_uri(spec) + _SCHEMAS + schema_name, instance)


def validate_webhook(body: dict[str, Any], *, allow_unknown_types: bool = False) -> list[str]:
    """Problems with a webhook request body (`{"destination": ..., "events": [...]}`).

    `allow_unknown_types` accepts event/source/message types newer than the spec (LINE adds
    them without notice; the official SDK fixture has two), checking their common fields only.
    """
    ref = _spec_uri("webhook") + _SCHEMAS + "CallbackRequest"
    return _check(ref, body, strict=not allow_unknown_types)


def preload() -> None:
    """Load and compile the specs now, so the first checked request is not the slow one."""
    directory = str(spec_dir())
    _operations(directory)
    for ref in (_spec_uri("messaging-api") + _SCHEMAS + "Message", _spec_uri("webhook") + _SCHEMAS + "CallbackRequest"):
        _validator(directory, ref).is_valid({})
