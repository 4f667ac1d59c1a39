"""Channel-neutral messages (`flows.messages`) → LINE message JSON.

Designed for older eyes: Flex bubbles with large type (titles `xl`, amounts `3xl`, body `lg`),
near-black text on white, one primary (filled) button per bubble and the others outlined, big
tap targets, and alt text that says what the bubble says (it is what a notification and a
screen reader show). LINE's limits are applied here so a long name can never make LINE refuse
a reply: 13 quick replies, 20-character labels, 300-character postback data, 12 bubbles, 5,000
characters of text.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Any

import budoux

from flows.messages import Button, Card, Carousel, Confirm, Message, OpenLiff, QuickReply, Text

MAX_TEXT = 5000
MAX_ALT = 400  # LINE allows 1,500; notifications show far less, so say it in the first lines
MAX_LABEL = 20
MAX_QUICK_REPLIES = 13
MAX_BUBBLES = 12
MAX_DATA = 300
MAX_DISPLAY_TEXT = 300

INK = "#111111"  # body text: ~18:1 on white
SUBTLE = "#333333"  # labels: still ~12:1, never light grey
LINE_GREY = "#BBBBBB"
BRAND = "#1E7B4F"  # the town's green: 5.6:1 on white, white text on it reads well


@dataclass(frozen=True)
class Renderer:
    """Renders for one LIFF app (OpenLiff buttons become https://liff.line.me/<liff_id>/<path>)."""

    liff_id: str

    def messages(self, messages: list[Message]) -> list[dict[str, Any]]:
        return [self.message(m) for m in messages]

    def message(self, msg: Message) -> dict[str, Any]:
        if isinstance(msg, Text):
            out: dict[str, Any] = {"type": "text", "text": _clip(msg.text or " ", MAX_TEXT)}
        elif isinstance(msg, Card):
            out = self._flex(msg.alt_text or msg.title, self.bubble(msg))
        elif isinstance(msg, Carousel):
            bubbles = [self.bubble(c) for c in msg.cards[:MAX_BUBBLES]]
            out = self._flex(msg.alt_text, {"type": "carousel", "contents": bubbles})
        elif isinstance(msg, Confirm):
            out = self._flex(msg.alt_text, self._confirm_bubble(msg))
        elif isinstance(msg, OpenLiff):
            out = self._flex(f"{msg.text}\n[{msg.label}]", self._liff_bubble(msg))
        else:
            raise TypeError(f"cannot render {type(msg).__name__}")
        replies = [self.quick_reply(q) for q in msg.quick_replies[:MAX_QUICK_REPLIES]]
        if replies:
            out["quickReply"] = {"items": replies}
        return out

    # ------------------------------------------------------------------ flex

    @staticmethod
    def _flex(alt: str, contents: dict[str, Any]) -> dict[str, Any]:
        return {"type": "flex", "altText": _clip(alt.strip() or "まちウォレット", MAX_ALT), "contents": contents}

    def bubble(self, card: Card) -> dict[str, Any]:
        colour = card.emphasis or BRAND
        body: list[dict[str, Any]] = [_title(card.title)]
        if card.amount:
            body.append(_amount(card.amount, colour))
        if card.rows:
            body.append({"type": "separator", "margin": "lg", "color": LINE_GREY})
            body += [_row(label, value) for label, value in card.rows]
        if card.body:
            body.append(_text(card.body, size="lg", color=INK, margin="lg"))
        bubble: dict[str, Any] = {
            "type": "bubble", "size": "giga",
            "body": {"type": "box", "layout": "vertical", "spacing": "sm", "paddingAll": "xl", "contents": body},
        }
        buttons = [self.button(b, colour, primary=i == 0 and b.style == "primary")
                   for i, b in enumerate(card.buttons[:4])]
        if buttons:
            bubble["footer"] = {"type": "box", "layout": "vertical", "spacing": "md", "paddingAll": "lg",
                                "contents": buttons}
        return bubble

    def _confirm_bubble(self, msg: Confirm) -> dict[str, Any]:
        """A yes/no question as a bubble rather than LINE's confirm template: the template's small
        type is hard to read, and its two side-by-side buttons are easy to mistake."""
        return self.bubble(Card(title=msg.question, buttons=[
            Button.postback(msg.yes_label, msg.yes_data),
            Button.postback(msg.no_label, msg.no_data, style="secondary"),
        ]))

    def _liff_bubble(self, msg: OpenLiff) -> dict[str, Any]:
        return self.bubble(Card(title=msg.text, buttons=[Button.liff(msg.label, msg.path)]))

    def button(self, b: Button, colour: str, *, primary: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "button", "action": self.action(b.kind, b.label, b.value, b.display_text),
                               "height": "md"}
        if primary:
            out.update(style="primary", color=colour)
        else:
            out.update(style="secondary" if b.style != "link" else "link")
        return out

    def action(self, kind: str, label: str, value: str, display_text: str = "") -> dict[str, Any]:
        label = _clip(label, MAX_LABEL)
        if kind == "postback":
            action: dict[str, Any] = {"type": "postback", "label": label, "data": _data(value)}
            action["displayText"] = _clip(display_text or label, MAX_DISPLAY_TEXT)
            return action
        if kind == "message":
            return {"type": "message", "label": label, "text": _clip(value or label, MAX_DISPLAY_TEXT)}
        if kind == "liff":
            return {"type": "uri", "label": label, "uri": self.liff_url(value)}
        if kind == "uri":
            return {"type": "uri", "label": label, "uri": value}
        raise ValueError(f"unknown button kind {kind!r}")

    def liff_url(self, path: str) -> str:
        """'/liff/pay', 'liff/pay' and 'pay' all open the LIFF app's `pay` page."""
        rest = path.lstrip("/")
        rest = rest.removeprefix("liff/") if rest != "liff" else ""
        return f"https://liff.line.me/{self.liff_id}/{rest}".rstrip("/")

    # ------------------------------------------------------------------ quick replies

    def quick_reply(self, q: QuickReply) -> dict[str, Any]:
        label = _clip(q.label, MAX_LABEL)
        if q.kind == "date":
            action: dict[str, Any] = {"type": "datetimepicker", "label": label, "data": _data(q.data or "date=1"),
                                      "mode": "date"}
            action.update({k: v for k, v in (("initial", q.initial), ("min", q.min), ("max", q.max)) if v})
            _keep_initial_in_range(action)
        elif q.kind == "location":
            action = {"type": "location", "label": label}
        elif q.kind == "camera":
            action = {"type": "camera", "label": label}
        elif q.kind == "camera_roll":
            action = {"type": "cameraRoll", "label": label}
        elif q.kind == "message":
            action = self.action("message", label, q.text)
        else:
            action = self.action("postback", label, q.data, q.display_text)
        return {"type": "action", "action": action}


# ---------------------------------------------------------------------- pieces


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "text", "text": _clip(text or " ", 2000), "wrap": True} | style


