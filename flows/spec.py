"""A flow as data: the dataclasses the engine runs, built from one YAML mapping and validated.

Validation happens once, when the YAML is loaded, so a typo in a staff-written file is a clear
error at start-up ("step 'kana': unknown input 'kanna'"), never a confused resident.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from flows.i18n import pick

LocalText = str | Mapping[str, str]

STEP_TYPES = ("say", "ask", "confirm", "action", "branch", "end")
INPUT_TYPES = ("choice", "text", "number", "date", "birthdate", "birthyear", "kana", "phone", "yesno",
               "location", "image")
OPERATORS = ("equals", "not_equals", "in", "not_in", "gt", "gte", "lt", "lte", "present", "absent")
MAX_CHOICES = 11  # 13 quick replies minus 戻る and やめる
MAX_LABEL = 20  # LINE quick-reply label
_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,47}")
VAR_REF = re.compile(r"\{vars\.([A-Za-z_][A-Za-z0-9_]*)\}")  # a number known only when the flow runs
_FLOW_ID = re.compile(r"[a-z][a-z0-9_]{0,47}")


class FlowSpecError(ValueError):
    """A flow file is wrong; the message names the file and the step."""


# --------------------------------------------------------------------------------- dataclasses


@dataclass(frozen=True)
class ChoiceSpec:
    value: str
    label: LocalText


@dataclass(frozen=True)
class Condition:
    """`{answer: people, gte: 5}` or `{var: eligible, equals: true}`."""

    source: Literal["answers", "vars"]
    name: str
    op: str
    value: Any = None


@dataclass(frozen=True)
class Case:
    when: Condition
    goto: str


@dataclass(frozen=True, kw_only=True)
class Step:
    id: str
    type: str
    next: str | None = None


@dataclass(frozen=True, kw_only=True)
class SayStep(Step):
    text: LocalText


@dataclass(frozen=True, kw_only=True)
class AskStep(Step):
    key: str
    prompt: LocalText
    input: str = "text"
    label: LocalText | None = None
    hint: LocalText | None = None
    choices: tuple[ChoiceSpec, ...] = ()
    optional: bool = False
    min: Any = None
    max: Any = None
    min_len: int = 1
    max_len: int = 200
    pattern: str | None = None
    pattern_error: LocalText | None = None
    initial: str | None = None  # date picker's first position, e.g. 1960-01-01 for birth dates
    suggest: tuple[ChoiceSpec, ...] = ()  # a number's usual answers as buttons (values may be {vars.x})

    def label_for(self, lang: str) -> str:
        return pick(self.label, lang) if self.label else self.key

    def choice_label(self, value: Any, lang: str) -> str | None:
        for choice in self.choices:
            if choice.value == str(value):
                return pick(choice.label, lang)
        return None


@dataclass(frozen=True, kw_only=True)
class ConfirmStep(Step):
    summary: LocalText | None = None
    title: LocalText | None = None
    fields: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ActionStep(Step):
    action: str
    params: Mapping[str, Any] = field(default_factory=dict)
    on_error: str | None = None


@dataclass(frozen=True, kw_only=True)
class BranchStep(Step):
    cases: tuple[Case, ...] = ()


@dataclass(frozen=True, kw_only=True)
class EndStep(Step):
    text: LocalText | None = None


@dataclass(frozen=True)
class FlowSpec:
    id: str
    title: LocalText
    steps: tuple[Step, ...]
    keywords: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()  # rich-menu postbacks `action=<key>` that start this flow
    postback: bool = True
    follow: bool = False
    interrupt: Literal["resume", "drop"] = "resume"
    idle_timeout_minutes: int = 30
    menu: bool = False
    source: str = ""
    _by_id: Mapping[str, Step] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {s.id: s for s in self.steps})

    @property
    def first(self) -> Step:
        return self.steps[0]

    def step(self, step_id: str) -> Step | None:
        return self._by_id.get(step_id)

    def asks(self) -> list[AskStep]:
        return [s for s in self.steps if isinstance(s, AskStep)]

    def ask_for(self, key: str) -> AskStep | None:
        return next((s for s in self.asks() if s.key == key), None)

    def title_for(self, lang: str) -> str:
        return pick(self.title, lang)

    def action_names(self) -> set[str]:
        return {s.action for s in self.steps if isinstance(s, ActionStep)}


# ---------------------------------------------------------------------------------- parsing

_COMMON = {"id", "type", "next"}
_ALLOWED_KEYS: dict[str, set[str]] = {
    "say": _COMMON | {"text"},
    "ask": _COMMON | {"key", "prompt", "input", "label", "hint", "choices", "optional", "min", "max",
                      "min_len", "max_len", "pattern", "pattern_error", "initial", "suggest"},
    "confirm": _COMMON | {"summary", "title", "fields"},
    "action": _COMMON | {"action", "with", "on_error"},
    "branch": _COMMON | {"cases", "default"},
    "end": {"id", "type", "text"},
}
_FLOW_KEYS = {"id", "title", "description", "triggers", "interrupt", "idle_timeout_minutes", "menu", "steps"}


def parse_flow(raw: Any, source: str = "<flow>") -> FlowSpec:
    """Build and validate one flow from its YAML mapping; raises FlowSpecError naming the problem."""
    where = source
    if not isinstance(raw, Mapping):
        raise FlowSpecError(f"{where}: a flow must be a mapping with id, title and steps")
    _no_unknown_keys(raw, _FLOW_KEYS, where)
    flow_id = raw.get("id")
    if not isinstance(flow_id, str) or not _FLOW_ID.fullmatch(flow_id):
        raise FlowSpecError(f"{where}: `id` must be lower-case letters, digits and _ (got {flow_id!r})")
    where = f"{source} (flow {flow_id})"
    title = _local_text(raw.get("title"), f"{where}: `title`")
    menu = _bool(raw.get("menu", False), f"{where}: `menu`")
    if menu:
        _label_length(title, f"{where}: `title` (shown on a menu button)")
    keywords, actions, postback, follow = _triggers(raw.get("triggers", {}), where)
    interrupt = raw.get("interrupt", "resume")
    if interrupt not in ("resume", "drop"):
        raise FlowSpecError(f"{where}: `interrupt` must be resume or drop (got {interrupt!r})")
    timeout = raw.get("idle_timeout_minutes", 30)
    if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout <= 0:
        raise FlowSpecError(f"{where}: `idle_timeout_minutes` must be a positive whole number")
    steps = _steps(raw.get("steps"), where)
    return FlowSpec(id=flow_id, title=title, steps=steps, keywords=keywords, actions=actions, postback=postback,
                    follow=follow, interrupt=interrupt, idle_timeout_minutes=timeout, menu=menu,
                    source=source)


def _triggers(raw: Any, where: str) -> tuple[tuple[str, ...], tuple[str, ...], bool, bool]:
    if not isinstance(raw, Mapping):
        raise FlowSpecError(f"{where}: `triggers` must be a mapping (keywords, actions, postback, follow)")
    _no_unknown_keys(raw, {"keywords", "actions", "postback", "follow"}, f"{where}: triggers")
    keywords = _words(raw.get("keywords", []), f"{where}: `triggers.keywords`")
    actions = _words(raw.get("actions", []), f"{where}: `triggers.actions`")
    postback = _bool(raw.get("postback", True), f"{where}: `triggers.postback`")
    follow = _bool(raw.get("follow", False), f"{where}: `triggers.follow`")
    return keywords, actions, postback, follow


def _words(raw: Any, where: str) -> tuple[str, ...]:
    words = [raw] if isinstance(raw, str) else raw
    if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
        raise FlowSpecError(f"{where} must be a list of words")
    return tuple(w.strip() for w in words)


def _steps(raw: Any, where: str) -> tuple[Step, ...]:
    if not isinstance(raw, list) or not raw:
        raise FlowSpecError(f"{where}: `steps` must be a non-empty list")
    ids: list[str] = []
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise FlowSpecError(f"{where}: step {i + 1} must be a mapping with a `type`")
        step_id = _step_id(item, i, where)
        if step_id in ids:
            raise FlowSpecError(f"{where}: duplicate step id {step_id!r}")
        ids.append(step_id)
    steps = [_step(item, ids[i], ids[i + 1] if i + 1 < len(raw) else None, f"{where}: step {ids[i]!r}")
             for i, item in enumerate(raw)]
    _check_references(steps, where)
    return tuple(steps)


def _step_id(item: Mapping[str, Any], index: int, where: str) -> str:
    step_type = item.get("type")
    if step_type not in STEP_TYPES:
        raise FlowSpecError(f"{where}: step {index + 1}: unknown step type {step_type!r} "
                            f"(use one of {', '.join(STEP_TYPES)})")
    step_id = item.get("id") or (item.get("key") if step_type == "ask" else None) or f"{step_type}_{index + 1}"
    if not isinstance(step_id, str) or not _ID.fullmatch(step_id):
        raise FlowSpecError(f"{where}: step {index + 1}: id {step_id!r} must be letters, digits and _")
    return step_id


def _step(item: Mapping[str, Any], step_id: str, following: str | None, where: str) -> Step:
    step_type = item["type"]
    _no_unknown_keys(item, _ALLOWED_KEYS[step_type], where)
    if step_type == "end":
        return EndStep(id=step_id, type="end", text=_opt_text(item.get("text"), f"{where}: `text`"))
    nxt = item.get("next", following)
    if step_type == "branch" and "default" in item:
        nxt = item["default"]
    if nxt is None:
        raise FlowSpecError(f"{where}: missing `next` (it is the last step: add `next:` or an `end` step)")
    builders = {"say": _say, "ask": _ask, "confirm": _confirm, "action": _action, "branch": _branch}
    return builders[step_type](item, step_id, str(nxt), where)


def _say(item: Mapping[str, Any], step_id: str, nxt: str, where: str) -> Step:
    return SayStep(id=step_id, type="say", next=nxt, text=_local_text(item.get("text"), f"{where}: `text`"))


def _ask(item: Mapping[str, Any], step_id: str, nxt: str, where: str) -> Step:
    key = item.get("key")
    if not isinstance(key, str) or not _ID.fullmatch(key):
        raise FlowSpecError(f"{where}: `key` is required (letters, digits and _)")
    kind = item.get("input", "text")
    if kind not in INPUT_TYPES:
        raise FlowSpecError(f"{where}: unknown input {kind!r} (use one of {', '.join(INPUT_TYPES)})")
    choices = _choices(item.get("choices"), kind, where)
    optional = _bool(item.get("optional", False), f"{where}: `optional`")
    if optional and len(choices) > MAX_CHOICES - 1:
        raise FlowSpecError(f"{where}: an optional question has room for {MAX_CHOICES - 1} choices (とばす takes one)")
    label = _opt_text(item.get("label"), f"{where}: `label`")
    if label is not None:
        _label_length(label, f"{where}: `label`", limit=MAX_LABEL - 4)
    pattern = item.get("pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except (re.error, TypeError) as e:
            raise FlowSpecError(f"{where}: `pattern` is not a valid regular expression: {e}") from None
    lo, hi = _bound(item.get("min"), kind, where), _bound(item.get("max"), kind, where)
    suggest = _suggest(item.get("suggest"), kind, where)
    if len(suggest) > MAX_CHOICES - (1 if optional else 0):
        raise FlowSpecError(f"{where}: at most {MAX_CHOICES} `suggest` buttons")
    return AskStep(
        id=step_id, type="ask", next=nxt, key=key, input=kind, choices=choices, label=label,
        prompt=_local_text(item.get("prompt"), f"{where}: `prompt`"),
        hint=_opt_text(item.get("hint"), f"{where}: `hint`"),
        optional=optional,
        min=lo, max=hi, min_len=_int(item.get("min_len", 1), f"{where}: `min_len`"),
        max_len=_int(item.get("max_len", 200), f"{where}: `max_len`"), pattern=pattern,
        pattern_error=_opt_text(item.get("pattern_error"), f"{where}: `pattern_error`"),
        initial=str(item["initial"]) if item.get("initial") is not None else None, suggest=suggest,
    )


def _suggest(raw: Any, kind: str, where: str) -> tuple[ChoiceSpec, ...]:
    """`suggest: [{label: 1セット, value: 1}, {label: 全部, value: "{vars.most}"}]` for a number."""
    if raw is None:
        return ()
    if kind != "number":
        raise FlowSpecError(f"{where}: `suggest` only goes with `input: number` (use `choices` otherwise)")
    if not isinstance(raw, list) or not raw:
        raise FlowSpecError(f"{where}: `suggest` must be a list of {{label, value}}")
    out: list[ChoiceSpec] = []
    for c in raw:
        if not isinstance(c, Mapping) or set(c) != {"label", "value"}:
            raise FlowSpecError(f"{where}: each `suggest` item is {{label: ..., value: ...}}")
        value = c["value"]
        if not (isinstance(value, int) and not isinstance(value, bool)) and not (
                isinstance(value, str) and VAR_REF.fullmatch(value)):
            raise FlowSpecError(f"{where}: a `suggest` value is a whole number or \"{{vars.name}}\" (got {value!r})")
        label = _local_text(c["label"], f"{where}: suggest `label`")
        _label_length(label, f"{where}: suggest {value!r}")
        out.append(ChoiceSpec(value=str(value), label=label))
    return tuple(out)


def _choices(raw: Any, kind: str, where: str) -> tuple[ChoiceSpec, ...]:
    if kind != "choice":
        if raw is not None:
            raise FlowSpecError(f"{where}: `choices` only goes with `input: choice`")
        return ()
    if not isinstance(raw, list) or not raw:
        raise FlowSpecError(f"{where}: `input: choice` needs a list of `choices`")
    if len(raw) > MAX_CHOICES:
        raise FlowSpecError(f"{where}: at most {MAX_CHOICES} choices (LINE shows 13 buttons, 2 are 戻る/やめる)")
    out: list[ChoiceSpec] = []
    for c in raw:
        if isinstance(c, Mapping):
            _no_unknown_keys(c, {"label", "value"}, f"{where}: choice")
            label = _local_text(c.get("label"), f"{where}: choice `label`")
            value = c.get("value", c.get("label"))
        else:
            label, value = str(c), c
        if value is None or isinstance(value, Mapping):
            raise FlowSpecError(f"{where}: every choice needs a plain `value`")
        _label_length(label, f"{where}: choice {value!r}")
        out.append(ChoiceSpec(value=str(value), label=label))
    if len({c.value for c in out}) != len(out):
        raise FlowSpecError(f"{where}: two choices have the same value")
    return tuple(out)


def _bound(raw: Any, kind: str, where: str) -> Any:
    if raw is None:
        return None
    if kind == "number":
        if isinstance(raw, str) and VAR_REF.fullmatch(raw):
            return raw  # known when the flow runs, e.g. max: "{vars.limit}"
        return _int(raw, f"{where}: `min`/`max` (a whole number or \"{{vars.name}}\")")
    if kind == "date":
        if raw == "today" or isinstance(raw, date):
            return raw
        try:
            return date.fromisoformat(str(raw))
        except ValueError:
            raise FlowSpecError(f"{where}: `min`/`max` of a date must be YYYY-MM-DD or today") from None
    raise FlowSpecError(f"{where}: `min`/`max` only go with number or date inputs")


def _confirm(item: Mapping[str, Any], step_id: str, nxt: str, where: str) -> Step:
    fields = item.get("fields", [])
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise FlowSpecError(f"{where}: `fields` must be a list of answer keys")
    return ConfirmStep(id=step_id, type="confirm", next=nxt, fields=tuple(fields),
                       summary=_opt_text(item.get("summary"), f"{where}: `summary`"),
                       title=_opt_text(item.get("title"), f"{where}: `title`"))


def _action(item: Mapping[str, Any], step_id: str, nxt: str, where: str) -> Step:
    name = item.get("action")
    if not isinstance(name, str) or not name:
        raise FlowSpecError(f"{where}: `action` must name a registered action")
    params = item.get("with", {}) or {}
    if not isinstance(params, Mapping):
        raise FlowSpecError(f"{where}: `with` must be a mapping of parameters")
    on_error = item.get("on_error")
    return ActionStep(id=step_id, type="action", next=nxt, action=name, params=dict(params),
                      on_error=str(on_error) if on_error is not None else None)


def _branch(item: Mapping[str, Any], step_id: str, nxt: str, where: str) -> Step:
    raw = item.get("cases")
    if not isinstance(raw, list) or not raw:
        raise FlowSpecError(f"{where}: a branch needs `cases` (each with `when` and `goto`)")
    cases = []
    for c in raw:
        if not isinstance(c, Mapping) or "when" not in c or "goto" not in c:
            raise FlowSpecError(f"{where}: each case needs `when` and `goto`")
        cases.append(Case(when=_condition(c["when"], where), goto=str(c["goto"])))
    return BranchStep(id=step_id, type="branch", next=nxt, cases=tuple(cases))


def _condition(raw: Any, where: str) -> Condition:
    if not isinstance(raw, Mapping):
        raise FlowSpecError(f"{where}: `when` must be like {{answer: people, gte: 5}}")
    sources = [k for k in ("answer", "var") if k in raw]
    ops = [k for k in raw if k in OPERATORS]
    extra = set(raw) - {"answer", "var", *OPERATORS}
    if len(sources) != 1 or len(ops) != 1 or extra:
        raise FlowSpecError(f"{where}: `when` needs one of answer/var and one of {', '.join(OPERATORS)}")
    source: Literal["answers", "vars"] = "answers" if sources[0] == "answer" else "vars"
    return Condition(source=source, name=str(raw[sources[0]]), op=ops[0], value=raw[ops[0]])


def _check_references(steps: list[Step], where: str) -> None:
    ids = {s.id for s in steps}
    keys = {s.key for s in steps if isinstance(s, AskStep)}
    for s in steps:
        targets: list[tuple[str, str | None]] = [("next", s.next)]
        if isinstance(s, BranchStep):
            targets += [("goto", c.goto) for c in s.cases]
        if isinstance(s, ActionStep):
            targets.append(("on_error", s.on_error))
        for what, target in targets:
            if target is not None and target not in ids:
                raise FlowSpecError(f"{where}: step {s.id!r}: `{what}` goes to unknown step {target!r}")
        if isinstance(s, ConfirmStep):
            unknown = [f for f in s.fields if f not in keys]
            if unknown:
                raise FlowSpecError(f"{where}: step {s.id!r}: `fields` names unknown answers {unknown}")


# ---------------------------------------------------------------------------------- helpers


def _no_unknown_keys(raw: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise FlowSpecError(f"{where}: unknown key(s) {', '.join(map(str, unknown))} "
                            f"(allowed: {', '.join(sorted(allowed))})")


def _local_text(raw: Any, where: str) -> LocalText:
    if isinstance(raw, str) and raw.strip():
        return raw
    if isinstance(raw, Mapping) and raw.get("ja") and all(isinstance(v, str) for v in raw.values()):
        unknown = set(raw) - {"ja", "en"}
        if unknown:
            raise FlowSpecError(f"{where}: languages are ja and en (got {sorted(unknown)})")
        return dict(raw)
    shown = "missing" if raw is None else f"got {raw!r}"
    raise FlowSpecError(f"{where} must be a text, or {{ja: ..., en: ...}} with at least ja ({shown}; "
                        "quote texts that contain a comma, colon or question mark inside {...})")


def _opt_text(raw: Any, where: str) -> LocalText | None:
    return None if raw is None else _local_text(raw, where)


def _label_length(text: LocalText, where: str, limit: int = MAX_LABEL) -> None:
    for lang in ("ja", "en"):
        shown = pick(text, lang)
        if len(shown) > limit:
            raise FlowSpecError(f"{where}: {shown!r} is longer than {limit} characters (a button label)")


def _bool(raw: Any, where: str) -> bool:
    if not isinstance(raw, bool):
        raise FlowSpecError(f"{where} must be true or false")
    return raw


def _int(raw: Any, where: str) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool):
        raise FlowSpecError(f"{where} must be a whole number")
    return raw
