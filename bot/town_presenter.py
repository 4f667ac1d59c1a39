"""The LINE face of the town's notices (the port `town.presenter.Presenter`): the chat's own cards,
rendered into LINE messages, so what staff send looks and works like what the chat shows."""
from __future__ import annotations

from datetime import date
from typing import Any

from bot.render import Renderer
from flows.grant_actions import GrantView, offer_card
from flows.reminders import expiry_card
from town.presenter import GrantOffer


class LinePresenter:
    def __init__(self, liff_id: str) -> None:
        self._render = Renderer(liff_id).message

    def grant_offer(self, offer: GrantOffer, lang: str) -> dict[str, Any]:
        view = GrantView(offer.code, offer.name, offer.amount, offer.mode, offer.money_name, offer.validity_days,
                         offer.ends_on, "claimable")
        return self._render(offer_card(view, lang))

    def expiry_notice(self, items: list[tuple[str, str, int]], due: date, days_left: int,
                      lang: str | None, whose: str | None = None) -> dict[str, Any]:
        return self._render(expiry_card(items, due, days_left, lang, whose=whose))
