"""Paying through the API: customer QR (CPM), shop QR (MPM); single-use tokens, idempotency, refusals."""
from __future__ import annotations

from dataclasses import replace
from urllib.parse import quote

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from ledger.events import PaymentCompleted
from ledger.models import Entry, Nonce
from tests.liff.conftest import ALICE, BAKER, BOB, CLERK, EMILY, MULTI, err


@pytest.fixture(autouse=True)
def shop_charges_directly(town):
    """These tests are about the charge itself (single-use codes, idempotency, refusals), as a town
    that lets the till charge a customer's QR at once has it (`Policy.cpm_confirm_from=None`).
    The default, her 支払う on her own phone first, is tested in test_liff_payment_requests.py."""
    uow = town.machi.uow
    uow.policy = replace(uow.policy, cpm_confirm_from=None)


def entries(town) -> int:
    with town.machi.db.session() as s:
        return s.execute(select(func.count()).select_from(Entry)).scalar_one()


def cpm_token(client, line, sub=ALICE) -> dict:
    resp = client.post("/api/cpm-tokens", headers=line.headers(sub))
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def pay(client, line, sub, key="key-00000001", **body):
    body.setdefault("amount", 1_000)
    return client.post("/api/payments", headers=line.headers(sub), json={"idempotency_key": key, **body})


# ---------------------------------------------------------------- customer QR (CPM)

def test_cpm_token_is_short_signed_and_drawn_as_svg(client, town, line):
    tok = cpm_token(client, line)
    assert tok["token"].startswith("MW1.") and len(tok["token"]) <= 80
    assert tok["expires_in"] == 60 and tok["refresh_in"] < 60
    assert tok["qr_svg"].startswith("<svg") and len(tok["qr_svg"]) < 8_000


def test_shop_charges_a_customer_qr(client, town, line):
    tok = cpm_token(client, line)
    resp = pay(client, line, BAKER, cpm_token=tok["token"], amount=4_000)
    assert resp.status_code == 201, resp.get_json()
    p = resp.get_json()["payment"]
    assert p["amount"] == 4_000 and p["channel"] == "cpm" and p["merchant"]["name"] == "まちのパン屋"
    assert {b["money_type"]: b["amount"] for b in p["breakdown"]} == {"LOCAL": 3_000, "COMMON": 1_000}
    assert town.balance(ALICE) == 4_000
    [event] = [e for e in town.published if isinstance(e, PaymentCompleted)]
    assert event.amount == 4_000 and event.channel == "cpm" and event.resident_id == town.ids["alice"]
    town.check_invariants()


def test_customer_screen_learns_its_code_was_used(client, town, line):
    tok = cpm_token(client, line)
    path = f"/api/cpm-tokens/{tok['token_id']}"
    assert client.get(path, headers=line.headers(ALICE)).get_json() == {"used": False, "payment": None}
    pay(client, line, BAKER, cpm_token=tok["token"], amount=700)
    status = client.get(path, headers=line.headers(ALICE)).get_json()
    assert status["used"] is True and status["payment"]["amount"] == 700
    # someone else polling the same id learns nothing
    assert client.get(path, headers=line.headers(BOB)).get_json()["used"] is False


def test_a_customer_qr_pays_once(client, town, line):
    tok = cpm_token(client, line)
    assert pay(client, line, BAKER, key="first-key-1", cpm_token=tok["token"], amount=500).status_code == 201
    e = err(pay(client, line, BAKER, key="second-key-2", cpm_token=tok["token"], amount=500))
    assert e["code"] == "token_used" and "新しいコード" in e["message"]
    assert town.balance(ALICE) == 7_500


def test_double_tap_pays_once_and_returns_the_first_result(client, town, line):
    tok = cpm_token(client, line)
    first = pay(client, line, BAKER, key="tap-tap-0001", cpm_token=tok["token"], amount=1_200)
    again = pay(client, line, BAKER, key="tap-tap-0001", cpm_token=tok["token"], amount=1_200)
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["payment"]["id"] == first.get_json()["payment"]["id"]
    assert again.get_json()["payment"]["replayed"] is True
    assert town.balance(ALICE) == 6_800
    assert len([e for e in town.published if isinstance(e, PaymentCompleted)]) == 1


def test_same_key_with_another_amount_is_refused(client, town, line):
    tok = cpm_token(client, line)
    pay(client, line, BAKER, key="reused-key-1", cpm_token=tok["token"], amount=100)
    e = err(pay(client, line, BAKER, key="reused-key-1", cpm_token=tok["token"], amount=200))
    assert e["code"] == "idempotency_conflict"


def test_expired_customer_qr_is_refused_with_what_to_do(client, town, line, app):
    tok = cpm_token(client, line)
    tokens = app.extensions["machi"].extras["liff"].tokens
    real = tokens.clock
    tokens.clock = lambda: real() + 61
    before = entries(town)
    e = err(pay(client, line, BAKER, cpm_token=tok["token"]))
    assert e["code"] == "token_expired" and "60秒" in e["message"] and "新しいQRコード" in e["message"]
    assert entries(town) == before and town.balance(ALICE) == 8_000


def test_a_retry_after_the_code_expired_still_gets_the_first_result(client, town, line, app):
    tok = cpm_token(client, line)
    first = pay(client, line, BAKER, key="slow-network", cpm_token=tok["token"], amount=300)
    tokens = app.extensions["machi"].extras["liff"].tokens
    real = tokens.clock
    tokens.clock = lambda: real() + 120
    again = pay(client, line, BAKER, key="slow-network", cpm_token=tok["token"], amount=300)
    assert again.status_code == 200 and again.get_json()["payment"]["id"] == first.get_json()["payment"]["id"]


