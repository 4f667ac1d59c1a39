"""From an incoming message to a stored answer, and from a stored answer back to words.

Answers are kept JSON-able in the state (dates as ISO strings, yes/no as booleans, choices as
their values); `display` turns them into what a person reads in a summary or a text.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from flows.errors import InputError
from flows.i18n import month_name, norm_lang, pick, t
from flows.inputs import Incoming
from flows.normalize import (
    format_phone,
    parse_birth_year,
    parse_birthdate,
    parse_choice,
    parse_date,
    parse_int,
    parse_kana,
    parse_phone,
    parse_text,
    parse_yesno,
    plain,
)
from flows.spec import VAR_REF, AskStep, ChoiceSpec, Condition, FlowSpec
from flows.state import Frame
from flows.typed import same_words
from flows.wareki import to_wareki

SKIP_WORDS = {"なし", "ない", "無し", "特になし", "とくになし", "特にない", "スキップ", "とばす", "skip", "none", "no comment"}


def _need(key: str) -> InputError:
    return InputError(t(key, "ja"), t(key, "en"))


def parse_answer(step: AskStep, inc: Incoming, today: date, frame: Frame | None = None) -> Any:
    """The JSON-able value for `step` from `inc`, or InputError saying what was expected.
    `frame` gives the values of bounds and suggestions written as `{vars.x}`."""
    kind = step.input
    if kind == "number":
        return _number(step, inc, frame)
    if kind == "location":
        if inc.kind != "location" or not inc.location:
            raise _need("need_location")
        return dict(inc.location)
    if kind == "image":
        if inc.kind != "image" or not inc.media_id:
            raise _need("need_image")
        return {"media_id": inc.media_id}
    if kind in ("choice", "yesno") and inc.kind == "postback" and "a" in inc.data:
        return _choice_value(step, inc.data["a"])
    if inc.kind == "date" and inc.date_value:
        if kind not in ("date", "birthdate", "birthyear"):
            raise _need("need_text")
        return _typed(step, inc.date_value[:10], today)
    if inc.kind != "text":
        raise _need("invalid_choice" if kind in ("choice", "yesno") else "need_text")
    return _typed(step, inc.text, today)


def resolve(value: Any, frame: Frame | None) -> Any:
    """A bound or suggestion written as `{vars.x}`: that var as a whole number (None if unset)."""
    if isinstance(value, str) and (m := VAR_REF.fullmatch(value)):
        raw = frame.vars.get(m[1]) if frame is not None else None
        try:
            return int(raw)
        except (TypeError, ValueError):
            return None
    return value


def suggestions(step: AskStep, frame: Frame | None, *, unique: bool = True) -> list[tuple[ChoiceSpec, int]]:
    """A number's suggested answers with their values now: unset and out-of-range ones left out (the
    lottery never offers 3 sets when the limit is 2), and with `unique` a value offered twice (全部 = 500)."""
    lo, hi = resolve(step.min, frame), resolve(step.max, frame)
    out: list[tuple[ChoiceSpec, int]] = []
    for s in step.suggest:
        value = resolve(s.value, frame)
        value = int(value) if isinstance(value, str) and value.lstrip("-").isdigit() else value
        if not isinstance(value, int) or (lo is not None and value < lo) or (hi is not None and value > hi):
            continue
        if not unique or all(value != v for _, v in out):
            out.append((s, value))
    return out


def _number(step: AskStep, inc: Incoming, frame: Frame | None) -> int:
    """Typed (１，０００円, 二セット), a suggestion's button, or a suggestion's label typed (ぜんぶ)."""
    lo, hi = resolve(step.min, frame), resolve(step.max, frame)
    if inc.kind == "postback" and "a" in inc.data:
        return parse_int(inc.data["a"], min=lo, max=hi)
    if inc.kind != "text":
        raise _need("need_text")
    offered = suggestions(step, frame, unique=False)
    for choice, value in offered:
        labels = [pick(choice.label, lang) for lang in ("ja", "en")]
        if any(not VAR_REF.search(label) and same_words(inc.text, label) for label in labels):
            return value
    return parse_int(inc.text, min=lo, max=hi, example=offered[0][1] if offered else None)


def _choice_value(step: AskStep, value: str) -> Any:
    if step.input == "yesno":
        if value in ("yes", "no"):
            return value == "yes"
    elif any(c.value == value for c in step.choices):
        return value
    raise _need("invalid_choice")


def _typed(step: AskStep, text: str, today: date) -> Any:
    kind = step.input
    if kind == "choice":
        return parse_choice(text, [{"value": c.value, "label": c.label} for c in step.choices])
    if kind == "yesno":
        return parse_yesno(text)
    if kind == "date":
        lo, hi = (today if b == "today" else b for b in (step.min, step.max))
        return parse_date(text, min=lo, max=hi, today=today).isoformat()
    if kind == "birthdate":
        return parse_birthdate(text, today=today).isoformat()
    if kind == "birthyear":
        return parse_birth_year(text, today=today)
    if kind == "kana":
        return parse_kana(text, max_len=min(step.max_len, 100))
    if kind == "phone":
        return parse_phone(text)
    return parse_text(text, min_len=step.min_len, max_len=step.max_len, pattern=step.pattern,
                      pattern_error=step.pattern_error)


def is_skip(text: str) -> bool:
    return plain(text) in SKIP_WORDS


# ------------------------------------------------------------------------------------ display


def format_date(day: date, lang: str) -> str:
    if norm_lang(lang) == "en":
        return t("date", "en", y=day.year, month=month_name(day.month), d=day.day)
    return t("date", "ja", y=day.year, m=day.month, d=day.day)


def display(step: AskStep | None, value: Any, lang: str) -> str:
    """An answer as a person reads it: the choice's label, 1965年5月3日（昭和40年）, はい."""
    if value is None or value == "":
        return t("not_answered", lang)
    kind = step.input if step else None
    if kind == "choice" and step is not None:
        return step.choice_label(value, lang) or str(value)
    if isinstance(value, bool):
        return t("yes" if value else "no", lang)
    if kind in ("date", "birthdate"):
        day = date.fromisoformat(value)
        shown = format_date(day, lang)
        return f"{shown}（{to_wareki(day)}）" if kind == "birthdate" and norm_lang(lang) == "ja" else shown
    if kind == "birthyear":
        return f"{value}年（{to_wareki(date(int(value), 12, 31))}）" if norm_lang(lang) == "ja" else str(value)
    if kind == "location" and isinstance(value, dict):
        return str(value.get("title") or value.get("address") or "📍")
    if kind == "phone":
        return format_phone(str(value))
    if kind == "image":
        return "写真" if norm_lang(lang) == "ja" else "Photo"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


