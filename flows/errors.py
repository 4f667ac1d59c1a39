"""Errors a person sees: each carries the Japanese and the English wording."""
from __future__ import annotations

from flows.i18n import norm_lang


class PersonFacingError(Exception):
    """Base for errors whose message is shown to the resident as is."""

    def __init__(self, message_ja: str, message_en: str | None = None) -> None:
        super().__init__(message_ja)
        self.message_ja = message_ja
        self.message_en = message_en or message_ja

    def message(self, lang: str | None) -> str:
        return self.message_en if norm_lang(lang) == "en" else self.message_ja


class InputError(PersonFacingError):
    """The input could not be understood; the message says why, so the question can be re-asked."""


class ActionError(PersonFacingError):
    """An action refused (already applied, not eligible...); the message is shown and the flow ends
    or goes to the step's `on_error`."""
