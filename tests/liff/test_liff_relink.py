"""After a relink the old LINE account's LIFF token (still valid at LINE) no longer opens the wallet;
the new account's does, with the same balance."""
from __future__ import annotations

from tests.liff.conftest import ALICE
from town import relink

NEW_PHONE = "U" + "c3" * 16


def test_old_token_loses_the_wallet_at_once(client, town, line):
    before = town.balance(ALICE)
    old = line.headers(ALICE)
    assert client.get("/api/me", headers=old).get_json()["registered"] is True
    relink.relink(town.machi.db, town.ids["alice"], NEW_PHONE, actor="staff:test", via="counter")
    me = client.get("/api/me", headers=old).get_json()
    assert me["registered"] is False and not me.get("balances")
    assert client.post("/api/cpm-tokens", headers=old, json={}).status_code in (401, 403, 404)
    new = client.get("/api/me", headers=line.headers(NEW_PHONE)).get_json()
    assert new["registered"] is True and town.balance(NEW_PHONE) == before == 8_000
