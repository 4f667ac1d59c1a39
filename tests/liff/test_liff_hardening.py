"""Issue #14 (web side): bodies bounded before they are read, input that Python's own checks let
through ("²", deep JSON), security headers, and no traceback in any answer."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from ledger.models import Entry
from tests.liff.conftest import ALICE, BAKER, CARD, PIN, err

GOOD = {"merchant_code": "S1", "amount": 100, "idempotency_key": "good-key-0001"}


def entries(town) -> int:
    with town.machi.db.session() as s:
        return s.execute(select(func.count()).select_from(Entry)).scalar_one()


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("path", ["/api/payments", "/api/checkins"])
@pytest.mark.parametrize("body", [
    nested(100_000)[:15_000],  # under the size limit, far past the parser's recursion
    b'{"code": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    json.dumps({**GOOD, "x": json.loads(nested(30).decode())}).encode(),  # parses, but deeper than a page sends
])
def test_deeply_nested_json_is_a_400_not_a_500(client, town, line, path, body):
    before = entries(town)
    resp = client.post(path, headers=line.headers(ALICE), data=body, content_type="application/json")
    assert resp.status_code == 400, resp.get_data(as_text=True)[:300]
    e = err(resp)
    assert e["code"] == "bad_request" and "読み取れません" in e["message"]
    assert entries(town) == before


@pytest.mark.parametrize("query", ["/api/history?limit=²", "/api/history?before=²", "/api/history?limit=٣",
                                   "/api/history?limit=３", "/api/history?before=" + "9" * 400,
                                   "/api/history?limit=-1", "/api/history?limit=1e3"])
def test_odd_digits_in_history_paging_are_a_400(client, town, line, query):
    e = err(client.get(query, headers=line.headers(ALICE)))
    assert e["code"] == "invalid_input" and "ページの指定" in e["message"]


@pytest.mark.parametrize("days_back", ["²", "٣", "1²", "0x1"])
def test_odd_digits_in_the_till_summary_are_a_400(client, town, line, days_back):
    resp = client.get(f"/api/till/summary?days_back={days_back}", headers=line.headers(BAKER))
    assert err(resp)["code"] == "invalid_input"


@pytest.mark.parametrize("number", ["8000000000²1", "²" * 12, "٨٠٠٠٠٠٠٠٠٠٠١", "8000000000٠١"])
def test_card_numbers_with_odd_digits_are_refused_in_japanese(client, town, line, number):
    before = entries(town)
    pay = client.post("/api/payments", headers=line.headers(BAKER),
                      json={"card_number": number, "pin": PIN, "amount": 100, "idempotency_key": "card-odd-0001"})
    e = err(pay)
    assert e["code"] in ("invalid_input", "not_found") and any("\u3040" <= ch <= "\u30ff" for ch in e["message"])
    look = client.get(f"/api/cards/{number}", headers=line.headers(BAKER))
    assert 400 <= look.status_code < 500
    assert entries(town) == before


def test_a_pin_of_odd_digits_is_not_a_pin_and_spends_no_attempt(client, town, line):
    e = err(client.post("/api/payments", headers=line.headers(BAKER),
                        json={"card_number": CARD, "pin": "²²²²", "amount": 100, "idempotency_key": "card-odd-0002"}))
    assert e["code"] == "invalid_input" and "4桁" in e["message"]
    ok = client.post("/api/payments", headers=line.headers(BAKER),
                     json={"card_number": CARD, "pin": "9999", "amount": 100, "idempotency_key": "card-odd-0003"})
    assert "あと4回" in err(ok)["message"]  # the first real miss is still the first


def test_an_oversized_body_is_refused_before_it_is_read(client, town, line, app):
    resp = client.post("/api/payments", headers=line.headers(ALICE), data=b"x" * (16 * 1024 + 1),
                       content_type="application/json")
    assert resp.status_code == 413 and err(resp)["code"] == "too_large"


def test_a_body_without_a_length_stops_at_the_limit(app, town, line):
    """Sent chunked (no Content-Length) to a served app: refused at the limit, not read to its end."""
    import http.client
    import threading

    from werkzeug.serving import make_server

    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", srv.server_port, timeout=10)
        conn.request("POST", "/api/payments", body=(b" " * 1024 for _ in range(40)), encode_chunked=True,
                     headers={**line.headers(ALICE), "Content-Type": "application/json"})
        resp = conn.getresponse()
        assert resp.status == 413
        assert json.loads(resp.read())["error"]["message"] == "送られた内容が大きすぎます。"
        conn.close()
    finally:
        srv.shutdown()
        thread.join(5)


def test_an_unexpected_error_is_a_json_500_without_a_traceback(client, town, line, monkeypatch):
    from liff import api

    def boom(*_a, **_k):
        raise RuntimeError("secret internals: Traceback line 42")

    monkeypatch.setattr(api, "balances", boom)
    resp = client.get("/api/me", headers=line.headers(ALICE))
    assert resp.status_code == 500
    body = resp.get_json()
    assert body["error"]["code"] == "server_error" and "しばらくしてから" in body["error"]["message"]
    assert "Traceback" not in resp.get_data(as_text=True) and "secret internals" not in resp.get_data(as_text=True)


def test_security_headers_on_pages_and_the_api(client, town, line):
    page = client.get("/liff/pay")
    api = client.get("/api/me", headers=line.headers(ALICE))
    for resp in (page, api, client.get("/healthz"), client.get("/api/nothing")):
        h = resp.headers
        csp = h["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'self'" in csp and "object-src 'none'" in csp
        assert "https://" not in csp  # dev and test load no script from outside (the LIFF shim is ours)
        assert h["X-Content-Type-Options"] == "nosniff" and h["Referrer-Policy"] == "no-referrer"
        assert "Strict-Transport-Security" not in h  # plain http: no HSTS
    assert api.headers["Cache-Control"] == "no-store"
    assert "no-store" not in page.headers.get("Cache-Control", "")


def test_hsts_only_over_https(client, town):
    assert "Strict-Transport-Security" in client.get("/healthz", base_url="https://localhost").headers
    assert "Strict-Transport-Security" not in client.get("/healthz").headers


def test_production_allows_exactly_the_liff_sdk(config):
    from web.headers import content_security_policy

    csp = dict(part.split(" ", 1) for part in content_security_policy("prod").split("; "))
    assert csp["script-src"] == "'self' https://static.line-scdn.net"  # liff.pages.LIFF_SDK_URL, nothing else
    assert csp["frame-ancestors"] == "'none'" and csp["style-src"] == "'self'"


def test_behind_a_trusted_proxy_https_is_believed(db_url):
    from app import create_app
    from config import load_config

    app = create_app(load_config(database_url=db_url, env="test", line_api_host="http://127.0.0.1:9",
                                 trust_proxy="1"))
    try:
        resp = app.test_client().get("/healthz", headers={"X-Forwarded-Proto": "https"})
        assert resp.headers["Strict-Transport-Security"].startswith("max-age=")
    finally:
        app.extensions["machi"].close(grace=0)


def test_a_bad_size_setting_is_refused_in_japanese():
    from config import ConfigError, load_config

    with pytest.raises(ConfigError, match="MACHI_MAX_BODY"):
        load_config(max_body="²")
