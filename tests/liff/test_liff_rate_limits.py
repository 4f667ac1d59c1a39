"""Rate limits (Flask-Limiter): per ID token and per address on /api, per card on lookups and PIN
attempts; a refused LIFF token is remembered, so junk asks LINE once. Limits lowered for the test."""
from __future__ import annotations

import socket

import pytest

from config import load_config
from liff.errors import ApiError
from tests.liff.conftest import ALICE, BAKER, BOB, CARD, PIN, err


@pytest.fixture
def config(db_url):
    return load_config(database_url=db_url, env="test", line_api_host="http://127.0.0.1:9",
                       ratelimit_per_token="5/minute", ratelimit_per_address="8/minute",
                       ratelimit_per_card="3/minute")


def too_many(resp) -> None:
    assert resp.status_code == 429, resp.get_data(as_text=True)
    e = err(resp)
    assert e["code"] == "too_many_requests" and "少し待ってから" in e["message"]


def test_one_token_is_limited_and_another_is_not(client, town, line):
    alice = line.headers(ALICE)
    for _ in range(5):
        assert client.get("/api/me", headers=alice).status_code == 200
    too_many(client.get("/api/me", headers=alice))
    assert client.get("/api/me", headers=line.headers(BOB)).status_code == 200  # another phone: its own count


def test_refused_calls_from_one_address_are_limited(client, town, line):
    for n in range(8):
        assert client.get("/api/me", headers={"Authorization": f"Bearer junk-{n}"}).status_code == 401
    too_many(client.get("/api/me", headers={"Authorization": "Bearer junk-next"}))
    too_many(client.get("/api/me", headers=line.headers(ALICE)))  # the address is cooling down
    assert client.get("/api/me", headers=line.headers(ALICE),
                      environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 200  # another address is not


def test_card_attempts_are_limited_per_card(client, town, line):
    baker = {"Authorization": f"Bearer {line.token(BAKER)}"}
    for n in range(3):
        assert client.post("/api/cards/lookup", headers=baker, json={"card_number": CARD}).status_code == 200, n
    payment = client.post("/api/payments", headers={"Authorization": f"Bearer {line.token(BAKER)}"},
                          json={"card_number": CARD, "pin": PIN, "amount": 100, "idempotency_key": "card-rate-0001"})
    too_many(payment)
    assert town.balance(town.ids["elder"]) == 4_000  # nothing paid, and the PIN was not tried


def test_200_calls_with_one_junk_token_ask_line_once(client, town, line):
    client.application.extensions["machi_rate_limits"].limiter.enabled = False  # only the cache at work
    for _ in range(200):
        e = err(client.get("/api/me", headers={"Authorization": "Bearer junk-token"}))
        assert e["code"] == "unauthorized"
    assert line.calls == 1


def test_a_refused_token_is_asked_again_after_a_while(app, town, line):
    verifier = app.extensions["machi"].extras["liff"].verifier
    with pytest.raises(ApiError, match="ログイン"):
        verifier.verify("junk-token")
    with pytest.raises(ApiError, match="ログイン"):
        verifier.verify("junk-token")
    assert line.calls == 1
    real = verifier.clock
    verifier.clock = lambda: real() + 120
    with pytest.raises(ApiError, match="ログイン"):
        verifier.verify("junk-token")
    assert line.calls == 2


def test_line_being_down_is_not_remembered(client, town, line):
    headers = line.headers(ALICE)
    line.down = True
    assert client.get("/api/me", headers=headers).status_code == 503
    line.down = False
    assert client.get("/api/me", headers=headers).status_code == 200


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.3).close()
    except OSError:
        return False
    try:
        import redis  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not _redis_up(), reason="no redis on 127.0.0.1:6379 (or the redis extra not installed)")
def test_two_apps_share_counts_on_redis(db_url):
    """gunicorn's workers each have an app: with redis:// they count together."""
    import uuid

    import responses

    from app import create_app
    from tests.liff.conftest import LineMock

    config = load_config(database_url=db_url, env="test", line_api_host="http://127.0.0.1:9",
                         ratelimit_storage="redis://127.0.0.1:6379", ratelimit_per_token="4/minute")
    apps = [create_app(config), create_app(config)]
    mock = LineMock(url=config.line_api_host + "/oauth2/v2.1/verify")
    fresh = mock.token("U" + uuid.uuid4().hex)  # a stranger (no data needed) whose count starts at 0 in redis
    try:
        with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            rsps.add_callback(responses.POST, mock.url, callback=mock.callback)
            statuses = [apps[n % 2].test_client().get("/api/me", headers={"Authorization": f"Bearer {fresh}"})
                        .status_code for n in range(6)]
    finally:
        for a in apps:
            a.extensions["machi"].close(grace=0)
    assert statuses == [200, 200, 200, 200, 429, 429]
