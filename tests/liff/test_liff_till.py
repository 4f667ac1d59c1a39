"""The shop's till: refunds inside the window, today's sales and totals."""
from __future__ import annotations

from datetime import timedelta

from ledger.events import PaymentRefunded
from tests.liff.conftest import ALICE, BAKER, BOB, CLERK, MULTI, err


def mpm(client, line, sub, shop, amount, key):
    resp = client.post("/api/payments", headers=line.headers(sub),
                       json={"merchant_code": shop, "amount": amount, "idempotency_key": key})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["payment"]["id"]


def refund(client, line, sub, payment_id):
    return client.post(f"/api/payments/{payment_id}/refund", headers=line.headers(sub), json={})


def test_refund_puts_the_money_back_once(client, town, line):
    pid = mpm(client, line, ALICE, "S1", 3_500, "refund-me-01")
    assert town.balance(ALICE) == 4_500
    first = refund(client, line, BAKER, pid)
    assert first.status_code == 201 and first.get_json()["refund"]["amount"] == 3_500
    assert town.balance(ALICE) == 8_000 and town.balance(ALICE, "LOCAL") == 3_000
    again = refund(client, line, BAKER, pid)
    assert again.status_code == 200 and again.get_json()["refund"]["replayed"] is True
    assert town.balance(ALICE) == 8_000
    assert len([e for e in town.published if isinstance(e, PaymentRefunded)]) == 1
    town.check_invariants()


def test_only_that_shops_staff_may_refund(client, town, line):
    pid = mpm(client, line, ALICE, "S1", 500, "refund-who-1")
    assert err(refund(client, line, CLERK, pid))["code"] == "not_found"
    assert err(refund(client, line, BOB, pid))["code"] == "not_staff"
    assert err(refund(client, line, BAKER, 999_999))["code"] == "not_found"
    assert refund(client, line, MULTI, pid).status_code == 201


def test_refund_after_the_window_is_refused(client, town, line, app):
    pid = mpm(client, line, ALICE, "S1", 500, "refund-old-1")
    uow = app.extensions["machi"].uow
    real = uow.clock
    uow.clock = lambda: real() + timedelta(days=31)
    e = err(refund(client, line, BAKER, pid))
    assert e["code"] == "refund_not_allowed" and "30日" in e["message"]


def test_todays_sales_and_refunds(client, town, line):
    a = mpm(client, line, ALICE, "S1", 1_000, "sale-0000-01")
    mpm(client, line, BOB, "S1", 300, "sale-0000-02")
    mpm(client, line, ALICE, "L1", 700, "sale-0000-03")  # another shop
    refund(client, line, BAKER, a)
    s = client.get("/api/till/summary", headers=line.headers(BAKER)).get_json()
    assert s["merchant"]["code"] == "S1" and s["merchant"]["qr_payload"] == "MWS.S1"
    assert s["sales"] == {"count": 2, "total": 1_300} and s["refunds"] == {"count": 1, "total": 1_000}
    assert s["net"] == 300
    rows = {p["id"]: p for p in s["payments"]}
    assert rows[a]["refunded"] is True and rows[a]["refundable"] is False
    assert [p["amount"] for p in s["payments"]] == [300, 1_000]
    assert all(p["time_label"] and p["channel_label"] == "お店のQR" for p in s["payments"])


def test_other_days_inside_the_window(client, town, line):
    s = client.get("/api/till/summary?days_back=3", headers=line.headers(BAKER)).get_json()
    assert s["days_back"] == 3 and s["payments"] == []
    assert err(client.get("/api/till/summary?days_back=31", headers=line.headers(BAKER)))["code"] == "invalid_input"
    assert err(client.get("/api/till/summary?days_back=-1", headers=line.headers(BAKER)))["code"] == "invalid_input"


def test_till_needs_a_shop_role(client, town, line):
    assert err(client.get("/api/till/summary", headers=line.headers(ALICE)))["code"] == "not_staff"
    assert err(client.get("/api/till/summary", headers=line.headers(MULTI)))["code"] == "choose_merchant"
    s = client.get("/api/till/summary?merchant_code=S2", headers=line.headers(MULTI)).get_json()
    assert s["merchant"]["name"] == "魚屋"


def test_shop_qr_svg_for_the_counter(client, town):
    resp = client.get("/liff/shop-qr/S1.svg")
    assert resp.status_code == 200 and resp.mimetype == "image/svg+xml"
    assert client.get("/liff/shop-qr/..%2Fx.svg").status_code == 404
