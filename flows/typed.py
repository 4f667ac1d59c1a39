"""What a resident typed, matched to a flow or an FAQ answer.

Residents type the same thing many ways: ザンダカ, ざんだか, 残高, ｻﾞﾝﾀﾞｶ, 残高おしえて, ざんだっか. Each
phrase is compared twice: as written (NFKC, case folded, katakana as hiragana) and as read (kanji
turned into hiragana by `pykakasi`), so 「ごみのひ」 finds 「ゴミの日」 and 「ばす」 finds 「バス」.
`rapidfuzz` scores the near misses (typos, a longer sentence around a known phrase); a phrase found
whole inside the message beats a fuzzy one, and a longer phrase beats a shorter one, so
「ポイント交換したい」 is the exchange, not the points card.
"""
from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import jaconv
from rapidfuzz import fuzz

from flows.faq import Faq, FaqEntry
from flows.i18n import pick
from flows.spec import FlowSpec

THRESHOLD = 74.0  # below this score nothing fits, and the fallback answers
_NOT_WORD = re.compile(r"[^\w\u3040-\u30ff\u4e00-\u9fff]+")
_ASCII = re.compile(r"[a-z0-9 ]+")


def fold(text: str) -> str:
    """The written form compared: NFKC (width), case folded, katakana as hiragana, no punctuation."""
    s = unicodedata.normalize("NFKC", text or "").casefold()
    s = jaconv.kata2hira(s)
    return _NOT_WORD.sub(" ", s).strip()


class _Reader:
    """Kanji → hiragana readings. pykakasi loads its dictionary once (about half a second), on first use."""

    def __init__(self) -> None:
        self._kakasi = None
        self._lock = threading.Lock()

    def read(self, folded: str) -> str:
        if not folded or folded.isascii():
            return folded
        with self._lock:
            if self._kakasi is None:
                import pykakasi  # noqa: PLC0415 - half a second of dictionary: only when someone types

                self._kakasi = pykakasi.kakasi()
            parts = self._kakasi.convert(folded)
        return "".join(p["hira"] for p in parts)


_READER = _Reader()


def _key(text: str) -> tuple[str, str]:
    """(written, read), both without spaces unless the text is plain ASCII (English words). Not cached:
    what residents type may be personal and is kept nowhere."""
    folded = fold(text)
    if _ASCII.fullmatch(folded):
        return folded, folded
    written = folded.replace(" ", "")
    return written, _READER.read(written)


def same_words(a: str, b: str) -> bool:
    """The same words however written: ぜんぶ / 全部 / ゼンブ, 2セット / ２せっと."""
    ka, kb = _key(a), _key(b)
    return bool(ka[0]) and (ka[0] == kb[0] or ka[1] == kb[1])


@dataclass(frozen=True)
class Target:
    """Where a typed message leads: a flow to start, or an FAQ entry to answer."""

    flow: str | None = None
    entry: FaqEntry | None = None


@dataclass(frozen=True)
class Hit:
    target: Target
    phrase: str
    score: float


@dataclass(frozen=True)
class _Phrase:
    written: str
    read: str
    target: Target
    source: str


class TypedMatcher:
    """Every phrase that leads somewhere (FAQ `says`, flow keywords and menu labels), ready to score."""

    def __init__(self, flows: Iterable[FlowSpec], faq: Faq | None) -> None:
        phrases: list[_Phrase] = []
        for flow in flows:
            words = [*flow.keywords, *((pick(flow.title, lang) for lang in ("ja", "en")) if flow.menu else ())]
            phrases += [self._phrase(w, Target(flow=flow.id)) for w in words]
        for entry in faq.entries if faq else ():
            target = Target(flow=entry.flow) if entry.flow else Target(entry=entry)
            phrases += [self._phrase(w, target) for w in entry.says]
        self.phrases = [p for p in phrases if p.written]

    @staticmethod
    def _phrase(text: str, target: Target) -> _Phrase:
        written, read = _key(text)
        return _Phrase(written, read, target, text)

    def match(self, text: str) -> Hit | None:
        """The best target for `text`, or None when nothing scores above the threshold."""
        written, read = _key(text[:200])
        if not written:
            return None
        best: Hit | None = None
        best_rank = (0.0, 0)
        for p in self.phrases:
            score = max(_score(written, p.written), _score(read, p.read))
            rank = (score, len(p.written))
            if rank > best_rank:
                best, best_rank = Hit(p.target, p.source, score), rank
        return best if best is not None and best.score >= THRESHOLD else None


def _score(said: str, phrase: str) -> float:
    """100+ for the same words; 85–95 for a phrase found whole (longer scores more); else fuzzy."""
    if not said or not phrase:
        return 0.0
    if said == phrase:
        return 100.0 + min(len(phrase), 10)
    if _contains(said, phrase):
        return 85.0 + min(len(phrase), 10)
    score = fuzz.ratio(said, phrase)
    if len(phrase) >= 3 and len(said) > len(phrase):  # a known phrase, slightly mistyped, in a sentence
        score = max(score, fuzz.partial_ratio(said, phrase) - 10)
    return score


def _contains(said: str, phrase: str) -> bool:
    if phrase.isascii():  # English: whole words only ("hi" is not in "machi")
        return re.search(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])", said) is not None
    return len(phrase) >= 2 and phrase in said


class _Routes(Protocol):
    def by_keyword(self, text: str) -> FlowSpec | None: ...

    def matcher(self) -> TypedMatcher: ...


def destination(registry: _Routes, text: str) -> str:
    """Where `text`, typed with nothing running, leads: a flow id, `faq:<entry id>` or `fallback`.
    The engine's own order (a keyword or menu label, then the matcher), named for tests and the bench."""
    flow = registry.by_keyword(text)
    if flow is not None:
        return flow.id
    hit = registry.matcher().match(text)
    if hit is None:
        return "fallback"
    return hit.target.flow or f"faq:{hit.target.entry.id if hit.target.entry else '?'}"
