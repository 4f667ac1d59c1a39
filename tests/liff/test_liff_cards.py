"""Plastic cards at the till: the resident types the PIN on the shop's phone; 5 misses lock it."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from config import ROOT
from ledger import cards
from ledger.clock import utcnow
from ledger.models import Card
from tests.liff.conftest import ALICE, BAKER, CARD, PIN, err


def card_pay(client, line, pin, key="card-key-0001", amount=1_000, number=CARD, sub=BAKER):
    return client.post("/api/payments", headers=line.headers(sub),
                       json={"card_number": number, "pin": pin, "amount": amount, "idempotency_key": key})


def test_card_with_a_wrong_then_the_right_pin(client, town, line):
    e = err(card_pay(client, line, "9999"))
    assert e["code"] == "wrong_pin" and "あと4回" in e["message"]
    resp = card_pay(client, line, PIN)
    assert resp.status_code == 201
    p = resp.get_json()["payment"]
    assert p["channel"] == "card" and p["amount"] == 1_000
    assert town.balance(town.ids["elder"]) == 3_000
    town.check_invariants()


def test_printed_number_with_spaces_and_fullwidth_digits(client, town, line):
    spaced = f"{CARD[:4]} {CARD[4:8]} {CARD[8:]}".translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert card_pay(client, line, PIN, number=spaced, amount=100).status_code == 201


def test_five_wrong_pins_lock_the_card_and_staff_unlock_it(client, town, line):
    for i in range(4):
        assert err(card_pay(client, line, "0000", key=f"bad-pin-{i:04d}"))["code"] == "wrong_pin"
    e = err(card_pay(client, line, "0000", key="bad-pin-0005"))
    assert e["code"] == "card_locked" and "30分" in e["message"] and "役場の窓口でロックを解除" in e["message"]
    e = err(card_pay(client, line, PIN, key="right-pin-01"))
    assert e["code"] == "card_locked"
    lookup = err(look_up(client, line, CARD))
    assert lookup["code"] == "card_locked" and "分間" in lookup["message"]
    assert town.balance(town.ids["elder"]) == 4_000
    with town.machi.db.write() as s:  # `machi card unlock`
        cards.unlock(s, CARD)
    assert card_pay(client, line, PIN, key="right-pin-02").status_code == 201


def test_lock_ends_after_thirty_minutes(client, town, line):
    with town.machi.db.write() as s:
        card = s.execute(select(Card).where(Card.number == CARD)).scalar_one()
        card.locked_until = utcnow() - timedelta(seconds=1)
    assert card_pay(client, line, PIN).status_code == 201


def look_up(client, line, number, who=BAKER, **extra):
    return client.post("/api/cards/lookup", json={"card_number": number, **extra}, headers=line.headers(who))


def test_card_lookup_before_the_pin(client, town, line):
    ok = look_up(client, line, CARD).get_json()
    assert ok == {"card_number": CARD, "display": cards.format_number(CARD), "status": "active"}
    assert look_up(client, line, CARD, merchant_code="S1").status_code == 200
    bad = CARD[:-1] + str((int(CARD[-1]) + 1) % 10)
    assert err(look_up(client, line, bad))["code"] == "invalid_input"
    unknown = "80000000099" + cards.luhn_digit("80000000099")
    assert err(look_up(client, line, unknown))["code"] == "not_found"
    assert err(look_up(client, line, CARD, who=ALICE))["code"] == "not_staff"
    assert err(look_up(client, line, None))["code"] == "invalid_input"
    assert err(client.post("/api/cards/lookup", data="not json", headers=line.headers(BAKER)))["code"]


def test_the_card_number_is_never_in_a_url(client, town, line):
    """The old `GET /api/cards/<number>` put the number in access logs; it is gone."""
    assert client.get(f"/api/cards/{CARD}", headers=line.headers(BAKER)).status_code in (404, 405)
    till = (ROOT / "liff" / "static" / "till.js").read_text()
    assert '"/api/cards/" +' not in till and '"/api/cards/lookup"' in till


def test_card_refusals(client, town, line):
    assert err(card_pay(client, line, None))["code"] == "invalid_input"
    assert err(card_pay(client, line, "12"))["code"] == "invalid_input"
    assert err(card_pay(client, line, PIN, number="1234"))["code"] == "invalid_input"
    assert err(card_pay(client, line, PIN, sub=ALICE))["code"] == "not_staff"
    e = err(card_pay(client, line, PIN, amount=4_001))
    assert e["code"] == "insufficient_funds" and "4,000円" in e["message"]


def test_bad_amount_does_not_spend_a_pin_attempt(client, town, line):
    for i in range(6):
        assert err(card_pay(client, line, "0000", amount="1000", key=f"str-amt-{i:04d}"))["code"] == "invalid_amount"
    assert card_pay(client, line, PIN).status_code == 201


def test_card_retry_pays_once(client, town, line):
    first = card_pay(client, line, PIN, key="card-twice-1")
    again = card_pay(client, line, PIN, key="card-twice-1")
    assert first.status_code == 201 and again.status_code == 200
    assert town.balance(town.ids["elder"]) == 3_000
