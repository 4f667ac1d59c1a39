"""Every /api call is made as the LINE user whose LIFF ID token LINE vouches for."""
from __future__ import annotations

import requests

from tests.liff.conftest import ALICE, BAKER, CHANNEL_ID, NEWBIE, err


def test_missing_token_is_refused_in_japanese(client, town):
    e = err(client.get("/api/me"))
    assert e["code"] == "unauthorized" and "ログイン" in e["message"]
    e = err(client.get("/api/me", headers={"Authorization": "Basic abc"}))
    assert e["code"] == "unauthorized"


def test_unknown_or_expired_token_is_refused(client, town, line):
    assert client.get("/api/me", headers={"Authorization": "Bearer forged"}).status_code == 401
    old = line.token(ALICE, ttl=-10)
    e = err(client.get("/api/me", headers={"Authorization": f"Bearer {old}"}))
    assert e["code"] == "unauthorized" and "有効期限" in e["message"]


def test_token_for_another_channel_is_refused(client, town, line):
    tok = line.token(ALICE, aud="999")
    assert client.get("/api/me", headers={"Authorization": f"Bearer {tok}"}).status_code == 401


def test_verify_is_asked_once_per_token_with_the_login_channel(client, town, line):
    headers = line.headers(ALICE)
    for _ in range(3):
        assert client.get("/api/me", headers=headers).status_code == 200
    assert line.calls == 1


def test_cached_answer_ends_with_the_token(client, town, line, app):
    headers = line.headers(ALICE)
    assert client.get("/api/me", headers=headers).status_code == 200
    verifier = app.extensions["machi"].extras["liff"].verifier
    real_clock = verifier.clock
    verifier.clock = lambda: real_clock() + 7200
    e = err(client.get("/api/me", headers=headers))
    assert e["code"] == "unauthorized"


def test_line_down_is_a_503_with_advice(client, town, line):
    line.down = True
    resp = client.get("/api/me", headers=line.headers(ALICE))
    assert resp.status_code == 503
    assert resp.get_json()["error"]["code"] == "line_unavailable"


def test_line_unreachable_is_a_503(client, town, line, monkeypatch):
    def boom(*_a, **_k):
        raise requests.ConnectionError("no route")

    monkeypatch.setattr("liff.auth.requests.post", boom)
    assert client.get("/api/me", headers=line.headers(ALICE)).status_code == 503


def test_verify_request_carries_token_and_channel(town, line, app):
    verifier = app.extensions["machi"].extras["liff"].verifier
    assert verifier.url == "http://127.0.0.1:9/oauth2/v2.1/verify"
    assert verifier.channel_id == CHANNEL_ID
    tok = line.token(BAKER)
    assert verifier.verify(tok).sub == BAKER


def test_me_for_a_resident(client, town, line):
    me = client.get("/api/me", headers=line.headers(ALICE)).get_json()
    assert me["registered"] and me["language"] == "ja" and me["name"] == "町 花子"
    by_code = {b["money_type"]: b for b in me["balances"]}
    assert by_code["COMMON"]["amount"] == 5_000 and by_code["LOCAL"]["amount"] == 3_000
    assert by_code["LOCAL"]["note"].endswith("（専用券）") and by_code["COMMON"]["next_expiry"] == "2099-03-31"
    assert me["total"] == 8_000 and me["merchants"] == [] and me["max_payment"] == 100_000


def test_me_for_staff_lists_their_shop(client, town, line):
    me = client.get("/api/me", headers=line.headers(BAKER)).get_json()
    assert me["merchants"] == [{"code": "S1", "name": "まちのパン屋", "role": "owner", "category": "small"}]


def test_me_for_an_unregistered_user(client, town, line):
    me = client.get("/api/me", headers=line.headers(NEWBIE)).get_json()
    assert me["registered"] is False and me["balances"] == [] and me["merchants"] == []
    e = err(client.post("/api/cpm-tokens", headers=line.headers(NEWBIE)))
    assert e["code"] == "not_registered" and "登録" in e["message"]


def test_points_are_shown_apart_from_spendable_money(client, town, line):
    town.give("alice", "PT", 700)
    me = client.get("/api/me", headers=line.headers(ALICE)).get_json()
    assert me["total"] == 8_000 and me["points"] == 700
    pt = next(b for b in me["balances"] if b["money_type"] == "PT")
    assert pt["spendable"] is False and "交換" in pt["note"]
