"""地域ポイント: an event's check-in credits its points once per resident inside the window.

Once per resident: the entry's idempotency key (event, resident) is unique in the database. The
capacity is counted only after the event's row is locked (PostgreSQL; SQLite's write transaction is
taken up front), so residents checking in at once are admitted one after another, never over it.
An event marked rotating takes only a genuine rotating code from the venue's screen (`token`,
checked with `codes`: ledger/event_codes.py), never its plain code.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from ledger.errors import AlreadyDone, InvalidInput, NotFound, OutsideWindow, ScreenCodeRequired
from ledger.event_codes import RotatingCodes
from ledger.events import EventCheckedIn, MoneyIssued
from ledger.journal import find_replay
from ledger.models import Entry, Event, MoneyType
from ledger.services.issuing import IssueResult, _credit_from_issuer
from ledger.uow import Tx, UnitOfWork, request_fingerprint


def check_event_money(mt: MoneyType) -> None:
    """What an event pays: points, a coupon or a grant, never a prepaid voucher (money residents buy)."""
    if mt.kind == "prepaid":
        raise InvalidInput(f"「{mt.name}」は販売する商品券（前払式）です。イベントで配れるのはポイント・クーポン・"
                           "給付券の券種です。")


def check_in(uow: UnitOfWork, *, event_code: str, resident_id: int, actor: str = "", token: str | None = None,
             codes: RotatingCodes | None = None) -> IssueResult:
    """`token`: the rotating part of a scanned screen code (`<step>.<sig>`), which a rotating event requires."""
    code = (event_code or "").strip().upper()

    def work(tx: Tx) -> IssueResult:
        ev = tx.session.execute(select(Event).where(func.upper(Event.code) == code)).scalar()
        if ev is None:
            raise NotFound("このコードのイベントは見つかりません。コードをお確かめください。",
                           message_en="No event has this code. Please check it.")
        require_screen_code(ev, token, codes)
        if ev.capacity is not None:
            lock_event(tx, ev.id)  # before the replay look too: a resident already in hears so, not "full"
        key = f"event:{ev.id}:{resident_id}"
        fp = request_fingerprint({"op": "checkin", "e": ev.id, "r": resident_id})
        name_en = ev.name_en or ev.name
        if find_replay(tx, key, fp) is not None:
            raise AlreadyDone(f"「{ev.name}」のポイントはすでに受け取っています。",
                              message_en=f"You already have the points for {name_en}.")
        if tx.now < ev.starts_at:
            raise OutsideWindow(f"「{ev.name}」の受付はまだ始まっていません。",
                                message_en=f"Check-in for {name_en} has not started yet.")
        if tx.now >= ev.ends_at:
            raise OutsideWindow(f"「{ev.name}」の受付は終了しました。", message_en=f"Check-in for {name_en} has closed.")
        if ev.capacity is not None:
            taken = tx.conn.execute(select(func.count()).select_from(Entry).where(Entry.ref == f"event:{ev.id}")
                                    ).scalar_one()
            if taken >= ev.capacity:
                raise OutsideWindow(f"「{ev.name}」は定員に達しました。", message_en=f"{name_en} is full.")
        mt = tx.session.execute(select(MoneyType).where(MoneyType.id == ev.money_type_id)).scalar_one()
        res = _credit_from_issuer(tx, kind="issue", resident_id=resident_id, mt=mt, amount=ev.points, key=key,
                                  fp=fp, ref=f"event:{ev.id}", actor=actor or f"resident:{resident_id}",
                                  memo=ev.name)
        tx.events.append(MoneyIssued(res.entry_id, resident_id, mt.code, ev.points, "event", f"event:{ev.id}",
                                     res.expires_on))
        tx.events.append(EventCheckedIn(res.entry_id, resident_id, ev.code, ev.points, tx.now))
        return res

    return uow.run(work)


def require_screen_code(ev: Any, token: str | None, codes: RotatingCodes | None) -> None:
    """A rotating event's check-in needs the live code of its screen: the plain code is refused.

    `ev`: the event (a model or a row with `code` and `rotating`)."""
    if ev.rotating and (codes is None or not codes.verify(ev.code, token)):
        raise ScreenCodeRequired()


def lock_event(tx: Tx, event_id: int) -> None:
    """Whoever counts the event's check-ins holds its row until the check-in commits (PostgreSQL)."""
    if not tx.sqlite:
        tx.conn.execute(select(Event.id).where(Event.id == event_id).with_for_update()).one()
