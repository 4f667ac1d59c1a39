"""Fuzzing the JSON API and the webhook with Hypothesis: whatever arrives, the answer is never a 5xx.

Few examples by default (fast enough for every run); `MACHI_FUZZ_EXAMPLES=2000` for a long hunt.
"""
from __future__ import annotations

import json
import os
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.webhook import sign
from tests.liff.conftest import ALICE, BAKER, line, town  # noqa: F401 - fixtures

EXAMPLES = int(os.environ.get("MACHI_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize="MACHI_FUZZ_EXAMPLES" not in os.environ,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

odd_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=40) | st.sampled_from(
    ["²", "٣", "３", "-1", "0", "1e3", "NaN", "9" * 400, "MWE.BEACH", "MWE.BEACH.1.abcdef012345", "../..", "%00",
     "800000000011", "S1", "BEACH", "https://x/liff/checkin?code=BEACH&t=1.x"])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | odd_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(odd_text, inner, max_size=4),
    max_leaves=20)
api_fields = st.fixed_dictionaries({}, optional={
    "amount": json_values, "merchant_code": json_values, "cpm_token": json_values, "card_number": json_values,
    "pin": json_values, "idempotency_key": json_values, "code": json_values, "t": json_values})
bodies = (api_fields.map(lambda d: json.dumps(d).encode()) | json_values.map(lambda v: json.dumps(v).encode())
          | st.binary(max_size=300) | st.integers(1, 60).map(lambda n: b"[" * n * 100 + b"]" * n * 100))
ROUTES = [("POST", "/api/payments"), ("POST", "/api/checkins"), ("POST", "/api/cpm-tokens"),
          ("GET", "/api/me"), ("GET", "/api/history"), ("GET", "/api/till/summary"),
          ("GET", "/api/cards/{x}"), ("GET", "/api/events/{x}"), ("GET", "/api/merchants/{x}"),
          ("GET", "/api/cpm-tokens/{x}"), ("POST", "/api/payments/{x}/refund"), ("POST", "/api/payments/1/refund")]
QUERY_KEYS = ["limit", "before", "days_back", "merchant_code", "t", "x"]


@FUZZ
@given(route=st.sampled_from(ROUTES), segment=odd_text, body=bodies, who=st.sampled_from([ALICE, BAKER, None]),
       query=st.dictionaries(st.sampled_from(QUERY_KEYS), odd_text, max_size=3),
       content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded"]))
def test_the_api_never_answers_5xx(client, town, line, route, segment, body, who, query, content_type):  # noqa: F811
    client.application.extensions["machi"].extras["bot"].client.backoff = 0.0  # receipts to no LINE: fail fast
    method, path = route
    path = path.replace("{x}", quote(segment, safe="") or "x")
    headers = line.headers(who) if who else {"Authorization": "Bearer " + segment}
    resp = client.open(path, method=method, headers=headers, query_string=query,
                       data=body if method == "POST" else None, content_type=content_type)
    assert resp.status_code < 500, (method, path, query, body[:200], resp.get_data(as_text=True)[:300])
    if resp.status_code >= 400:
        error = resp.get_json()["error"]
        assert error["code"] and error["message"]


@pytest.fixture
def webhook_app(db_url):
    from app import create_app
    from config import load_config

    app = create_app(load_config(database_url=db_url, env="test", line_api_host="http://127.0.0.1:9",
                                 line_channel_secret="fuzz-secret", ratelimit_webhook="100000/minute"))
    bot = app.extensions["machi"].extras["bot"]
    bot.client.backoff = 0.0
    bot.client.timeout = 0.2
    yield app
    app.extensions["machi"].close(grace=0)


event_ids = st.none() | st.text(max_size=5) | st.text(min_size=90, max_size=200) | st.integers() | odd_text
events = st.fixed_dictionaries({"type": st.sampled_from(["message", "follow", "unfollow", "postback", "join",
                                                         "memberJoined", "unsend", "nope"]) | odd_text},
                               optional={"webhookEventId": event_ids, "source": json_values,
                                         "message": json_values, "postback": json_values, "replyToken": json_values,
                                         "mode": st.sampled_from(["active", "standby"]) | odd_text})
envelopes = (st.lists(events | json_values, max_size=4).map(lambda evs: {"destination": "U0", "events": evs})
             | json_values)
webhook_bodies = envelopes.map(lambda v: json.dumps(v).encode()) | st.binary(max_size=300)


@FUZZ
@given(body=webhook_bodies, signed=st.booleans())
def test_the_webhook_never_answers_5xx(webhook_app, body, signed):
    headers = {"Content-Type": "application/json",
               "X-Line-Signature": sign("fuzz-secret", body) if signed else "forged"}
    resp = webhook_app.test_client().post("/callback", data=body, headers=headers)
    assert resp.status_code == (200 if signed else 400), (body[:300], resp.status_code)
