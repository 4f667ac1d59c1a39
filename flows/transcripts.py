"""Conversation transcripts: tests of flows that town staff can read and write.

A transcript is YAML, either a list of turns or a mapping with options and `turns`::

    user_id: U-demo          # optional
    lang: en                 # optional: the user's LINE language
    turns:
      - user: はじめる                       # a typed text
        bot: [contains: "ようこそ"]
      - tap: はい                            # the quick reply / button with this label
      - postback: flow=satisfaction_survey&x=1
      - date: 2024-01-01                     # a date picked with the date picker
      - wait: 31                             # minutes pass (the engine needs a FakeClock)
      - location: {title: 役場, latitude: 44.3, longitude: 141.6}
      - image: photo-1
      - follow: true

Each `bot` check is one of: a string (the reply contains it), `contains`, `not_contains`,
`equals` (one message's whole text), `quick_replies` (labels offered, in any order),
`no_quick_replies` (labels not offered), `messages` (how many). A failing check raises
`TranscriptError` showing the turn, the check and everything the bot said.
"""
from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from flows.engine import Engine
from flows.inputs import Incoming
from flows.messages import Button, Card, Carousel, Message, QuickReply, message_text
from flows.yaml_loaders import load_text_yaml

USER_KEYS = ("user", "tap", "postback", "date", "wait", "location", "image", "follow")
CHECKS = ("contains", "not_contains", "equals", "quick_replies", "no_quick_replies", "messages")


class TranscriptError(AssertionError):
    """A transcript turn did not get the reply it expected; the message reads like a chat log."""


@dataclass
class TurnResult:
    number: int
    said: str
    replies: list[Message]


