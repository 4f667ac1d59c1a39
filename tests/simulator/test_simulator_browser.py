"""The whole product on one screen, clicked through in the simulator as a person would, in headless Chromium
(Debian's), on the dev server as `make run` starts it (LINE_API_HOST pointing at itself, the real bot).

鈴木 健太 adds the town account, registers in the chat (quick replies, the date picker, the confirm
card), the town office takes his child's birth notice and pays the childbirth grant (the notice arrives
in his chat), he pays こむぎベーカリー by scanning the QR its owner shows, then Aコープ's clerk by showing
his own QR; each shop sees its sale. The screens are saved under test-artifacts/simulator/."""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from simulator.personas import STAFF
from tests.browser import ARGS, CHROMIUM, MARKS, artifacts
from tests.simulator.conftest import ACOOP, BAKER, HANAKO, KENTA, LiveSim, auth

ARTIFACTS = artifacts("simulator")
pytestmark = MARKS


@pytest.fixture
def page(live_sim: LiveSim) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        context = browser.new_context(viewport={"width": 1720, "height": 980}, locale="ja-JP",
                                      timezone_id="Asia/Tokyo", base_url=live_sim.url)
        pg = context.new_page()
        pg.set_default_timeout(15_000)
        pg.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        yield pg
        browser.close()
    assert not problems, problems


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def phone(page: Any, slot: str) -> Any:
    return page.locator(f"section[data-slot='{slot}']")


def bot_says(ph: Any, text: str) -> None:
    """Wait for the town account's latest bubbles to contain `text`, read across the lines a long
    Japanese title or value is set on (bot.render sets them between phrases)."""
    wanted = text if text.isascii() else re.compile(r"\s*".join(map(re.escape, text)))
    ph.locator(".row.bot", has_text=wanted).last.wait_for()


def quick(ph: Any, label: str) -> None:
    ph.locator(".quick-replies button", has_text=label).first.click()


def type_text(ph: Any, text: str) -> None:
    if not ph.locator(".input").is_visible():
        ph.locator(".to-keyboard").click()
    ph.locator(".input").fill(text)
    ph.locator(".send").click()


def keys(frame: Any, digits: str) -> None:
    for key in digits:
        frame.locator(f"#amount-keypad button[data-key='{key}']").click()


