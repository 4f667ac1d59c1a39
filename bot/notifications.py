"""The ledger's domain events, told to the people they concern as LINE pushes.

- a payment or refund: a receipt to the payer and to every staff member of the shop;
- money issued (a grant, points, a coupon), vouchers bought at the counter: a notice;
- a payout ready: a notice to the shop's owners;
- `offer_grant`: the notice of a claim-type grant, with its 受け取る button, to every eligible resident.

Each push carries a retry key derived from what it is about (the entry id, the resident), so an
event published twice, or a retried push, reaches the person once. The client makes it within this
database's installation id (`ledger.installation`): a restored copy's keys are not the original's. Residents who blocked the
account (`reachable` false), card-only residents and residents no longer active get nothing; the
resident who is in the middle of a chat that caused the event (claiming a grant, exchanging
points) gets the bot's reply instead of a second, pushed message.

The notifier listens on the outbox relay's bus (`ledger.outbox`), not on the server's: events
reach it from the table they were stored in with the payment, in the server process or in
`machi notices`. Pushes run on a few threads of their own (see `Dispatcher`), so one slow answer
from LINE does not hold up the rest.
"""
from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select

from bot.dispatcher import Dispatcher
from bot.inbox import Inbox
from bot.sender import Sender
from flows.grant_actions import grant_view, offer_card
from flows.inputs import postback_data
from flows.messages import Button, Card, Message
from flows.present import day, money_name, say, short_day, yen
from flows.present import points as points_text
from ledger.clock import jst_date, utcnow
from ledger.db import Database
from ledger.events import (
    CertificatesSold,
    DomainEvent,
    MessageBus,
    MoneyIssued,
    PaymentCompleted,
    PaymentRefunded,
    PayoutReady,
    PointsExchanged,
)
from ledger.models import Entry, GrantProgram, Merchant, MerchantStaff, MoneyType, Resident, Segment
from ledger.outbox import ORIGIN
from ledger.segments import segment_query
from ledger.services.grants import grant_key
from town import proxies

log = logging.getLogger(__name__)

CHANNELS = {"cpm": ("QRコード（お客さまの画面）", "QR code (customer's screen)"),
            "mpm": ("QRコード（お店のQR）", "QR code (shop's QR)"), "card": ("カード", "Card")}
ISSUED = {"grant": ("給付金が届きました", "A benefit has arrived"), "points": ("ポイントが届きました", "Points have arrived"),
          "coupon": ("クーポンが届きました", "A coupon has arrived")}


MONEY_TYPES_FOR = 60.0  # seconds a money type's names are kept

# Built once: constructing a statement costs more than running it from SQLAlchemy's cache.
_RESIDENT = (select(Resident.line_user_id, Resident.language, Resident.reachable, Resident.status)
             .where(Resident.id == bindparam("resident_id")))
_SHOP = (select(Merchant.name, MerchantStaff.line_user_id, MerchantStaff.role, Resident.language)
         .select_from(Merchant)
         .outerjoin(MerchantStaff, MerchantStaff.merchant_id == Merchant.id)
         .outerjoin(Resident, Resident.line_user_id == MerchantStaff.line_user_id)
         .where(Merchant.id == bindparam("merchant_id")).order_by(MerchantStaff.id))
_MONEY_TYPES = select(MoneyType.code, MoneyType.name, MoneyType.name_en, MoneyType.kind)


@dataclass(frozen=True)
class Person:
    line_user_id: str
    lang: str


