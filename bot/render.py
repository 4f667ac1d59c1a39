"""Channel-neutral messages (`flows.messages`) → LINE message JSON.

Designed for older eyes: Flex bubbles with large type (titles `xl`, amounts `3xl`, body `lg`),
near-black text on white, one primary (filled) button per bubble and the others outlined, big
tap targets, and alt text that says what the bubble says (it is what a notification and a
screen reader show). LINE's limits are applied here so a long name can never make LINE refuse
a reply: 13 quick replies, 20-character labels, 300-character postback data, 12 bubbles, 5,000
characters of text.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

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
        body: list[dict[str, Any]] = [_text(card.title, size="xl", weight="bold", color=INK)]
        if card.amount:
            body.append(_text(card.amount, size="3xl", weight="bold", color=colour, margin="md"))
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


# A row fits side by side when label and value together take no more than this many full-width
# characters: a giga bubble on a narrow phone (about 300 px across, `lg` type at 19 px, padding
# taken off) holds about 13. Half-width characters (digits, commas) count a little over half.
ROW_FITS = 12.5


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
        _text(value, size="lg", color=INK, weight="bold"),
    ]}


def _width(text: str) -> float:
    """How wide a text is, in full-width characters."""
    return sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.55 for c in text)


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