def test_register_receive_a_grant_and_pay_two_shops_on_one_screen(page: Any, live_sim: LiveSim) -> None:
    page.goto(f"/simulator/?left={KENTA}&right={ACOOP}&third={BAKER}&fourth={STAFF.user_id}")
    page.wait_for_selector("body[data-ready='1']")
    kenta, clerk, baker, office = (phone(page, s) for s in ("left", "right", "third", "fourth"))
    page.wait_for_selector("section[data-slot='right'][data-menu='machi-shop']")

    # follow: the gate disappears, the bot greets him and the guest menu shows
    kenta.locator(".add-friend").click()
    bot_says(kenta, "まちウォレットへようこそ")
    assert kenta.get_attribute("data-menu") == "machi-guest"
    shot(page, "01-followed")

    # register in the chat: rich menu tile, quick replies, typed text, the date picker, the confirm card
    kenta.locator(".rm-area[data-label='登録する']").click()
    bot_says(kenta, "利用規約に同意しますか")
    quick(kenta, "はい")
    bot_says(kenta, "個人情報の取り扱いに同意しますか")
    quick(kenta, "はい")
    bot_says(kenta, "カード（プラスチックのカード）をお持ちですか")
    quick(kenta, "持っていない")
    bot_says(kenta, "お名前（漢字）を入力してください")
    type_text(kenta, "鈴木 健太")
    bot_says(kenta, "フリガナ")
    type_text(kenta, "すずき けんた")
    bot_says(kenta, "生年月日を入力してください")
    quick(kenta, "日付をえらぶ")
    kenta.locator(".date-input").fill("1990-05-03")
    shot(page, "02-date-picker")
    kenta.locator(".date-ok").click()
    bot_says(kenta, "お住まいの地区を選んでください")
    quick(kenta, "苫前")
    bot_says(kenta, "電話番号を入力してください")
    quick(kenta, "とばす")
    bot_says(kenta, "1990年5月3日")
    shot(page, "03-confirm-card")
    kenta.locator(".row.bot").last.locator("button", has_text="はい、送る").click()
    bot_says(kenta, "登録しました")
    page.wait_for_selector("section[data-slot='left'][data-menu='machi-resident']")  # the menu switched

    # the town office: birth notice, then the childbirth grant; the notice arrives in his chat
    office.locator(".office-resident").select_option(label="鈴木 健太（苫前）", timeout=10_000)
    office.locator(".office-verify").click()  # grants wait for 本人確認: he shows his ID at the counter
    office.locator(".office-result.ok", has_text="本人確認済み").wait_for()
    office.locator(".office-birth").click()
    office.locator(".office-result.ok", has_text="出生届を受け付けました").wait_for()
    office.locator(".office-grant").click()
    office.locator(".office-result.ok", has_text="50,000円を入金しました").wait_for()
    bot_says(kenta, "給付金が届きました")
    assert "50,000円" in kenta.locator(".row.bot").last.inner_text()
    shot(page, "04-grant-arrived")

    # pay the bakery by scanning the QR its owner shows on his phone (MPM)
    baker.locator(".rm-area[data-label='読み取り']").click()
    till = baker.frame_locator(".liff-frame")
    till.locator("#s-home.active #to-shopqr").click()
    till.locator("#shopqr-img").wait_for()
    kenta.locator(".rm-area[data-label='支払う']").click()
    pay = kenta.frame_locator(".liff-frame")
    pay.locator("#s-home.active #to-scan").click()
    pay.locator("#s-start.active #scan").click()
    choice = kenta.locator(".picker-sheet .live .scan-choice", has_text="小麦 太郎の画面: お店のQR こむぎベーカリー")
    choice.wait_for()
    shot(page, "05-scanner-sees-the-shop-qr")
    choice.click()
    pay.locator("#s-amount.active").wait_for()
    keys(pay, "1200")
    pay.locator("#amount-next").click()
    pay.locator("#s-confirm.active #pay").click()
    pay.locator("#s-done.active").wait_for()
    assert "1,200" in pay.locator("#done-amount").inner_text()
    bot_says(baker, "1,200円")  # the shop's receipt push
    shot(page, "06-paid-the-bakery")

    # pay Aコープ by showing his code to the clerk, who scans it from her phone (CPM)
    pay.locator("#s-done.active a.button.primary").click()
    pay.locator("#s-home.active #show-qr").click()
    pay.locator("#s-qr.active #qr[data-payload^='MW1.']").wait_for()
    clerk.locator(".rm-area[data-label='読み取り']").click()
    register = clerk.frame_locator(".liff-frame")
    register.locator("#s-home.active #scan").click()
    shown = clerk.locator(".picker-sheet .live .scan-choice", has_text="鈴木 健太の画面")
    shown.wait_for()
    shot(page, "07-clerk-scans-his-code")
    shown.click()
    register.locator("#s-amount.active").wait_for()
    keys(register, "800")
    register.locator("#amount-next").click()
    register.locator("#s-confirm.active #confirm-pay").click()
    register.locator("#s-wait.active").wait_for()  # the clerk waits for his 支払う
    pay.locator("#s-approve.active").wait_for()  # he sees the shop and the amount before paying
    assert "800" in pay.locator("#approve-amount").inner_text()
    shot(page, "07b-he-confirms-the-amount")
    pay.locator("#approve-pay").click()
    register.locator("#s-receipt.active").wait_for()
    pay.locator("#s-paid.active").wait_for()  # his screen learns it was paid
    assert "Aコープ苫前店" in pay.locator("#paid-shop").inner_text()
    shot(page, "08-paid-the-coop")

    # each shop sees its sale, and he sees both payments in his chat
    register.locator("#receipt-next").click()
    register.locator("#s-home.active #to-sales").click()
    register.locator("#sales-list li", has_text="800").first.wait_for()
    till.locator("#s-shopqr.active #shopqr-back").click()
    till.locator("#s-home.active #to-sales").click()
    till.locator("#sales-list li", has_text="1,200").first.wait_for()
    receipts = [t for t in kenta.locator(".row.bot").all_inner_texts() if "お支払いが完了しました" in t]
    assert any("こむぎベーカリー" in t and "1,200円" in t for t in receipts)
    assert any("Aコープ苫前店" in t and "800円" in t for t in receipts)
    shot(page, "09-each-shop-sees-its-sale")

    # nothing our code sent was off-spec; then a bad payload is shown loudly on screen
    assert live_sim.store.violations == []
    bad = requests.post(live_sim.url + "/v2/bot/message/push", json={"to": HANAKO, "messages": [{"type": "text"}]},
                        headers=auth(live_sim.config), timeout=10)
    assert bad.status_code == 400
    banner = page.locator("#violation-banner")
    banner.wait_for()
    assert re.search(r"OpenAPI 仕様違反", banner.inner_text())
    assert "/v2/bot/message/push" in banner.inner_text()
    shot(page, "10-violation-banner")
