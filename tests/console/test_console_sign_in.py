"""Signing in: the one-time link, lockout, TOTP for money roles, idle expiry, sign-out everywhere, CSRF,
and the cookie's flags."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pyotp
from sqlalchemy import select

from app import create_app
from config import load_config
from console.session import KEY
from ledger.models import Resident
from town import staff
from town.staff import CHAMBER, COUNTER, STAFF, VIEWER, StaffAccount

from .conftest import PASSWORD, Staff


def _account(core, login: str) -> StaffAccount:
    with core.db.session() as s:
        return s.execute(select(StaffAccount).where(StaffAccount.login == login)).scalar_one()


def test_the_one_time_link_sets_a_password_once(core, browser):
    with core.db.write() as s:
        _account_row, token = staff.create(s, "yamada", "山田 太郎", "窓口")
    link = f"/console/setup/{token}"
    page = browser.get(link)
    assert page.status_code == 200 and "yamada" in page.get_data(as_text=True)
    short = browser.post(link, {"password": "short", "confirm": "short"}, page=link)
    assert short.status_code == 400 and "10文字以上" in short.get_data(as_text=True)
    differ = browser.post(link, {"password": PASSWORD, "confirm": PASSWORD + "x"}, page=link)
    assert differ.status_code == 400 and "一致しません" in differ.get_data(as_text=True)
    assert _account(core, "yamada").password_hash is None  # nothing changed
    assert browser.post(link, {"password": PASSWORD, "confirm": PASSWORD}, page=link).status_code == 302
    again = browser.get(link)
    assert again.status_code == 404 and "このリンクは使えません" in again.get_data(as_text=True)
    assert _account(core, "yamada").link_hash is None
    assert browser.sign_in(Staff(0, "yamada", COUNTER, None)).headers["Location"] == "/console/"


def test_a_link_past_its_time_is_refused(core, browser):
    with core.db.write() as s:
        account, token = staff.create(s, "late", "遅野 太郎", "閲覧")
        account.link_expires_at = staff.utcnow() - timedelta(minutes=1)
    assert browser.get(f"/console/setup/{token}").status_code == 404


def test_five_failures_lock_the_account_for_fifteen_minutes(core, browser, make_staff, audit_rows):
    who = make_staff(COUNTER)
    for _ in range(4):
        r = browser.sign_in(who, password="wrong password")
        assert r.status_code == 401 and "正しくありません" in r.get_data(as_text=True)
    fifth = browser.sign_in(who, password="wrong password")
    assert "までサインインできません" in fifth.get_data(as_text=True)
    refused = browser.sign_in(who)  # the right password, while locked
    assert refused.status_code == 401 and "までサインインできません" in refused.get_data(as_text=True)
    assert browser.get("/console/").status_code == 302
    with core.db.write() as s:  # fifteen minutes later
        s.get(StaffAccount, who.id).locked_until = staff.utcnow() - timedelta(seconds=1)
    assert browser.sign_in(who).headers["Location"] == "/console/"
    assert [r.result for r in audit_rows("console.sign_in")] == ["wrong"] * 4 + ["locked", "locked", "ok"]


def test_money_roles_must_set_up_totp_before_any_page(core, browser, make_staff, residents):
    who = make_staff(STAFF, totp=False)
    r = browser.post("/console/sign-in", {"login": who.login, "password": PASSWORD})
    assert r.headers["Location"] == "/console/totp/setup"
    assert browser.get("/console/").headers["Location"] == "/console/totp"
    setup = browser.get("/console/totp/setup")
    assert "二段階認証の設定" in setup.get_data(as_text=True)
    qr = browser.get("/console/totp/qr.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml" and b"<svg" in qr.data
    secret = _account(core, who.login).totp_secret
    wrong = browser.post("/console/totp/setup", {"code": "000000"}, page="/console/totp/setup")
    assert wrong.status_code == 401 and "確認コードが正しくありません" in wrong.get_data(as_text=True)
    assert browser.get("/console/").status_code == 302
    ok = browser.post("/console/totp/setup", {"code": pyotp.TOTP(secret).now()}, page="/console/totp/setup")
    assert ok.headers["Location"] == "/console/"
    assert browser.get("/console/").status_code == 200
    assert _account(core, who.login).totp_confirmed_at is not None


def test_a_money_role_with_totp_is_asked_for_the_code_every_time(new_browser, make_staff):
    who = make_staff(CHAMBER)
    b = new_browser()
    r = b.post("/console/sign-in", {"login": who.login, "password": PASSWORD})
    assert r.headers["Location"] == "/console/totp"
    assert b.get("/console/").headers["Location"] == "/console/totp"
    assert b.post("/console/totp", {"code": who.code()}, page="/console/totp").headers["Location"] == "/console/"
    assert b.get("/console/").status_code == 200


def test_roles_that_move_no_money_sign_in_with_a_password(browser, make_staff):
    r = browser.sign_in(make_staff(VIEWER))
    assert r.headers["Location"] == "/console/"


def test_thirty_idle_minutes_end_the_session(browser, make_staff):
    browser.sign_in(make_staff(COUNTER))
    assert browser.get("/console/").status_code == 200
    with browser.client.session_transaction() as sess:
        sess[KEY] = dict(sess[KEY], seen=int(time.time()) - 31 * 60)
    r = browser.get("/console/")
    assert r.status_code == 302 and "expired=1" in r.headers["Location"]
    assert "30分間操作がなかったため" in browser.get(r.headers["Location"]).get_data(as_text=True)
    assert browser.get("/console/").status_code == 302


def test_sign_out_everywhere_ends_every_device(new_browser, make_staff, audit_rows):
    who = make_staff(COUNTER)
    office, home = new_browser(), new_browser()
    office.sign_in(who)
    home.sign_in(who)
    assert office.get("/console/").status_code == home.get("/console/").status_code == 200
    r = office.post("/console/sign-out-everywhere", page="/console/")
    assert r.headers["Location"] == "/console/sign-in"
    assert home.get("/console/").status_code == 302
    assert office.get("/console/").status_code == 302
    assert [a.actor for a in audit_rows("console.sign_out_everywhere")] == [f"console:{who.login}"]


def test_a_form_without_its_csrf_token_is_refused(browser, make_staff, residents, core):
    who = make_staff(COUNTER)
    no_token = browser.client.post("/console/sign-in", data={"login": who.login, "password": PASSWORD})
    assert no_token.status_code == 400 and "もう一度お試しください" in no_token.get_data(as_text=True)
    browser.sign_in(who)
    forged = browser.client.post(f"/console/residents/{residents['tome']}/verify", data={"csrf_token": "forged"})
    assert forged.status_code == 400
    with core.db.session() as s:
        assert s.get(Resident, residents["tome"]).verification == "unverified"


def test_the_liff_api_and_the_webhook_need_no_console_token(client):
    webhook = client.post("/callback", data="{}", headers={"Content-Type": "application/json"})
    assert b"csrf" not in webhook.data.lower() and "もう一度お試しください" not in webhook.get_data(as_text=True)
    api = client.post("/api/payments", json={})
    assert api.is_json


def test_the_session_cookie_is_httponly_and_samesite_lax(browser, make_staff):
    r = browser.sign_in(make_staff(COUNTER))
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie  # http in tests


def test_the_cookie_is_secure_behind_https(db_url):
    app = create_app(load_config(database_url=db_url, env="test", public_url="https://machi.example.jp"))
    try:
        assert app.config["SESSION_COOKIE_SECURE"] is True
    finally:
        app.extensions["machi"].close(grace=0)


def test_a_totp_code_works_only_once(new_browser, make_staff):
    who = make_staff(STAFF)
    code = who.code()
    first, second = new_browser(), new_browser()
    first.post("/console/sign-in", {"login": who.login, "password": PASSWORD})
    assert first.post("/console/totp", {"code": code}, page="/console/totp").headers["Location"] == "/console/"
    second.post("/console/sign-in", {"login": who.login, "password": PASSWORD})
    replay = second.post("/console/totp", {"code": code}, page="/console/totp")
    assert replay.status_code == 401 and "確認コードが正しくありません" in replay.get_data(as_text=True)


def test_concurrent_wrong_passwords_lock_after_exactly_five(core, make_staff):
    """Ten guesses at once: the count is kept under the row's lock, so the fifth locks and the rest are refused."""
    who = make_staff(COUNTER)
    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(lambda _: staff.verify_password(core.db, who.login, "wrong password"), range(10)))
    reasons = sorted(r.reason for r in results)
    assert reasons == ["locked"] * 6 + ["wrong"] * 4
    assert staff.verify_password(core.db, who.login, PASSWORD).reason == "locked"