def test_foreign_and_altered_codes_are_refused(client, town, line):
    foreign = "MW1." + URLSafeTimedSerializer("someone-else", salt="machi-cpm-v1").dumps([1, "abcdefghijkl"])
    assert err(pay(client, line, BAKER, cpm_token=foreign))["code"] == "token_invalid"
    tok = cpm_token(client, line)["token"]
    altered = tok[:-3] + ("AAA" if not tok.endswith("AAA") else "BBB")
    assert err(pay(client, line, BAKER, cpm_token=altered))["code"] == "token_invalid"
    for junk in ("hello", "MW1.", "MW1.a.b.c", "MWS.S1"):
        e = err(pay(client, line, BAKER, cpm_token=junk))
        assert e["code"] == "token_invalid" and "お支払い用" in e["message"]
    assert town.balance(ALICE) == 8_000


def test_only_shop_staff_can_charge_a_customer_qr(client, town, line):
    tok = cpm_token(client, line)
    e = err(pay(client, line, BOB, cpm_token=tok["token"]))
    assert e["code"] == "not_staff"


def test_staff_of_several_shops_choose_one(client, town, line):
    tok = cpm_token(client, line)
    assert err(pay(client, line, MULTI, cpm_token=tok["token"]))["code"] == "choose_merchant"
    assert err(pay(client, line, MULTI, cpm_token=tok["token"], merchant_code="L1"))["code"] == "not_staff"
    resp = pay(client, line, MULTI, cpm_token=tok["token"], merchant_code="S2", amount=250)
    assert resp.status_code == 201 and resp.get_json()["payment"]["merchant"]["name"] == "魚屋"


def test_a_clerk_cannot_charge_their_own_wallet(client, town, line):
    tok = cpm_token(client, line, sub=BAKER)
    e = err(pay(client, line, BAKER, cpm_token=tok["token"], amount=100))
    assert e["code"] == "own_shop"
    assert err(pay(client, line, BAKER, merchant_code="S1", amount=100))["code"] == "own_shop"


def test_the_token_id_is_stored_as_a_ledger_nonce(client, town, line):
    tok = cpm_token(client, line)
    pay(client, line, BAKER, cpm_token=tok["token"], amount=100)
    with town.machi.db.session() as s:
        assert s.get(Nonce, f"cpm:{tok['token_id']}") is not None


# ---------------------------------------------------------------- shop QR (MPM)

@pytest.mark.parametrize("code", ["S1", "MWS.S1", "https://liff.line.me/123-abc/scan?shop=S1"])
def test_shop_qr_shows_the_shop_name(client, town, line, code):
    resp = client.get(f"/api/merchants/{quote(code, safe='')}", headers=line.headers(ALICE))
    assert resp.status_code == 200 and resp.get_json()["name"] == "まちのパン屋"


def test_shop_lookup_tells_what_can_be_spent_there(client, town, line):
    assert client.get("/api/merchants/S1", headers=line.headers(ALICE)).get_json()["usable"] == 8_000
    assert client.get("/api/merchants/L1", headers=line.headers(ALICE)).get_json()["usable"] == 5_000
    assert client.get("/api/merchants/L1", headers=line.headers(CLERK)).get_json()["usable"] is None


def test_unknown_shop_and_not_a_shop_code(client, town, line):
    assert err(client.get("/api/merchants/NOPE", headers=line.headers(ALICE)))["code"] == "not_found"
    assert err(client.get("/api/merchants/MW1.abc.def", headers=line.headers(ALICE)))["code"] == "not_shop_code"


def test_resident_pays_by_the_shop_qr(client, town, line):
    resp = pay(client, line, ALICE, merchant_code="MWS.S1", amount=2_500)
    assert resp.status_code == 201
    assert resp.get_json()["payment"]["channel"] == "mpm"
    assert town.balance(ALICE, "LOCAL") == 500 and town.balance(ALICE, "COMMON") == 5_000
    town.check_invariants()


def test_large_store_names_the_shop_only_rule(client, town, line):
    e = err(pay(client, line, ALICE, merchant_code="L1", amount=6_000))
    assert e["code"] == "insufficient_funds"
    assert "5,000円" in e["message"] and "専用券 3,000円" in e["message"] and "使えません" in e["message"]
    assert town.balance(ALICE) == 8_000


def test_refusals_are_in_english_for_english_residents(client, town, line):
    e = err(pay(client, line, EMILY, merchant_code="L1", amount=500))
    assert e["code"] == "insufficient_funds" and e["message"].startswith("Not enough balance")
    assert "local shops" in e["message"]


def test_amount_over_the_limit_is_refused_before_anything(client, town, line):
    e = err(pay(client, line, ALICE, merchant_code="S1", amount=100_001))
    assert e["code"] == "over_payment_limit" and "100,000円まで" in e["message"]


def test_resident_not_registered_cannot_pay_by_shop_qr(client, town, line):
    e = err(pay(client, line, "U" + "9" * 32, merchant_code="S1"))
    assert e["code"] == "not_registered"


def test_clerk_pays_at_another_shop_as_a_resident(client, town, line):
    resp = pay(client, line, BAKER, merchant_code="L1", amount=400)
    assert resp.status_code == 201 and town.balance(BAKER) == 600


def test_clerk_without_wallet_paying_by_shop_qr_is_told_to_register(client, town, line):
    assert err(pay(client, line, CLERK, merchant_code="S1"))["code"] == "not_registered"


def test_suspended_resident_is_refused(client, town, line):
    from ledger.models import Resident

    with town.machi.db.write() as s:
        s.get(Resident, town.ids["alice"]).status = "suspended"
    assert err(pay(client, line, ALICE, merchant_code="S1"))["code"] == "account_inactive"
    assert err(client.post("/api/cpm-tokens", headers=line.headers(ALICE)))["code"] == "account_inactive"
