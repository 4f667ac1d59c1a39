"""Outgoing messages as plain data, so flows never depend on a chat platform's SDK.

The `bot` layer renders these (Text with quick replies, Card as a Flex bubble, Carousel,
Confirm template, OpenLiff as a button to a LIFF page). Limits worth knowing when building
them: 13 quick replies, 20 characters per quick-reply label, 5 messages per reply.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from flows.i18n import t

__all__ = [
    "Button", "Card", "Carousel", "Confirm", "Message", "OpenLiff", "QuickReply", "Text",
    "message_text", "t",
]

MAX_QUICK_REPLIES = 13
MAX_LABEL = 20

QuickKind = Literal["postback", "message", "date", "location", "camera", "camera_roll"]


@dataclass
class QuickReply:
    """One quick-reply chip: a postback (data), a message (text), a date picker or a media button.

    For `date`, `data` is posted back with the picked date; `min`/`max`/`initial` are ISO dates.
    """

    label: str
    kind: QuickKind = "postback"
    data: str = ""
    text: str = ""
    display_text: str = ""
    min: str | None = None
    max: str | None = None
    initial: str | None = None

    @classmethod
    def postback(cls, label: str, data: str, display_text: str | None = None) -> QuickReply:
        return cls(label=label, kind="postback", data=data, display_text=display_text or label)

    @classmethod
    def message(cls, label: str, text: str | None = None) -> QuickReply:
        return cls(label=label, kind="message", text=text or label)

    @classmethod
    def date_picker(cls, label: str, data: str, *, min: str | None = None, max: str | None = None,
                    initial: str | None = None) -> QuickReply:
        return cls(label=label, kind="date", data=data, min=min, max=max, initial=initial)

    @classmethod
    def location(cls, label: str) -> QuickReply:
        return cls(label=label, kind="location")

    @classmethod
    def camera(cls, label: str) -> QuickReply:
        return cls(label=label, kind="camera")

    @classmethod
    def camera_roll(cls, label: str) -> QuickReply:
        return cls(label=label, kind="camera_roll")


Choice = QuickReply  # the brief's name for a choice chip; same object

ButtonKind = Literal["postback", "uri", "liff", "message"]


@dataclass
class Button:
    """A footer button: `value` is postback data, a URL, a LIFF path or a message text."""

    label: str
    kind: ButtonKind = "postback"
    value: str = ""
    display_text: str = ""
    style: Literal["primary", "secondary", "link"] = "primary"

    @classmethod
    def postback(cls, label: str, data: str, *, display_text: str | None = None,
                 style: Literal["primary", "secondary", "link"] = "primary") -> Button:
        return cls(label, "postback", data, display_text or label, style)

    @classmethod
    def uri(cls, label: str, uri: str, style: Literal["primary", "secondary", "link"] = "link") -> Button:
        return cls(label, "uri", uri, style=style)

    @classmethod
    def liff(cls, label: str, path: str, style: Literal["primary", "secondary", "link"] = "primary") -> Button:
        return cls(label, "liff", path, style=style)


@dataclass
class Text:
    text: str
    quick_replies: list[QuickReply] = field(default_factory=list)


@dataclass
class Card:
    """A channel-neutral bubble: a title, an optional big amount line, rows and buttons."""

    title: str
    amount: str = ""
    rows: list[tuple[str, str]] = field(default_factory=list)
    body: str = ""
    buttons: list[Button] = field(default_factory=list)
    alt_text: str = ""
    emphasis: str = "#1E7B4F"  # the town's green; the renderer may map it to a theme
    quick_replies: list[QuickReply] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.alt_text:
            self.alt_text = (self.title + (" " + self.amount if self.amount else ""))[:400]


@dataclass
class Carousel:
    cards: list[Card]
    alt_text: str = ""
    quick_replies: list[QuickReply] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.alt_text:
            self.alt_text = " / ".join(c.title for c in self.cards)[:400]


@dataclass
class Confirm:
    """A yes/no question with two buttons (LINE's confirm template: text ≤ 240 characters)."""

    question: str
    yes_label: str = "はい"
    yes_data: str = "answer=yes"
    no_label: str = "いいえ"
    no_data: str = "answer=no"
    alt_text: str = ""
    quick_replies: list[QuickReply] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.alt_text:
            self.alt_text = self.question[:400]


@dataclass
class OpenLiff:
    """A short text with one button that opens a LIFF page at `path` (e.g. '/liff/pay')."""

    path: str
    label: str
    text: str
    quick_replies: list[QuickReply] = field(default_factory=list)


Message: TypeAlias = Text | Card | Carousel | Confirm | OpenLiff


def message_text(msg: Message) -> str:
    """Everything a person would read in a message, as plain text (tests, logs of flows, alt text)."""
    if isinstance(msg, Text):
        return msg.text
    if isinstance(msg, Card):
        parts = [msg.title, msg.amount, msg.body, *(f"{k}: {v}" for k, v in msg.rows),
                 *(b.label for b in msg.buttons)]
        return "\n".join(p for p in parts if p)
    if isinstance(msg, Carousel):
        return "\n---\n".join(message_text(c) for c in msg.cards)
    if isinstance(msg, Confirm):
        return f"{msg.question}\n[{msg.yes_label}] [{msg.no_label}]"
    if isinstance(msg, OpenLiff):
        return f"{msg.text}\n[{msg.label}]"
    raise TypeError(f"not a message: {msg!r}")