class Notifier:
    def __init__(self, db: Database, sender: Sender, dispatcher: Dispatcher, inbox: Inbox) -> None:
        self.db, self.sender, self.dispatcher, self.inbox = db, sender, dispatcher, inbox
        self._money_types: dict[str, tuple[str, str, str]] = {}
        self._money_until = 0.0

    def install(self, bus: MessageBus) -> None:
        handlers: dict[type[DomainEvent], Callable[[Any, str | None], None]] = {
            PaymentCompleted: self.payment, PaymentRefunded: self.refund, MoneyIssued: self.issued,
            PointsExchanged: self.exchanged, CertificatesSold: self.sold,
            PayoutReady: self.payout,
        }
        for event_type, fn in handlers.items():
            bus.subscribe(event_type, self._later(fn))

    def _later(self, fn: Callable[[Any, str | None], None]) -> Callable[[DomainEvent], None]:
        def handler(event: DomainEvent) -> None:
            talking = ORIGIN.get()  # the LINE user whose conversation made the change, if any
            if not self.dispatcher.submit(fn, event, talking):
                log.warning("%s notice dropped: the notice queue stayed full (is LINE answering?)",
                            type(event).__name__)
        return handler

    # ------------------------------------------------------------------ who

    def resident(self, resident_id: int) -> Person | None:
        with self.db.engine.connect() as conn:
            return _person(conn.execute(_RESIDENT, {"resident_id": resident_id}).first())

    def staff(self, merchant_id: int, *, owners_only: bool = False) -> tuple[str, list[Person]]:
        with self.db.engine.connect() as conn:
            return _shop(conn.execute(_SHOP, {"merchant_id": merchant_id}).all(), owners_only)

    def parties(self, resident_id: int, merchant_id: int) -> tuple[Person | None, str, list[Person]]:
        """The payer, the shop's name and its staff, on one connection: a receipt is sent for every
        payment, so its look-ups are a good part of what telling it costs."""
        with self.db.engine.connect() as conn:
            payer = _person(conn.execute(_RESIDENT, {"resident_id": resident_id}).first())
            shop, staff = _shop(conn.execute(_SHOP, {"merchant_id": merchant_id}).all(), owners_only=False)
        return payer, shop, staff

    def _money(self, code: str) -> tuple[str, str, str]:
        """(name, English name, kind) of a money type. Kept for a minute: money types are made and
        renamed by staff a few times a year; a code not yet known is looked up at once."""
        now = time.monotonic()
        if code not in self._money_types or now > self._money_until:
            with self.db.engine.connect() as conn:
                self._money_types = {c: (name, name_en, kind) for c, name, name_en, kind in conn.execute(_MONEY_TYPES)}
            self._money_until = now + MONEY_TYPES_FOR
        return self._money_types.get(code, (code, code, ""))

    def _push(self, person: Person, message: Message, key: str) -> None:
        self.sender.push(person.line_user_id, [message], retry_key=f"{key}:{person.line_user_id}")

    # ------------------------------------------------------------------ what

    def payment(self, ev: PaymentCompleted, talking: str | None) -> None:
        payer, shop, staff = self.parties(ev.resident_id, ev.merchant_id)
        now = ev.at or utcnow()
        if payer is not None:
            lang = payer.lang
            rows = [(say(lang, "お店", "Shop"), shop), (say(lang, "日時", "When"), short_day(now, lang))]
            rows += [(money_name(*self._money(code)[:2], lang), yen(amount, lang))
                     for code, amount in ev.breakdown.items()]
            self._push(payer, Card(title=say(lang, "お支払いが完了しました", "Payment complete"), amount=yen(ev.amount, lang),
                                   rows=rows, alt_text=say(lang, f"{shop}で{yen(ev.amount, lang)}をお支払いしました",
                                                           f"You paid {yen(ev.amount, lang)} at {shop}")),
                       f"receipt:{ev.entry_id}")
        for person in staff:
            lang = person.lang
            how = CHANNELS.get(ev.channel, (ev.channel, ev.channel))
            self._push(person, Card(
                title=say(lang, "お支払いを受け付けました", "Payment received"), amount=yen(ev.amount, lang),
                rows=[(say(lang, "お店", "Shop"), shop), (say(lang, "方法", "By"), say(lang, *how)),
                      (say(lang, "日時", "When"), short_day(now, lang)),
                      (say(lang, "受付番号", "Receipt no."), str(ev.entry_id))],
                alt_text=say(lang, f"{shop}: {yen(ev.amount, lang)}のお支払いを受け付けました",
                             f"{shop}: payment of {yen(ev.amount, lang)} received")), f"shop-receipt:{ev.entry_id}")

    def refund(self, ev: PaymentRefunded, talking: str | None) -> None:
        payer, shop, staff = self.parties(ev.resident_id, ev.merchant_id)
        if payer is not None:
            lang = payer.lang
            self._push(payer, Card(title=say(lang, "返金されました", "Refunded"), amount=yen(ev.amount, lang),
                                   rows=[(say(lang, "お店", "Shop"), shop)],
                                   body=say(lang, "お支払いに使った券に戻りました。", "Back into the money you paid with."),
                                   alt_text=say(lang, f"{shop}から{yen(ev.amount, lang)}が返金されました",
                                                f"{shop} refunded {yen(ev.amount, lang)}")), f"refund:{ev.entry_id}")
        for person in staff:
            lang = person.lang
            self._push(person, Card(title=say(lang, "返金しました", "Refund made"), amount=yen(ev.amount, lang),
                                    rows=[(say(lang, "お店", "Shop"), shop),
                                          (say(lang, "元の受付番号", "Payment no."), str(ev.payment_entry_id))]),
                       f"shop-refund:{ev.entry_id}")

    def issued(self, ev: MoneyIssued, talking: str | None) -> None:
        if ev.reason == "event":  # a check-in: the resident sees the result where they checked in
            return
        person = self.resident(ev.resident_id)
        if person is not None and person.line_user_id != talking:
            self._push(person, self._issued_card(ev, person.lang), f"issued:{ev.entry_id}")
        with self.db.engine.connect() as conn:  # their proxies get it too, labelled with whose it is
            helpers = proxies.contacts(conn, [ev.resident_id]).get(ev.resident_id, [])
            whose = proxies.names(conn, [ev.resident_id]).get(ev.resident_id, "") if helpers else ""
        for helper in helpers:
            if helper.line_user_id != talking:
                self._push(Person(helper.line_user_id, helper.language),
                           self._issued_card(ev, helper.language, whose=whose, for_resident=ev.resident_id),
                           f"issued:{ev.entry_id}:proxy")

    def _issued_card(self, ev: MoneyIssued, lang: str, *, whose: str = "", for_resident: int | None = None) -> Card:
        name, name_en, kind = self._money(ev.money_type)
        shown = money_name(name, name_en, lang)
        title = say(lang, *ISSUED.get(ev.reason, (f"{name}が届きました", f"{shown} has arrived")))
        if whose:
            title = say(lang, f"{whose}さんの{title}", f"{title} (for {whose})")
        amount = points_text(ev.amount, lang) if kind == "point" else yen(ev.amount, lang)
        rows = [(say(lang, "種類", "Kind"), shown)]
        if ev.expires_on:
            rows.append((say(lang, "有効期限", "Valid until"), day(ev.expires_on, lang)))
        see = postback_data(flow="proxy", **{"for": str(for_resident)}) if for_resident else postback_data(flow="balance")
        return Card(title=title, amount=amount, rows=rows,
                    buttons=[Button.postback(say(lang, "残高を見る", "See balance"), see)],
                    alt_text=f"{title}: {shown} {amount}")

    def exchanged(self, ev: PointsExchanged, talking: str | None) -> None:
        person = self.resident(ev.resident_id)
        if person is None or person.line_user_id == talking:
            return
        lang = person.lang
        name, name_en, _kind = self._money(ev.to_type)
        self._push(person, Card(title=say(lang, "ポイントを交換しました", "Points exchanged"), amount=yen(ev.received, lang),
                                rows=[(say(lang, "使ったポイント", "Points used"), points_text(ev.spent, lang)),
                                      (say(lang, "受け取った券", "Received"), money_name(name, name_en, lang))]),
                   f"exchanged:{ev.entry_id}")

    def sold(self, ev: CertificatesSold, talking: str | None) -> None:
        person = self.resident(ev.resident_id)
        if person is None or person.line_user_id == talking:
            return
        lang = person.lang
        self._push(person, Card(title=say(lang, "商品券を購入しました", "Vouchers bought"), amount=yen(ev.face, lang),
                                rows=[(say(lang, "お支払い", "Paid"), yen(ev.price, lang)),
                                      (say(lang, "受け取った額", "Face value"), yen(ev.face, lang))],
                                buttons=[Button.postback(say(lang, "残高を見る", "See balance"), postback_data(flow="balance"))]),
                   f"sold:{ev.entry_id}")

    def payout(self, ev: PayoutReady, talking: str | None) -> None:
        shop, owners = self.staff(ev.merchant_id, owners_only=True)
        for person in owners:
            lang = person.lang
            self._push(person, Card(title=say(lang, "精算のお知らせ", "Payout"), amount=yen(ev.net, lang),
                                    rows=[(say(lang, "お店", "Shop"), shop),
                                          (say(lang, "期間", "Period"),
                                           f"{day(ev.period_start, lang)}〜{day(ev.period_end, lang)}")],
                                    body=say(lang, "登録の口座へお振り込みします。", "It will be paid into your bank account.")),
                       f"payout:{ev.payout_id}")

    # ------------------------------------------------------------------ grant offers

    def offer_grant(self, program_code: str) -> int:
        """Tell every eligible, reachable resident who has neither received it nor been told about a
        claim-type grant; returns how many were told. Safe to run again (after new residents join)."""
        now = utcnow()
        with self.db.session() as s:
            prog = s.execute(select(GrantProgram).where(GrantProgram.code == program_code)).scalar()
            if prog is None or not prog.active or prog.mode != "claim":
                raise ValueError(f"{program_code}: not an active claim-type grant")
            criteria = (s.execute(select(Segment.criteria).where(Segment.id == prog.segment_id)).scalar()
                        if prog.segment_id else None) or {}
            eligible = segment_query(criteria, jst_date(now)).subquery()
            rows = s.execute(select(Resident.id, Resident.line_user_id, Resident.language)
                             .where(Resident.id.in_(select(eligible.c.id)), Resident.line_user_id.is_not(None),
                                    Resident.reachable.is_(True), Resident.status == "active")
                             .order_by(Resident.id)).all()
            received = set(s.execute(select(Entry.idempotency_key).where(
                Entry.idempotency_key.in_([grant_key(prog.code, r.id) for r in rows]))).scalars()) if rows else set()
            todo = [r for r in rows if grant_key(prog.code, r.id) not in received
                    and not self.inbox.seen(_offer_key(prog.code, r.line_user_id))]
            cards = {lang: offer_card(grant_view(s.connection(), prog, todo[0].id, now, lang), lang)
                     for lang in ("ja", "en")} if todo else {}
        by_lang: dict[str, list[str]] = {}
        for r in todo:
            by_lang.setdefault("en" if r.language == "en" else "ja", []).append(r.line_user_id)
        told = 0
        for lang, users in by_lang.items():
            digest = hashlib.sha256("\n".join(users).encode()).hexdigest()[:16]
            if self.sender.multicast(users, [cards[lang]], retry_key_prefix=f"grant-offer:{program_code}:{digest}"):
                for uid in users:
                    self.inbox.once(_offer_key(program_code, uid))
                told += len(users)
        return told + self._offer_to_proxies(prog, segment_query(criteria, jst_date(now)), now)

    def _offer_to_proxies(self, prog: GrantProgram, eligible: Any, now: Any) -> int:
        """The same offer to the proxies of eligible residents who have not received it (card-only elders
        included), labelled 「田中 トメさんの…」, its button claiming it for that resident."""
        told = 0
        with self.db.session() as s:
            ids = list(s.execute(select(Resident.id).where(Resident.id.in_(select(eligible.subquery().c.id)),
                                                           Resident.status == "active")).scalars())
            helpers = proxies.contacts(s.connection(), ids)
            whose = proxies.names(s.connection(), list(helpers))
            received = set(s.execute(select(Entry.idempotency_key).where(
                Entry.idempotency_key.in_([grant_key(prog.code, rid) for rid in helpers]))).scalars()) if helpers else set()
            todo = [(rid, h) for rid, hs in helpers.items() if grant_key(prog.code, rid) not in received for h in hs]
            cards = {(rid, h.language): offer_card(grant_view(s.connection(), prog, rid, now, h.language), h.language,
                                                   whose=whose[rid], for_resident=rid) for rid, h in todo}
        for rid, h in todo:
            key = f"{_offer_key(prog.code, h.line_user_id)}:for:{rid}"
            if self.inbox.seen(key):
                continue
            if self.sender.push(h.line_user_id, [cards[(rid, h.language)]], retry_key=key):
                self.inbox.once(key)
                told += 1
        return told


def _person(row: Any) -> Person | None:
    """Who gets a resident's notices: nobody for card-only, blocked or departed residents."""
    if row is None or not row.line_user_id or not row.reachable or row.status != "active":
        return None
    return Person(row.line_user_id, row.language or "ja")


def _shop(rows: list[Any], owners_only: bool) -> tuple[str, list[Person]]:
    """The shop's name and its staff (or owners), each once, in the order they were added."""
    people: dict[str, Person] = {}
    for row in rows:
        if row.line_user_id and (row.role == "owner" or not owners_only):
            people.setdefault(row.line_user_id, Person(row.line_user_id, row.language or "ja"))
    return (rows[0].name or "" if rows else ""), list(people.values())


def _offer_key(program_code: str, line_user_id: str) -> str:
    return f"grant-offer:{program_code}:{line_user_id}"
