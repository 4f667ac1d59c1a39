"""Event check-in (once, inside the window) and the resident's history."""
from __future__ import annotations

from urllib.parse import quote

import pytest
from sqlalchemy import select

from ledger.events import EventCheckedIn
from ledger.models import MoneyType
from tests.liff.conftest import ALICE, BAKER, EMILY, err


def check_in(client, line, code, sub=ALICE):
    return client.post("/api/checkins", headers=line.headers(sub), json={"code": code})


def test_check_in_credits_points_once(client, town, line):
    resp = check_in(client, line, "BEACH")
    assert resp.status_code == 201
    c = resp.get_json()["checkin"]
    assert c["points"] == 500 and c["event"] == "海岸清掃" and c["money_type"] == "PT" and c["expires_on"]
    assert town.balance(ALICE, "PT") == 500
    e = err(check_in(client, line, "BEACH"))
    assert e["code"] == "already_done" and "すでに" in e["message"]
    assert town.balance(ALICE, "PT") == 500
    assert len([e for e in town.published if isinstance(e, EventCheckedIn)]) == 1
    town.check_invariants()


@pytest.mark.parametrize("code", ["beach", "MWE.BEACH", "https://example.jp/liff/checkin?code=BEACH", " ＢＥＡＣＨ "])
def test_code_as_scanned_or_typed(client, town, line, code):
    code = code.replace("ＢＥＡＣＨ", "beach")
    assert check_in(client, line, code).status_code == 201


def test_outside_the_window_and_unknown_codes(client, town, line):
    e = err(check_in(client, line, "LATER"))
    assert e["code"] == "outside_window" and "まだ始まっていません" in e["message"]
    assert err(check_in(client, line, "NOPE"))["code"] == "not_found"
    assert err(check_in(client, line, "no spaces allowed"))["code"] == "invalid_input"
    assert err(check_in(client, line, 12345))["code"] == "invalid_input"
    assert err(check_in(client, line, "BEACH", sub=BAKER.replace("b", "c")))["code"] == "not_registered"


def test_event_preview(client, town, line):
    ev = client.get("/api/events/" + quote("MWE.BEACH"), headers=line.headers(ALICE)).get_json()
    assert ev["name"] == "海岸清掃" and ev["points"] == 500 and ev["open"] is True
    assert client.get("/api/events/LATER", headers=line.headers(ALICE)).get_json()["open"] is False


def test_english_resident_gets_english(client, town, line):
    check_in(client, line, "BEACH", sub=EMILY)
    e = err(check_in(client, line, "BEACH", sub=EMILY))
    assert e["message"].startswith("You already have")


def test_history_newest_first_with_paging(client, town, line):
    for i in range(3):
        client.post("/api/payments", headers=line.headers(ALICE),
                    json={"merchant_code": "S1", "amount": 100 + i, "idempotency_key": f"hist-key-{i:03d}"})
    page = client.get("/api/history?limit=2", headers=line.headers(ALICE)).get_json()
    assert [i["amount"] for i in page["items"]] == [-102, -101]
    assert page["items"][0]["title"] == "まちのパン屋" and page["items"][0]["kind_label"] == "お支払い"
    assert page["next_before"]
    rest = client.get(f"/api/history?before={page['next_before']}&limit=2", headers=line.headers(ALICE)).get_json()
    assert [i["amount"] for i in rest["items"]] == [-100, 3_000]
    assert err(client.get("/api/history?before=abc", headers=line.headers(ALICE)))["code"] == "invalid_input"
    assert err(client.get("/api/history?limit=500", headers=line.headers(ALICE)))["code"] == "invalid_input"
    assert err(client.get("/api/history", headers=line.headers(BAKER.replace("b", "d"))))["code"] == "not_registered"


def test_history_tells_points_in_points_and_an_exchange_as_one(client, town, line):
    """Points earned are not yen, and an exchange (points out, yen in) is not 「−0円」."""
    from ledger.models import ExchangeRule
    from ledger.services import transfers

    check_in(client, line, "BEACH")
    with town.machi.db.write() as s:
        ids = dict(s.execute(select(MoneyType.code, MoneyType.id)).all())
        s.add(ExchangeRule(from_type_id=ids["PT"], to_type_id=ids["COMMON"], from_units=1, to_units=1))
    transfers.exchange(town.machi.uow, resident_id=town.ids["alice"], from_type="PT", to_type="COMMON", amount=500,
                       idempotency_key="hist-exchange-1")
    items = client.get("/api/history?limit=2", headers=line.headers(ALICE)).get_json()["items"]
    assert [i["value_label"] for i in items] == ["交換", "+500ポイント"]
    check_in(client, line, "BEACH", sub=EMILY)
    english = client.get("/api/history?limit=1", headers=line.headers(EMILY)).get_json()["items"]
    assert [i["value_label"] for i in english] == ["+500 points"]