# How many full-width characters one line of a giga bubble's body holds on a narrow phone (360 px
# across: about 210 px of text once the chat's margins and the bubble's padding are taken off), by
# type size. Half-width characters (digits, commas) count a little over half. Measured in the
# simulator (tests/simulator/test_residents_view_browser.py).
FITS = {"lg": 11.0, "xl": 9.0, "xxl": 7.0, "3xl": 5.8}
# A row fits side by side when label and value together fit one `lg` line.
ROW_FITS = FITS["lg"]


def _row(label: str, value: str) -> dict[str, Any]:
    """A label and its value: side by side when both fit on one line of a narrow phone, else the
    value on a line of its own under the label. The value never shares a line it cannot fit, so
    「500ポイント」 or a name is never broken in the middle of a word."""
    if _width(label) + _width(value) <= ROW_FITS:
        return {"type": "box", "layout": "horizontal", "spacing": "md", "margin": "md", "contents": [
            _text(label, size="lg", color=SUBTLE, flex=1),
            _text(value, size="lg", color=INK, weight="bold", align="end", flex=0, wrap=False),
        ]}
    return {"type": "box", "layout": "vertical", "margin": "md", "contents": [
        _text(label, size="md", color=SUBTLE),
        _text(_fit(value, FITS["lg"]), size="lg", color=INK, weight="bold"),
    ]}


def _title(title: str) -> dict[str, Any]:
    """The card's title in large type on one line where it fits (`xl`, else `lg`); a longer one is
    broken between phrases, and a phrase too long for a line of `xl` is set in `lg` rather than
    broken in the middle."""
    if _width(title) <= FITS["xl"] or _width(title) > FITS["lg"]:
        size = "xl" if _longest_phrase(title) <= FITS["xl"] else "lg"
    else:
        size = "lg"
    return _text(_fit(title, FITS[size]), size=size, weight="bold", color=INK)


def _amount(amount: str, colour: str) -> dict[str, Any]:
    """The big figure: 3xl when it fits one line of a narrow phone, else a size down (「12,500ポイント」)."""
    size = next((s for s in ("3xl", "xxl", "xl") if _width(amount) <= FITS[s]), "lg")
    return _text(_fit(amount, FITS[size]), size=size, weight="bold", color=colour, margin="md")


def _width(text: str) -> float:
    """How wide a text is, in full-width characters."""
    return sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.55 for c in text)


_WIDE = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]")


_ASCII_WORD = re.compile(r"[0-9A-Za-z,.:/¥%+\-−]")


@cache
def _japanese_phrases() -> budoux.Parser:
    return budoux.load_default_japanese_parser()


def _phrases(text: str) -> list[str]:
    """Japanese split into phrases (BudouX), spaces kept at the end of the phrase before them."""
    out: list[str] = []
    for token in re.split(r"(\s+)", text):
        if not token:
            continue
        if token.isspace():
            if out:
                out[-1] += token
            continue
        for phrase in _japanese_phrases().parse(token) if _WIDE.search(token) else [token]:
            if out and _ASCII_WORD.match(out[-1][-1]) and _ASCII_WORD.match(phrase[0]):
                out[-1] += phrase  # BudouX may split a number (「昭和2／0年」): keep digits together
            else:
                out.append(phrase)
    return out


def _longest_phrase(text: str) -> float:
    return max((_width(p.strip()) for p in _phrases(text)), default=0.0)


def _fit(text: str, fits: float) -> str:
    """Japanese text longer than a line, broken into lines between phrases, never inside a word:
    LINE breaks Japanese at any character, so the lines are set here. English is left to LINE,
    which breaks it at spaces."""
    if not _WIDE.search(text):
        return text
    lines: list[str] = []
    for paragraph in text.split("\n"):
        if _width(paragraph) <= fits:
            lines.append(paragraph)
            continue
        line = ""
        for phrase in _phrases(paragraph):
            if line and _width((line + phrase).rstrip()) > fits:
                lines.append(line.rstrip())
                line = phrase.lstrip()
            else:
                line += phrase
        lines.append(line.rstrip())
    return "\n".join(lines)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _data(data: str) -> str:
    if len(data) > MAX_DATA:
        raise ValueError("postback data over 300 characters")
    return data


def _keep_initial_in_range(action: dict[str, Any]) -> None:
    """LINE refuses a date picker whose initial date lies outside min..max."""
    initial = action.get("initial")
    if initial is None:
        return
    if action.get("min") and initial < action["min"]:
        action["initial"] = action["min"]
    if action.get("max") and initial > action["max"]:
        action["initial"] = action["max"]
