"""How the town's notices look on a channel: a port. Town says what to tell (a grant one may claim, money
about to end); the channel's adapter (`bot.town_presenter.LinePresenter` for LINE) draws it as a message
of that channel, the same card the chat shows. The town layer never imports the adapter or the flows."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol


@dataclass(frozen=True)
class GrantOffer:
    """A claim-type grant, as its invitation tells it."""

    code: str
    name: str
    amount: int
    mode: str
    money_name: str
    validity_days: int | None
    ends_on: date | None  # the last day to claim


class Presenter(Protocol):
    def grant_offer(self, offer: GrantOffer, lang: str) -> dict[str, Any]:
        """The invitation with its one button, 受け取る, that starts the chat's claim."""
        ...

    def expiry_notice(self, items: list[tuple[str, str, int]], due: date, days_left: int,
                      lang: str | None, whose: str | None = None) -> dict[str, Any]:
        """`items`: (money type name as the resident reads it, its kind, amount) ending on `due`; `whose`
        names the resident when the notice goes to one of their proxies."""
        ...