def load_transcript(path_or_text: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    """(options, turns, name) from a file path or from YAML text."""
    text, name = _source(path_or_text)
    try:
        raw = load_text_yaml(text)
    except yaml.YAMLError as e:
        raise TranscriptError(f"{name}: not valid YAML: {e}") from None
    options: dict[str, Any] = {}
    if isinstance(raw, Mapping):
        options = {k: v for k, v in raw.items() if k != "turns"}
        raw = raw.get("turns")
    if not isinstance(raw, list) or not all(isinstance(turn, Mapping) for turn in raw):
        raise TranscriptError(f"{name}: a transcript is a list of turns (- user: ... / bot: ...)")
    return options, [dict(turn) for turn in raw], name


def _source(path_or_text: str | Path) -> tuple[str, str]:
    if isinstance(path_or_text, Path):
        return path_or_text.read_text(encoding="utf-8"), str(path_or_text)
    if "\n" not in path_or_text and path_or_text.endswith((".yaml", ".yml")) and Path(path_or_text).is_file():
        return Path(path_or_text).read_text(encoding="utf-8"), path_or_text
    return path_or_text, "<transcript>"


def run_transcript(engine: Engine, path_or_text: str | Path, *, user_id: str | None = None,
                   services: Any = None, lang: str | None = None) -> list[TurnResult]:
    """Play every turn against `engine` and check the replies; raises TranscriptError on a mismatch."""
    options, turns, name = load_transcript(path_or_text)
    uid = user_id or str(options.get("user_id", "U-transcript"))
    default_lang = lang or options.get("lang")
    results: list[TurnResult] = []
    last: list[Message] = []
    for number, turn in enumerate(turns, start=1):
        keys = [k for k in USER_KEYS if k in turn]
        unknown = set(turn) - {*USER_KEYS, "bot", "lang"}
        if len(keys) != 1 or unknown:
            raise TranscriptError(f"{name}, turn {number}: use exactly one of {', '.join(USER_KEYS)} "
                                  f"(and optionally bot, lang); got {sorted(turn)}")
        key, value = keys[0], turn[keys[0]]
        said = f"{key}: {value}"
        if key == "wait":
            _advance(engine, value, name, number)
            replies: list[Message] = []
        else:
            incoming = _incoming(key, value, uid, turn.get("lang", default_lang), last, name, number)
            replies = engine.handle(incoming, services)
            last = replies
        if "bot" in turn:
            _check(turn["bot"], replies, f"{name}, turn {number} ({said})")
        results.append(TurnResult(number, said, replies))
    return results


def _advance(engine: Engine, minutes: Any, name: str, number: int) -> None:
    advance = getattr(engine.clock, "advance", None)
    if advance is None:
        raise TranscriptError(f"{name}, turn {number}: `wait` needs an engine built with a FakeClock")
    advance(minutes=float(minutes))


def _incoming(key: str, value: Any, uid: str, lang: str | None, last: list[Message], name: str,
              number: int) -> Incoming:
    if key == "user":
        return Incoming.from_text(uid, str(value), lang)
    if key == "postback":
        return Incoming.postback(uid, str(value), lang)
    if key == "date":
        picker = next((q for q in _quick_replies(last) if q.kind == "date"), None)
        return Incoming.date(uid, str(value), picker.data if picker else "", lang)
    if key == "location":
        return Incoming(user_id=uid, kind="location", location=dict(value or {}), lang=lang)
    if key == "image":
        return Incoming(user_id=uid, kind="image", media_id=str(value), lang=lang)
    if key == "follow":
        return Incoming.follow(uid, lang)
    return _tap(str(value), uid, lang, last, f"{name}, turn {number}")


def _tap(label: str, uid: str, lang: str | None, last: list[Message], where: str) -> Incoming:
    """Press the quick reply or card button labelled `label` in the previous reply."""
    for option in [*_quick_replies(last), *_buttons(last)]:
        if option.label == label:
            if option.kind == "postback":
                data = option.data if isinstance(option, QuickReply) else option.value
                return Incoming.postback(uid, data, lang)
            if option.kind == "message":
                return Incoming.from_text(uid, option.text if isinstance(option, QuickReply) else option.value, lang)
            raise TranscriptError(f"{where}: “{label}” is a {option.kind} button; use date/location/image")
    offered = [o.label for o in [*_quick_replies(last), *_buttons(last)]]
    raise TranscriptError(f"{where}: no button “{label}” in the last reply (offered: {offered})")


def _quick_replies(messages: list[Message]) -> list[QuickReply]:
    return list(messages[-1].quick_replies) if messages else []


def _buttons(messages: list[Message]) -> list[Button]:
    cards = [c for m in messages for c in (m.cards if isinstance(m, Carousel) else [m] if isinstance(m, Card) else [])]
    return [b for c in cards for b in c.buttons]


# --------------------------------------------------------------------------------- checking


def _check(expected: Any, replies: list[Message], where: str) -> None:
    checks = expected if isinstance(expected, list) else [expected]
    for check in checks:
        if isinstance(check, str):
            check = {"contains": check}
        if not isinstance(check, Mapping) or len(check) != 1 or next(iter(check)) not in CHECKS:
            raise TranscriptError(f"{where}: unknown check {check!r} (use {', '.join(CHECKS)})")
        kind, value = next(iter(check.items()))
        problem = _problem(kind, value, replies)
        if problem:
            raise TranscriptError(f"{where}\n  expected: {kind} {value!r}\n{problem}\n  bot said:\n{show(replies)}")


def _problem(kind: str, value: Any, replies: list[Message]) -> str | None:
    texts = [message_text(m) for m in replies]
    everything = "\n".join(texts)
    labels = [q.label for q in _quick_replies(replies)]
    wanted = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    if kind == "contains":
        missing = [w for w in wanted if w not in everything]
        return f"  missing: {missing}" if missing else None
    if kind == "not_contains":
        found = [w for w in wanted if w in everything]
        return f"  found: {found}" if found else None
    if kind == "equals":
        if str(value) in texts:
            return None
        closest = max(texts, key=lambda s: difflib.SequenceMatcher(None, s, str(value)).ratio(), default="")
        diff = difflib.ndiff(closest.splitlines(), str(value).splitlines())
        return "  diff (- said, + expected):\n" + "\n".join("    " + line for line in diff)
    if kind == "quick_replies":
        missing = [w for w in wanted if w not in labels]
        return f"  quick replies missing: {missing}" if missing else None
    if kind == "no_quick_replies":
        found = [w for w in wanted if w in labels]
        return f"  quick replies offered anyway: {found}" if found else None
    return None if len(replies) == int(value) else f"  got {len(replies)} message(s)"


def show(replies: list[Message]) -> str:
    """The bot's reply as a readable chat log (for failure messages)."""
    if not replies:
        return "    (nothing)"
    lines: list[str] = []
    for i, msg in enumerate(replies, start=1):
        body = message_text(msg).replace("\n", "\n        ")
        lines.append(f"    [{i}] {type(msg).__name__}: {body}")
        if msg.quick_replies:
            lines.append("        quick replies: " + " ".join(f"[{q.label}]" for q in msg.quick_replies))
    return "\n".join(lines)


def transcript_files(folder: str | Path) -> list[Path]:
    """The transcripts of a folder, for `pytest.mark.parametrize`."""
    return sorted(Path(folder).glob("*.yaml"))
