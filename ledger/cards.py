"""Plastic cards for residents without a smartphone: number with a check digit, PIN as a slow hash,
locked for 30 minutes after 5 wrong PINs. PIN attempts are counted in their own transaction, so a
wrong PIN is remembered even though the payment it came with is refused.

The card's row is locked before the PIN is checked (SQLite: the write transaction taken up front;
PostgreSQL: SELECT … FOR UPDATE), so PINs sent at once are checked one after another: the fifth
miss locks the card and every later try, the right PIN included, meets the lock unchecked."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ledger.clock import utcnow
from ledger.db import Database
from ledger.errors import AlreadyDone, CardLocked, InvalidInput, NotAllowed, NotFound, WrongPin
from ledger.models import Card
from ledger.registry import lock_resident

STATUS_JA = {"active": "利用中", "replaced": "再発行済み", "stopped": "停止"}
MAX_ATTEMPTS = 5
LOCK_MINUTES = 30
_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


_DIGITS = frozenset("0123456789")


def luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def normalize_number(raw: str) -> str:
    """Accept spaces, hyphens and full-width digits as printed or typed; check the check digit."""
    # ASCII digits only: "²".isdigit() is True but int("²") fails, and "٣" is no digit printed on a card.
    digits = "".join(ch for ch in raw.translate(str.maketrans("０１２３４５６７８９", "0123456789")) if ch in _DIGITS)
    if len(digits) != 12 or luhn_digit(digits[:-1]) != digits[-1]:
        raise InvalidInput("カード番号が正しくありません。カードの番号をお確かめください。",
                           message_en="The card number is not valid.")
    return digits


def check_pin_format(pin: str) -> str:
    pin = (pin or "").translate(str.maketrans("０１２３４５６７８９", "0123456789")).strip()
    if len(pin) != 4 or not all(ch in _DIGITS for ch in pin):
        raise InvalidInput("暗証番号は4桁の数字です。", message_en="The PIN is 4 digits.")
    return pin


def new_number() -> str:
    body = "8" + "".join(secrets.choice("0123456789") for _ in range(10))
    return body + luhn_digit(body)


def format_number(number: str) -> str:
    return f"{number[:4]} {number[4:8]} {number[8:]}"


def issue_card(s: Session, resident_id: int, pin: str, *, number: str | None = None) -> Card:
    """A new card; `number` only for a fixed demo card, otherwise a fresh random one.

    One active card per resident: the resident's row is locked before their cards are looked at, so
    two issues at once are checked one after the other (and a partial unique index refuses a second)."""
    pin = check_pin_format(pin)
    check_no_active_card(s, resident_id)
    while number is None:
        candidate = new_number()
        if s.execute(select(Card.id).where(Card.number == candidate)).first() is None:
            number = candidate
    card = Card(number=number, resident_id=resident_id, pin_hash=_hasher.hash(pin))
    s.add(card)
    s.flush()
    return card


def check_no_active_card(s: Session, resident_id: int) -> None:
    """Lock the resident and refuse when they already hold a card that works."""
    lock_resident(s, resident_id)
    if s.execute(select(Card.id).where(Card.resident_id == resident_id, Card.status == "active")).first():
        raise AlreadyDone(f"番号 {resident_id} の方は使えるカードをお持ちです。",
                          message_en="This resident already has a card in use; a lost card is replaced.")


@dataclass(frozen=True)
class CardHolder:
    card_id: int
    resident_id: int


def verify_pin(db: Database, number: str, pin: str, now: datetime | None = None) -> CardHolder:
    """The card's resident when the PIN is right; a lock after 5 misses. Commits the attempt count."""
    number = normalize_number(number)
    pin = check_pin_format(pin)
    now = now or utcnow()
    with db.write() as s:
        card = s.execute(select(Card).where(Card.number == number).with_for_update()).scalar()
        if card is None or card.status != "active":
            raise NotFound("このカードは使えません。役場の窓口にお問い合わせください。",
                           message_en="This card cannot be used. Please contact the town office.")
        if card.locked_until and card.locked_until > now:
            raise CardLocked(_locked_message(card.locked_until, now))
        try:
            _hasher.verify(card.pin_hash, pin)
        except VerificationError:
            attempts = card.failed_attempts + 1
            locked = now + timedelta(minutes=LOCK_MINUTES) if attempts >= MAX_ATTEMPTS else None
            s.execute(update(Card).where(Card.id == card.id).values(
                failed_attempts=0 if locked else attempts, locked_until=locked))
            wrong = WrongPin(f"暗証番号が違います（あと{MAX_ATTEMPTS - attempts}回間違えると30分間使えなくなります）。",
                             message_en=f"Wrong PIN. {MAX_ATTEMPTS - attempts} tries left before a 30-minute lock.")
            if locked:
                wrong = CardLocked()
            holder_error: Exception = wrong
        else:
            if card.failed_attempts or card.locked_until:
                s.execute(update(Card).where(Card.id == card.id).values(failed_attempts=0, locked_until=None))
            return CardHolder(card.id, card.resident_id)
    raise holder_error


def _locked_message(until: datetime, now: datetime) -> str:
    minutes = max(1, int((until - now).total_seconds() // 60) + 1)
    return f"暗証番号を続けて間違えたため、カードはあと約{minutes}分間使えません。"


def unlock(s: Session, number: str) -> Card:
    card = s.execute(select(Card).where(Card.number == normalize_number(number))).scalar()
    if card is None:
        raise NotFound("カードが見つかりません。")
    card.failed_attempts, card.locked_until = 0, None
    return card


def replace_card(s: Session, number: str, new_pin: str) -> Card:
    """A lost card is stopped and a new one issued. The money is the resident's wallet, not the
    card's, so the whole balance is on the new card at once. The resident's row is locked first
    (the same order as `issue_card`), then the card is read fresh: of two replacements at once,
    the second finds it already replaced."""
    digits = normalize_number(number)
    holder = s.execute(select(Card.resident_id).where(Card.number == digits)).scalar()
    if holder is None:
        raise NotFound("カードが見つかりません。")
    lock_resident(s, holder)
    old = s.execute(select(Card).where(Card.number == digits).with_for_update()
                    .execution_options(populate_existing=True)).scalar_one()
    if old.status != "active":
        raise NotAllowed(f"このカードはすでに使えなくなっています（{STATUS_JA.get(old.status, old.status)}）。",
                         message_en="This card is no longer in use.")
    old.status = "replaced"
    s.flush()
    return issue_card(s, old.resident_id, new_pin)
