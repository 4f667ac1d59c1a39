"""A shop's charge on a customer's QR waits for her 支払う on her own phone: she sees the shop and the
amount before anything moves (the town's default, `Policy.cpm_confirm_from=1`)."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import update

from ledger.clock import utcnow
from ledger.events import PaymentCompleted
from ledger.models import PaymentRequest
from tests.liff.conftest import ALICE, BAKER, BOB, CLERK, EMILY, err
from tests.liff.test_liff_payments import cpm_token, entries, pay


def ask(client, line, amount=1_200, key="till-key-001", sub=BAKER, customer=ALICE, **body):
    """The till scans her code and keys in the amount: a request, not yet a payment."""
    tok = cpm_token(client, line, sub=customer)
    resp = pay(client, line, sub, key=key, cpm_token=tok["token"], amount=amount, **body)
    return tok, resp


def her_screen(client, line, tok, sub=ALICE) -> dict:
    return client.get(f"/api/cpm-tokens/{tok['token_id']}", headers=line.headers(sub)).get_json()


def test_the_till_asks_and_nothing_moves_until_she_taps_pay(client, town, line):
    before = entries(town)
    tok, resp = ask(client, line, amount=1_200)
    assert resp.status_code == 202, resp.get_json()
    req = resp.get_json()["request"]
    assert req["state"] == "pending" and req["amount"] == 1_200 and 0 < req["seconds_left"] <= 90
    assert entries(town) == before and town.balance(ALICE) == 8_000

    shown = her_screen(client, line, tok)  # her pay page, polling while it shows the code
    assert shown["used"] is False and shown["request"]["amount"] == 1_200
    assert shown["request"]["merchant"]["name"] == "まちのパン屋" and shown["request"]["state"] == "pending"

    paid = client.post(f"/api/payment-requests/{req['id']}/approve", headers=line.headers(ALICE))
    assert paid.status_code == 201, paid.get_json()
    assert paid.get_json()["payment"]["amount"] == 1_200 and paid.get_json()["payment"]["channel"] == "cpm"
    assert town.balance(ALICE) == 6_800

    till = client.get(f"/api/payment-requests/{req['id']}", headers=line.headers(BAKER)).get_json()["request"]
    assert till["state"] == "paid" and till["payment"]["amount"] == 1_200  # the till's receipt
    assert her_screen(client, line, tok)["used"] is True
    again = client.post(f"/api/payment-requests/{req['id']}/approve", headers=line.headers(ALICE))
    assert again.status_code == 200 and again.get_json()["payment"]["id"] == paid.get_json()["payment"]["id"]
    assert town.balance(ALICE) == 6_800
    assert len([e for e in town.published if isinstance(e, PaymentCompleted)]) == 1
    town.check_invariants()


def test_she_declines_and_nothing_moves(client, town, line):
    tok, resp = ask(client, line, amount=4_500)
    rid = resp.get_json()["request"]["id"]
    out = client.post(f"/api/payment-requests/{rid}/decline", headers=line.headers(ALICE))
    assert out.status_code == 200 and out.get_json()["request"]["state"] == "declined"
    till = client.get(f"/api/payment-requests/{rid}", headers=line.headers(BAKER)).get_json()["request"]
    assert till["state"] == "declined"
    e = err(client.post(f"/api/payment-requests/{rid}/approve", headers=line.headers(ALICE)))
    assert e["code"] == "request_closed" and "取り消" in e["message"]
    assert town.balance(ALICE) == 8_000


def test_the_till_can_call_it_off_before_she_pays(client, town, line):
    _tok, resp = ask(client, line)
    rid = resp.get_json()["request"]["id"]
    assert client.post(f"/api/payment-requests/{rid}/decline", headers=line.headers(BAKER)).status_code == 200
    assert err(client.post(f"/api/payment-requests/{rid}/approve", headers=line.headers(ALICE)))["code"] == \
        "request_closed"
    assert town.balance(ALICE) == 8_000


def test_a_request_left_too_long_is_refused_with_what_to_do(client, town, line):
    _tok, resp = ask(client, line)
    rid = resp.get_json()["request"]["id"]
    with town.machi.db.write() as s:
        s.execute(update(PaymentRequest).where(PaymentRequest.id == rid)
                  .values(expires_at=utcnow() - timedelta(seconds=1)))
    e = err(client.post(f"/api/payment-requests/{rid}/approve", headers=line.headers(ALICE)))
    assert e["code"] == "request_expired" and "もう一度QRコードを読み取って" in e["message"]
    assert client.get(f"/api/payment-requests/{rid}", headers=line.headers(BAKER)).get_json()["request"]["state"] \
        == "expired"
    assert town.balance(ALICE) == 8_000


def test_more_than_she_can_use_at_the_shop_is_refused_at_the_till_at_once(client, town, line):
    """At a large store her 専用券 do not count: the till hears it on 受け取る, before she is asked."""
    _tok, resp = ask(client, line, sub=CLERK, amount=6_000)
    e = err(resp)
    assert e["code"] == "insufficient_funds" and "5,000円" in e["message"] and "専用券" in e["message"]
    with town.machi.db.session() as s:
        assert s.query(PaymentRequest).count() == 0
    assert town.balance(ALICE) == 8_000


def test_money_spent_elsewhere_meanwhile_fails_and_the_till_hears_why(client, town, line):
    _tok, resp = ask(client, line, amount=7_000)
    rid = resp.get_json()["request"]["id"]
    assert pay(client, line, ALICE, key="elsewhere-001", merchant_code="S2", amount=2_000).status_code == 201
    e = err(client.post(f"/api/payment-requests/{rid}/approve", headers=line.headers(ALICE)))
    assert e["code"] == "insufficient_funds"
    till = client.get(f"/api/payment-requests/{rid}", headers=line.headers(BAKER)).get_json()["request"]
    assert till["state"] == "failed" and "残高が足りません" in till["reason"]
    assert town.balance(ALICE) == 6_000


def test_a_retry_of_the_till_gets_the_same_request_and_the_code_asks_once(client, town, line):
    tok, first = ask(client, line, key="till-retry-01")
    again = pay(client, line, BAKER, key="till-retry-01", cpm_token=tok["token"], amount=1_200)
    assert again.status_code == 200 and again.get_json()["request"]["id"] == first.get_json()["request"]["id"]
    other = err(pay(client, line, BAKER, key="till-other-02", cpm_token=tok["token"], amount=1_200))
    assert other["code"] == "token_used"


def test_only_she_can_pay_it_and_only_her_shop_or_she_can_see_it(client, town, line):
    _tok, resp = ask(client, line)
    rid = resp.get_json()["request"]["id"]
    for who in (BOB, BAKER, CLERK):
        e = err(client.post(f"/api/payment-requests/{rid}/approve", headers=line.headers(who)))
        assert e["code"] in ("not_found", "not_registered")
    assert client.get(f"/api/payment-requests/{rid}", headers=line.headers(BOB)).status_code == 404
    assert client.get(f"/api/payment-requests/{rid}", headers=line.headers(CLERK)).status_code == 404
    assert err(client.get("/api/payment-requests/x", headers=line.headers(ALICE)))["code"] == "invalid_input"
    assert town.balance(ALICE) == 8_000


def test_a_town_may_let_small_charges_through_without_asking(client, town, line):
    town.machi.uow.policy = replace(town.machi.uow.policy, cpm_confirm_from=3_000)
    _tok, small = ask(client, line, amount=450, key="small-charge-1")
    assert small.status_code == 201 and town.balance(ALICE) == 7_550
    _tok, large = ask(client, line, amount=3_000, key="large-charge-1")
    assert large.status_code == 202 and town.balance(ALICE) == 7_550


def test_an_english_reader_is_asked_in_english(client, town, line):
    tok, resp = ask(client, line, customer=EMILY, amount=500)
    assert resp.status_code == 202
    rid = resp.get_json()["request"]["id"]
    e = err(client.post(f"/api/payment-requests/{rid}/approve", headers=line.headers(ALICE)))
    assert e["code"] == "not_found"
    assert her_screen(client, line, tok, sub=EMILY)["request"]["amount"] == 500
    client.post(f"/api/payment-requests/{rid}/decline", headers=line.headers(EMILY))
    e = err(client.post(f"/api/payment-requests/{rid}/approve", headers=line.headers(EMILY)))
    assert e["message"] == "This payment was cancelled."
