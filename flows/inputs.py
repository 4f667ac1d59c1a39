"""What a person sent, reduced to the few kinds a conversation cares about.

The `bot` layer turns a LINE event into an `Incoming`: a text message → `text`, a postback →
`postback` (its data parsed into `data`), a postback from a date picker → `date`
(`date_value` is the picked ISO date), a location, an image (its message id in `media_id`),
other media (stickers, video, audio, files: `media`), or a follow. `lang` is the user's LINE language when known.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode

# `media`: a sticker, video, audio or file: nothing a question can take, answered with why.
Kind = Literal["text", "postback", "date", "location", "image", "media", "follow"]


def parse_postback(data: str) -> dict[str, str]:
    """Postback data is a query string ('flow=survey&x=1'); later keys win."""
    return dict(parse_qsl(data or "", keep_blank_values=True))


def postback_data(**values: Any) -> str:
    """The inverse of `parse_postback`, skipping None; LINE allows 300 characters."""
    data = urlencode({k: v for k, v in values.items() if v is not None})
    if len(data) > 300:
        raise ValueError(f"postback data over 300 characters: {data[:40]}...")
    return data


@dataclass
class Incoming:
    user_id: str
    kind: Kind = "text"
    text: str = ""
    data: dict[str, str] = field(default_factory=dict)
    date_value: str | None = None
    lang: str | None = None
    location: dict[str, Any] | None = None  # {title, address, latitude, longitude}
    media_id: str | None = None

    @classmethod
    def from_text(cls, user_id: str, text: str, lang: str | None = None) -> Incoming:
        return cls(user_id=user_id, kind="text", text=text, lang=lang)

    @classmethod
    def postback(cls, user_id: str, data: str | dict[str, str], lang: str | None = None,
                 date_value: str | None = None) -> Incoming:
        parsed = parse_postback(data) if isinstance(data, str) else dict(data)
        kind: Kind = "date" if date_value else "postback"
        return cls(user_id=user_id, kind=kind, data=parsed, date_value=date_value, lang=lang)

    @classmethod
    def date(cls, user_id: str, value: str, data: str | dict[str, str] = "",
             lang: str | None = None) -> Incoming:
        return cls.postback(user_id, data, lang=lang, date_value=value)

    @classmethod
    def follow(cls, user_id: str, lang: str | None = None) -> Incoming:
        return cls(user_id=user_id, kind="follow", lang=lang)
