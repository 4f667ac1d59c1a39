"""The console in Debian's Chromium at 125 % zoom on a 1366×768 screen: sign in with a password and a
TOTP code (computed with pyotp), search a resident by katakana, open their page, verify them. Each
screen is saved under test-artifacts/console/ for a human to look at."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from ledger.models import Resident
from tests.browser import ARGS, CHROMIUM, MARKS, artifacts
from town.staff import ADMIN

from .conftest import PASSWORD

ARTIFACTS = artifacts("console")
pytestmark = MARKS


@pytest.fixture
def server(app) -> Iterator[str]:
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    thread.join(5)


@pytest.fixture
def page(server, tmp_path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        ctx = browser.new_context(viewport={"width": 1093, "height": 614}, device_scale_factor=1.25,
                                  locale="ja-JP", timezone_id="Asia/Tokyo", base_url=server)
        p = ctx.new_page()
        p.set_default_timeout(10_000)
        p.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        p.on("console", lambda msg: problems.append(msg.text)
             if msg.type == "error" and "status of 40" not in msg.text else None)  # refusals are answers
        yield p
        ctx.close()
        browser.close()
    assert not problems, problems


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def fits(page: Any) -> bool:
    """Nothing runs off the side at 125 % zoom (no sideways scrolling)."""
    return page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def plain(page: Any) -> None:
    """No inline script or style (the app's Content-Security-Policy forbids them), no outside address."""
    html = page.content()
    assert "<script" not in html and "style=" not in html and "https://" not in html


def test_sign_in_search_by_katakana_and_verify(page, make_staff, residents, core):
    admin = make_staff(ADMIN, "tanto")
    page.goto("/console/")
    page.wait_for_selector("h1:has-text('サインイン')")
    plain(page)
    assert page.evaluate("() => document.activeElement.id") == "login"  # the first field has the focus
    assert page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.keyboard.type(admin.login)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    shot(page, "01-sign-in")
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:has-text('確認コードの入力')")
    page.fill("#code", admin.code())
    shot(page, "02-totp")
    page.click("button:has-text('確認する')")
    page.wait_for_selector("h1:has-text('ダッシュボード')")
    assert fits(page)
    plain(page)
    shot(page, "03-dashboard")

    page.click("nav >> text=住民をさがす")
    page.wait_for_selector("h1:has-text('住民をさがす')")
    page.fill("#birth", "1938年3月32日")
    page.click("button:has-text('さがす')")
    page.wait_for_selector("#birth-error")
    assert "1938-03-03 のように" in page.inner_text("#birth-error")
    shot(page, "04-search-bad-date")
    page.fill("#birth", "")
    page.fill("#kana", "ﾀﾅｶ")
    page.click("button:has-text('さがす')")
    page.wait_for_selector("h2:has-text('検索結果 1 件')")
    assert fits(page)
    shot(page, "05-search-results")

    page.click("a:has-text('田中 トメ')")
    page.wait_for_selector("h1:has-text('田中 トメ')")
    assert page.inner_text("#verification").startswith("未確認")
    shot(page, "06-resident")
    page.click("button:has-text('本人確認済みにする')")
    page.wait_for_selector("#done")
    assert page.inner_text("#verification").startswith("窓口で確認済み")
    assert fits(page)
    plain(page)
    shot(page, "07-verified")
    with core.db.session() as s:
        assert s.get(Resident, residents["tome"]).verification == "counter"
