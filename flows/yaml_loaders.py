"""YAML loaders without YAML 1.1's surprises for staff-written files.

PyYAML follows YAML 1.1: `no` is False, `0164642211` is an octal number, `12:30` is 750. In a
flow, `value: no` must stay "no" and a phone number must stay digits; in a transcript everything
a user types is text.
"""
from __future__ import annotations

import re
from typing import Any

import yaml

_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_TYPED = {_BOOL, _INT, _FLOAT, "tag:yaml.org,2002:null", "tag:yaml.org,2002:timestamp"}


def _without(tags: set[str]) -> dict[str, list[tuple[str, re.Pattern[str]]]]:
    return {first: [(tag, rx) for tag, rx in resolvers if tag not in tags]
            for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


class FlowLoader(yaml.SafeLoader):
    """YAML 1.2-like scalars: only true/false are booleans, only plain decimals are numbers."""


FlowLoader.yaml_implicit_resolvers = _without({_BOOL, _INT, _FLOAT})
FlowLoader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
FlowLoader.add_implicit_resolver(_INT, re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789"))
FlowLoader.add_implicit_resolver(_FLOAT, re.compile(r"^[-+]?(?:0|[1-9][0-9]*)\.[0-9]+$"), list("-+0123456789"))


class TextLoader(yaml.SafeLoader):
    """Every scalar is a string: what a person typed, exactly."""


TextLoader.yaml_implicit_resolvers = _without(_TYPED)


def load_flow_yaml(text: str) -> Any:
    return yaml.load(text, Loader=FlowLoader)  # noqa: S506 - FlowLoader is a SafeLoader


def load_text_yaml(text: str) -> Any:
    return yaml.load(text, Loader=TextLoader)  # noqa: S506 - TextLoader is a SafeLoader
