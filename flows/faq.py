"""Questions residents type, as data: staff keep `flows/faq.yaml` (or their own file) and restart.

Each entry lists what people say (`says`, any language, kana or kanji, the matcher forgives width,
kana and small typos) and either a short `answer` or a `flow` to start. `fallback` is what the bot
says when nothing fits: the town's phone number and a few well-chosen buttons. The file is checked
when it is loaded, so a typo is an error at start-up naming the entry, never a confused resident.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from flows.i18n import pick
from flows.spec import FlowSpecError, LocalText
from flows.yaml_loaders import load_flow_yaml

FAQ_FILE = Path(__file__).parent / "faq.yaml"
MAX_CHIPS = 4  # a few buttons a resident can read at a glance, not the whole menu
_ID = re.compile(r"[a-z][a-z0-9_]{0,47}")


@dataclass(frozen=True)
class FaqEntry:
    """One question: the ways people ask it, and a short answer or a flow to start."""

    id: str
    says: tuple[str, ...]
    answer: LocalText | None = None
    flow: str | None = None
    chips: tuple[str, ...] = ()  # flows offered under the answer; the first few this person may use are shown


@dataclass(frozen=True)
class Faq:
    entries: tuple[FaqEntry, ...]
    fallback: LocalText
    chips: tuple[str, ...]  # flows offered with the fallback, in order; the first few allowed are shown
    phone: str = ""
    source: str = ""

    def text(self, value: LocalText | None, lang: str) -> str:
        """A text of this file in `lang`, with `{phone}` filled in."""
        return pick(value, lang).replace("{phone}", self.phone)

    def flow_ids(self) -> set[str]:
        """Every flow the file names (checked against the loaded flows)."""
        return {*self.chips, *(e.flow for e in self.entries if e.flow), *(c for e in self.entries for c in e.chips)}


def load_faq(path: str | Path = FAQ_FILE) -> Faq:
    path = Path(path)
    try:
        raw = load_flow_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise FlowSpecError(f"{path}: cannot read the FAQ: {e}") from None
    return parse_faq(raw, str(path))


def parse_faq(raw: Any, source: str = "<faq>") -> Faq:
    if not isinstance(raw, Mapping):
        raise FlowSpecError(f"{source}: the FAQ must be a mapping with phone, fallback and entries")
    _only(raw, {"phone", "fallback", "entries"}, source)
    fallback = raw.get("fallback")
    if not isinstance(fallback, Mapping) or "text" not in fallback:
        raise FlowSpecError(f"{source}: `fallback` needs a `text` (and `chips`: flows to offer)")
    _only(fallback, {"text", "chips"}, f"{source}: fallback")
    entries = raw.get("entries")
    if not isinstance(entries, list) or not entries:
        raise FlowSpecError(f"{source}: `entries` must be a non-empty list")
    parsed = [_entry(e, f"{source}: entry {i + 1}") for i, e in enumerate(entries)]
    ids = [e.id for e in parsed]
    if len(set(ids)) != len(ids):
        raise FlowSpecError(f"{source}: two entries have the same id ({sorted({i for i in ids if ids.count(i) > 1})})")
    return Faq(entries=tuple(parsed), fallback=_text(fallback["text"], f"{source}: fallback `text`"),
               chips=_words(fallback.get("chips", []), f"{source}: fallback `chips`"),
               phone=str(raw.get("phone") or ""), source=source)


def _entry(raw: Any, where: str) -> FaqEntry:
    if not isinstance(raw, Mapping):
        raise FlowSpecError(f"{where}: an entry is a mapping with id, says and answer or flow")
    _only(raw, {"id", "says", "answer", "flow", "chips"}, where)
    entry_id = raw.get("id")
    if not isinstance(entry_id, str) or not _ID.fullmatch(entry_id):
        raise FlowSpecError(f"{where}: `id` must be lower-case letters, digits and _ (got {entry_id!r})")
    where = f"{where} ({entry_id})"
    says = _words(raw.get("says"), f"{where}: `says`")
    if not says:
        raise FlowSpecError(f"{where}: `says` lists what residents type")
    if ("answer" in raw) == ("flow" in raw):
        raise FlowSpecError(f"{where}: give either an `answer` or a `flow` to start")
    answer = _text(raw["answer"], f"{where}: `answer`") if "answer" in raw else None
    flow = raw.get("flow")
    if flow is not None and not isinstance(flow, str):
        raise FlowSpecError(f"{where}: `flow` is a flow id")
    chips = _words(raw.get("chips", []), f"{where}: `chips`")
    return FaqEntry(id=entry_id, says=says, answer=answer, flow=flow, chips=chips)


def _words(raw: Any, where: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(w, str | int) and str(w).strip() for w in raw):
        raise FlowSpecError(f"{where} must be a list of words")
    return tuple(str(w).strip() for w in raw)


def _text(raw: Any, where: str) -> LocalText:
    if isinstance(raw, str) and raw.strip():
        return raw
    if isinstance(raw, Mapping) and raw.get("ja") and set(raw) <= {"ja", "en"}:
        return {k: str(v) for k, v in raw.items()}
    raise FlowSpecError(f"{where} must be a text, or {{ja: ..., en: ...}} with at least ja")


def _only(raw: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(map(str, raw)) - allowed)
    if unknown:
        raise FlowSpecError(f"{where}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})")
