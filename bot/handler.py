"""What the bot does with one webhook event.

- a message or postback from a person → the conversation engine (flows), answered by reply
  (or push when the reply token has gone stale); a rich-menu tab switch is ignored;
- follow → a returning resident is welcomed back by name and gets their menu; anyone else gets
  the welcome flow with its 登録する button; unfollow → the resident is marked unreachable
  (no pushes; their money is untouched);
- groups and rooms → a short note that the service is one-to-one (on joining, then at most once a
  day per group);
- everything else (beacons, unsend, member joins, event types LINE adds later) → nothing.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import update

from bot import texts
from bot.events import Received, read, to_incoming
from bot.inbox import Inbox
from bot.line_client import LineApiError, LineClient
from bot.richmenu import MenuLinker
from bot.sender import Sender
from flows import render as flow_render
from flows.engine import Engine
from flows.i18n import norm_lang
from flows.inputs import Incoming, postback_data
from flows.messages import Message, QuickReply
from flows.residents import lookup
from flows.spec import FlowSpec
from ledger.clock import today_jst
from ledger.db import Database
from ledger.models import Resident
from ledger.outbox import ORIGIN

log = logging.getLogger(__name__)

# Flows a guest is not offered in the help menu (they answer "please register" anyway), and the
# ones a registered resident no longer needs.
RESIDENT_ONLY = frozenset({"balance", "history", "points", "grants", "pay", "change_details", "checkin",
                           "points_exchange", "grant_claim", "withdraw"})
GUEST_ONLY = frozenset({"register"})
IGNORED_ACTIONS = frozenset({"switch"})  # rich-menu tabs switch on the phone; the postback is a courtesy


class Handler:
    def __init__(self, db: Database, engine: Engine, services: Any, sender: Sender, inbox: Inbox,
                 linker: MenuLinker, client: LineClient) -> None:
        self.db, self.engine, self.services, self.sender = db, engine, services, sender
        self.inbox, self.linker, self.client = inbox, linker, client

    def handle(self, raw: dict[str, Any]) -> None:
        ev = read(raw)
        if ev.standby:  # another channel owns the chat (module mode): look, do not answer
            return
        if ev.source_type in ("group", "room"):
            return self.group(ev)
        if not ev.one_to_one:
            return
        if ev.type == "follow":
            return self.follow(ev)
        if ev.type == "unfollow":
            return self.unfollow(ev)
        if ev.type in ("message", "postback"):
            incoming = to_incoming(ev)
            if incoming is not None:
                self.converse(ev, incoming)
            return
        log.debug("webhook event %s needs no answer", ev.type)

    # ------------------------------------------------------------------ conversations

    def converse(self, ev: Received, incoming: Incoming) -> None:
        uid = incoming.user_id
        if incoming.kind == "postback" and incoming.data.get("action") in IGNORED_ACTIONS:
            return
        me = lookup(self.db, uid)
        incoming.lang = me.language if me is not None and me.status == "active" else None
        with self.sender.loading(uid):  # the engine holds the user's turn lock (flows.turn_lock)
            token = ORIGIN.set(uid)
            try:
                if self.engine.claims(incoming):
                    messages = self.engine.handle(incoming, self.services)
                else:  # an action no flow takes (an old button): the menu
                    messages = [flow_render.help_message(self.menu_for(self.engine.registry.menu(), uid),
                                                         self._lang(uid, incoming.lang))]
            finally:
                ORIGIN.reset(token)
        self.sender.reply(ev.reply_token, uid, messages)
        self.ensure_menu(uid)

    def _lang(self, uid: str, known: str | None) -> str:
        return norm_lang(known) if known else self.engine.store.load(uid).lang

    def menu_for(self, flows: Iterable[FlowSpec], uid: str) -> list[FlowSpec]:
        """The help menu for this person: guests are offered registration, residents the rest."""
        me = lookup(self.db, uid)
        hidden = GUEST_ONLY if me is not None and me.status == "active" else RESIDENT_ONLY
        return [f for f in flows if f.id not in hidden]

    def menu_replies(self, uid: str, lang: str) -> list[QuickReply]:
        menu = self.menu_for(self.engine.registry.menu(), uid)
        return [QuickReply.postback(f.title_for(lang)[:20], postback_data(flow=f.id)) for f in menu][:13]

    # ------------------------------------------------------------------ follow / unfollow

    def follow(self, ev: Received) -> None:
        uid = ev.user_id
        assert uid is not None
        lang = self._profile_language(uid)
        me = lookup(self.db, uid)
        if me is not None:
            values: dict[str, Any] = {"reachable": True}
            if lang:
                values["language"] = lang
            with self.db.write() as s:
                s.execute(update(Resident).where(Resident.id == me.id).values(**values))
        messages: list[Message]
        if me is not None and me.status == "active":
            shown = norm_lang(lang or me.language)
            messages = [texts.welcome_back(me.name, shown, self.menu_replies(uid, shown))]
            self.link_menu(uid)
        else:
            messages = self.engine.handle(Incoming.follow(uid, lang), self.services)
        self.sender.reply(ev.reply_token, uid, messages)

    def unfollow(self, ev: Received) -> None:
        """Blocked: no more pushes. The money, the registration and the history stay as they are."""
        with self.db.write() as s:
            s.execute(update(Resident).where(Resident.line_user_id == ev.user_id).values(reachable=False))

    def _profile_language(self, uid: str) -> str | None:
        try:
            profile = self.client.get_profile(uid)
        except LineApiError:
            return None
        language = (profile or {}).get("language")
        return norm_lang(language) if language else None

    def ensure_menu(self, uid: str) -> None:
        """After the answer: move this person to the menu they should see now, if that changed
        where the bot could not see it (a shop role given at the counter)."""
        try:
            self.linker.ensure(uid)
        except Exception:  # noqa: BLE001 - a menu is never worth failing a conversation over
            log.warning("rich menu check failed", exc_info=True)

    def link_menu(self, uid: str) -> None:
        try:
            self.linker.link_user(uid)
        except Exception:  # noqa: BLE001 - the default menu still works; the next deploy relinks
            log.warning("rich menu link failed", exc_info=True)

    # ------------------------------------------------------------------ groups and rooms

    def group(self, ev: Received) -> None:
        if ev.chat_id is None:
            return
        if ev.type == "join" or (ev.type in ("message", "postback")
                                 and self.inbox.once(f"group-note:{ev.chat_id}:{today_jst().isoformat()}")):
            self.sender.reply(ev.reply_token, ev.chat_id, [texts.group_note()])


def handle_raw(handler: Handler, raw: Any) -> None:
    """Entry point for one raw event (pool task or inline): never lets an exception escape."""
    try:
        handler.handle(raw if isinstance(raw, dict) else {})
    except Exception:  # noqa: BLE001 - logged without the event body (it may hold a message)
        log.exception("webhook event %s failed", read(raw).type if isinstance(raw, dict) else "?")
