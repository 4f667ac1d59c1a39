"""The LIFF API in English for an English reader: event names and places, history titles and money
types, and one English name per voucher in a refusal."""
from __future__ import annotations

from sqlalchemy import update

from ledger.models import Event
from tests.liff.conftest import EMILY, err


def test_event_and_its_history_line_read_in_english(client, town, line):
    with town.machi.db.write() as s:
        s.execute(update(Event).where(Event.code == "BEACH").values(name_en="Beach clean-up", place_en="Tomamae beach"))
    shown = client.get("/api/events/BEACH", headers=line.headers(EMILY)).get_json()
    assert (shown["name"], shown["place"]) == ("Beach clean-up", "Tomamae beach")
    done = client.post("/api/checkins", headers=line.headers(EMILY), json={"code": "BEACH"}).get_json()
    assert done["checkin"]["event"] == "Beach clean-up"
    items = client.get("/api/history", headers=line.headers(EMILY)).get_json()["items"]
    assert items[0]["title"] == "Beach clean-up" and items[1]["title"] == "Voucher (local shops)"
    assert items[1]["money_types"] == ["Voucher (local shops)"]


def test_a_shop_only_voucher_is_named_as_her_balance_names_it(client, town, line):
    resp = client.post("/api/payments", headers=line.headers(EMILY),
                       json={"merchant_code": "L1", "amount": 500, "idempotency_key": "english-0001"})
    message = err(resp)["message"]
    assert "“Voucher (local shops)”" in message and "certificates" not in message