_PLACEHOLDER = re.compile(r"\{(answers|vars)\.([A-Za-z_][A-Za-z0-9_]*)\}")


def interpolate(template: Any, flow: FlowSpec, frame: Frame, lang: str) -> str:
    """Fill `{answers.name}` (as displayed) and `{vars.x}` in a YAML text; unknown names → ''."""
    text = pick(template, lang)

    def repl(m: re.Match[str]) -> str:
        source, name = m.groups()
        if source == "answers":
            return display(flow.ask_for(name), frame.answers.get(name), lang) if name in frame.answers else ""
        value = frame.vars.get(name)
        if isinstance(value, bool):
            return t("yes" if value else "no", lang)
        if isinstance(value, int):
            return f"{value:,}"
        return "" if value is None else str(value)

    return _PLACEHOLDER.sub(repl, text)


# ---------------------------------------------------------------------------------- conditions


def evaluate(cond: Condition, frame: Frame) -> bool:
    """A branch condition; values compare as numbers when both sides are numbers, else as text."""
    values = frame.answers if cond.source == "answers" else frame.vars
    present = cond.name in values and values[cond.name] not in (None, "")
    if cond.op in ("present", "absent"):
        wanted = cond.value is not False  # `present: true` / `absent: true`; false turns it round
        return (present if cond.op == "present" else not present) == wanted
    if not present:
        return cond.op in ("not_equals", "not_in")
    actual, expected = values[cond.name], cond.value
    if cond.op in ("in", "not_in"):
        items = expected if isinstance(expected, list) else [expected]
        return any(_same(actual, e) for e in items) == (cond.op == "in")
    if cond.op in ("equals", "not_equals"):
        return _same(actual, expected) == (cond.op == "equals")
    a, b = _num(actual), _num(expected)
    if a is None or b is None:
        return False
    return {"gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[cond.op]


def _num(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or str(a).lower() == str(b).lower()
    na, nb = _num(a), _num(b)
    if na is not None and nb is not None:
        return na == nb
    return str(a) == str(b)
