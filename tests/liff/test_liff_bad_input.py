"""Bad input of any kind gets a clear 4xx JSON refusal and changes nothing; never a 500."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select, update

from ledger.models import Entry, Resident
from tests.liff.conftest import ALICE, BAKER, err


def count(town) -> int:
    with town.machi.db.session() as s:
        return s.execute(select(func.count()).select_from(Entry)).scalar_one()


GOOD = {"merchant_code": "S1", "amount": 100, "idempotency_key": "good-key-0001"}


@pytest.mark.parametrize("body, code", [
    ({**GOOD, "amount": "100"}, "invalid_amount"),
    ({**GOOD, "amount": 1.5}, "invalid_amount"),
    ({**GOOD, "amount": 100.0}, "invalid_amount"),
    ({**GOOD, "amount": True}, "invalid_amount"),
    ({**GOOD, "amount": 0}, "invalid_amount"),
    ({**GOOD, "amount": -500}, "invalid_amount"),
    ({**GOOD, "amount": None}, "invalid_input"),
    ({**GOOD, "amount": [100]}, "invalid_amount"),
    ({**GOOD, "amount": {"yen": 1}}, "invalid_amount"),
    ({**GOOD, "amount": 10**40}, "over_payment_limit"),
    ({k: v for k, v in GOOD.items() if k != "amount"}, "invalid_input"),
    ({k: v for k, v in GOOD.items() if k != "idempotency_key"}, "invalid_input"),
    ({**GOOD, "idempotency_key": "short"}, "invalid_input"),
    ({**GOOD, "idempotency_key": "x" * 500}, "invalid_input"),
    ({**GOOD, "idempotency_key": 12345678}, "invalid_input"),
    ({**GOOD, "idempotency_key": "has spaces in it"}, "invalid_input"),
    ({**GOOD, "merchant_code": 7}, "invalid_input"),
    ({**GOOD, "merchant_code": ["S1"]}, "invalid_input"),
    ({**GOOD, "merchant_code": "x" * 5000}, "invalid_input"),
    ({**GOOD, "merchant_code": "S1; DROP TABLE entries"}, "not_shop_code"),
    ({**GOOD, "merchant_code": "ZZZ"}, "not_found"),
    ({"amount": 100, "idempotency_key": "good-key-0001"}, "invalid_input"),
    ({**GOOD, "cpm_token": "MW1.x", "card_number": "800000000011"}, "invalid_input"),
    ({**GOOD, "cpm_token": {"a": 1}}, "invalid_input"),
])
def test_bad_payment_bodies(client, town, line, body, code):
    before = count(town)
    e = err(client.post("/api/payments", headers=line.headers(ALICE), json=body))
    assert e["code"] == code
    assert count(town) == before


@pytest.mark.parametrize("raw, content_type", [
    (b"{not json", "application/json"),
    (b"[1, 2, 3]", "application/json"),
    (b'"amount"', "application/json"),
    (b"null", "application/json"),
    (b"", "application/json"),
    (b"amount=100", "application/x-www-form-urlencoded"),
    (b"\xff\xfe\x00garbage", "application/json"),
    (b'{"amount": 1e999, "merchant_code": "S1", "idempotency_key": "good-key-0001"}', "application/json"),
    (b'{"amount": NaN, "merchant_code": "S1", "idempotency_key": "good-key-0001"}', "application/json"),
])
def test_unreadable_bodies(client, town, line, raw, content_type):
    resp = client.post("/api/payments", headers=line.headers(ALICE), data=raw, content_type=content_type)
    e = err(resp)
    assert e["code"] in ("bad_request", "invalid_amount")


def test_huge_body_is_refused(client, town, line):
    resp = client.post("/api/payments", headers=line.headers(ALICE), data=b"{" + b" " * 40_000 + b"}",
                       content_type="application/json")
    assert resp.status_code == 413  # refused on its Content-Length (MACHI_MAX_BODY), before it is read
    e = err(resp)
    assert e["code"] == "too_large" and "大きすぎ" in e["message"]


@pytest.mark.parametrize("path", [
    "/api/payments/abc/refund", "/api/payments/-1/refund", "/api/nothing-here", "/api/cpm-tokens/../../etc",
])
def test_odd_paths(client, town, line, path):
    err(client.post(path, headers=line.headers(BAKER), json={}))


def test_wrong_methods(client, town, line):
    err(client.get("/api/payments", headers=line.headers(ALICE)))
    err(client.delete("/api/me", headers=line.headers(ALICE)))


@pytest.mark.parametrize("path", ["/api/cpm-tokens/" + "x" * 40, "/api/cpm-tokens/a%20b", "/api/events/%00",
                                  "/api/merchants/%F0%9F%98%80", "/api/history?limit=0",
                                  "/api/till/summary?before=xyz"])
def test_odd_queries(client, town, line, path):
    sub = BAKER if "till" in path or "cards" in path else ALICE
    err(client.get(path, headers=line.headers(sub)))


def test_unexpected_failure_is_json_and_logged(client, town, line, monkeypatch):
    def boom(*_a, **_k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("liff.api.balances", boom)
    resp = client.get("/api/me", headers=line.headers(ALICE))
    assert resp.status_code == 500 and resp.get_json()["error"]["code"] == "server_error"


def test_chunked_body_without_length_is_capped(client, town, line):
    def chunks():
        yield b'{"amount": 100, "pad": "'
        for _ in range(100):
            yield b"x" * 1024
        yield b'"}'

    resp = client.post("/api/payments", headers={**line.headers(ALICE), "Transfer-Encoding": "chunked"},
                       input_stream=io.BytesIO(b"".join(chunks())), content_type="application/json")
    assert 400 <= resp.status_code < 500 and resp.get_json()["error"]["code"] in ("bad_request", "http_413")


def test_key_with_a_trailing_newline_is_refused(client, town, line):
    e = err(client.post("/api/payments", headers=line.headers(ALICE), json={**GOOD, "idempotency_key": "abcdefgh\n"}))
    assert e["code"] == "invalid_input"


def test_a_withdrawn_resident_is_told_to_register_again_not_to_call_the_office(client, town, line):
    with town.machi.db.write() as s:
        s.execute(update(Resident).where(Resident.id == town.ids["alice"]).values(status="withdrawn"))
    for res in (client.post("/api/cpm-tokens", headers=line.headers(ALICE)),
                client.post("/api/payments", headers=line.headers(ALICE),
                            json={"merchant_code": "S1", "amount": 100, "idempotency_key": "withdrawn-pay-1"})):
        e = err(res)
        assert res.status_code == 403 and e["code"] == "withdrawn" and "「登録」" in e["message"]
    assert town.balance(ALICE) == 8_000
