"""Relink from the chat: a new LINE account proves with the card's number and PIN (the PIN check's
lockout counts every miss) that the wallet is theirs, and the wallet moves to it (`town.relink`).

After the move the old account's conversation is forgotten and both accounts get their rich menus
through the optional hook `after_relink(user_id)` the bot passes (the same linking as registration).
"""
from __future__ import annotations

import logging
from typing import Any

from flows.actions import action
from flows.context import ActionContext, ActionResult
from flows.errors import ActionError
from flows.messages import Text
from flows.residents import db_of, lookup
from flows.state import DbStateStore
from ledger.cards import check_pin_format, normalize_number, verify_pin
from ledger.errors import AlreadyDone, InvalidInput, NotAllowed, WrongPin
from ledger.models import Card, Resident
from town import relink as relinking

log = logging.getLogger(__name__)

_TAKEN = ("このLINEアカウントは、すでに登録されています。スマホを替えたときは、前のLINEのお財布を役場の窓口で引き継げます。",
          "This LINE account is already registered. The town office can move a wallet from your old LINE account.")
_CANNOT = ("このカードのお財布は、いまは引き継げません。役場の窓口にお問い合わせください。",
           "This card's wallet cannot be moved now. Please contact the town office.")


@action("relink_check")
def relink_check(ctx: ActionContext) -> ActionResult:
    """Card number and PIN (each miss counts toward the card's lock); then whose wallet it is."""
    if lookup(db_of(ctx), ctx.user_id) is not None:
        raise ActionError(*_TAKEN)
    try:
        number = normalize_number(str(ctx.answers.get("card_number", "")))
    except InvalidInput as e:
        return _again(ctx, e, "card_number")
    try:
        holder = verify_pin(db_of(ctx), number, check_pin_format(str(ctx.answers.get("pin", ""))), now=ctx.now)
    except (WrongPin, InvalidInput) as e:  # a locked card (CardLocked) ends the flow with its message
        return _again(ctx, e, "pin")
    with db_of(ctx).session() as s:
        resident = s.get(Resident, holder.resident_id)
        if resident is None or resident.status != "active":
            raise ActionError(*_CANNOT)
        name = resident.name
    return ActionResult(vars={"name": name, "card_id": holder.card_id, "resident_id": holder.resident_id})


@action("relink_card")
def relink_card(ctx: ActionContext) -> ActionResult:
    """Move the wallet proven by `relink_check` to this LINE account; the old one becomes a guest."""
    card_id, resident_id = ctx.vars.get("card_id"), ctx.vars.get("resident_id")
    with db_of(ctx).session() as s:
        card = s.get(Card, int(card_id)) if card_id is not None else None
        if card is None or card.status != "active" or card.resident_id != resident_id:
            raise ActionError(*_CANNOT)
    try:
        done = relinking.relink(db_of(ctx), int(resident_id), ctx.user_id, actor=f"resident:{resident_id}",
                                via="chat-card")
    except AlreadyDone:
        raise ActionError(*_TAKEN) from None
    except NotAllowed:
        raise ActionError(*_CANNOT) from None
    if done.old_line_user_id:
        DbStateStore(db_of(ctx)).forget(done.old_line_user_id)
    for uid in (done.new_line_user_id, done.old_line_user_id):
        if uid:
            _menu(ctx, uid)
    return ActionResult(vars={"name": done.name})


def _menu(ctx: ActionContext, user_id: str) -> None:
    """Switch one account's rich menu; a failure is logged and fixed by the next deploy."""
    fn = getattr(ctx.services, "after_relink", None)
    if fn is None:
        return
    try:
        fn(user_id)
    except Exception:  # noqa: BLE001 - the wallet has moved; the menu catches up later
        log.exception("after_relink hook failed")


def _again(ctx: ActionContext, error: Any, step: str) -> ActionResult:
    text = getattr(error, "message_en", None) if ctx.lang == "en" else getattr(error, "message", None)
    return ActionResult(messages=[Text(text or str(error))], goto=step)
