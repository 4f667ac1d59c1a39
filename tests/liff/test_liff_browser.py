"""The real pages in headless Chromium (Debian's), driven by Playwright, with the LIFF shim standing in
for LINE: customer QR, shop QR, card with a wrong then right PIN, refund, check-in. Each screen a person
sees is saved under test-artifacts/liff/ for a human to look at."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import update
from werkzeug.serving import make_server

from ledger.models import Resident
from ledger.services import payments
from tests.browser import ARGS, CHROMIUM, MARKS, artifacts
from tests.liff.conftest import ALICE, BAKER, CARD, EMILY

ARTIFACTS = artifacts("liff")
pytestmark = MARKS


@pytest.fixture
def server(app, town) -> Iterator[str]:
    """The app on 127.0.0.1, a free port, in a thread (werkzeug, threaded: pages poll while paying)."""
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    thread.join(5)


@pytest.fixture
def playwright() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture
def phone(playwright, tmp_path, server, line) -> Iterator[Callable[..., Any]]:
    """`phone(sub, scans=[...])` opens a fresh phone (own user-data dir) signed in as that LINE user."""
    contexts: list[Any] = []
    problems: list[str] = []

    def open_phone(sub: str, scans: list[str] | None = None) -> Any:
        ctx = playwright.chromium.launch_persistent_context(
            str(tmp_path / f"profile-{len(contexts)}"), executable_path=str(CHROMIUM), headless=True, args=ARGS,
            viewport={"width": 390, "height": 800}, device_scale_factor=1, is_mobile=True, has_touch=True,
            locale="ja-JP", timezone_id="Asia/Tokyo", base_url=server)
        contexts.append(ctx)
        shim = {"idToken": line.token(sub), "profile": {"userId": sub, "displayName": "test"}, "scans": scans or []}
        ctx.add_init_script(f"window.__LIFF_SHIM__ = {_json(shim)};")
        page = ctx.pages[0] if ctx.pages else ctx.new_page()
        page.set_default_timeout(10_000)
        page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}")
                if msg.type == "error" and not _refusal(msg.text) else None)
        return page

    yield open_phone
    for ctx in contexts:
        ctx.close()
    assert not problems, problems


def wait_until(page: Any, predicate: str, arg: Any = None, timeout: float = 10.0) -> None:
    """`page.wait_for_function` without its `eval` in the page, which the pages' CSP forbids (as it should):
    the predicate is polled through `page.evaluate` instead (DevTools, outside the page's CSP)."""
    import time

    end = time.monotonic() + timeout
    while not page.evaluate(predicate, arg):
        assert time.monotonic() < end, f"timed out waiting for {predicate}"
        page.wait_for_timeout(100)


def _refusal(text: str) -> bool:
    """Chromium logs every 4xx fetch; a refused PIN is an expected answer, not a page fault."""
    return "Failed to load resource" in text and "status of 4" in text


def _json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(150)  # let the live clock draw
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def screen(page: Any, screen_id: str) -> None:
    page.wait_for_selector(f"#{screen_id}.active")


def smallest_text(page: Any) -> float:
    """The smallest font size, in CSS pixels, of any text a person can see on the page now."""
    return page.evaluate("""() => {
      let least = 1e9;
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      while (walker.nextNode()) {
        const el = walker.currentNode.parentElement;
        if (!walker.currentNode.textContent.trim() || !el || !el.offsetParent) continue;
        least = Math.min(least, parseFloat(getComputedStyle(el).fontSize));
      }
      return least;
    }""")


def keys(page: Any, container: str, digits: str) -> None:
    for key in ([digits] if digits == "00" else list(digits)):
        page.click(f"{container} button[data-key='{key}']")


def test_customer_presented_payment(phone, town):
    resident = phone(ALICE)
    resident.goto("/liff/pay")
    screen(resident, "s-home")
    assert "8,000" in resident.inner_text("#total")
    shot(resident, "01-pay-home")
    resident.click("#show-qr")
    screen(resident, "s-qr")
    resident.wait_for_selector("#qr[data-payload^='MW1.'] svg")
    payload = resident.get_attribute("#qr", "data-payload")
    shot(resident, "02-pay-qr")

    shop = phone(BAKER, scans=[payload])
    shop.goto("/liff/till")
    screen(shop, "s-home")
    shot(shop, "03-till-home")
    shop.click("#scan")
    screen(shop, "s-amount")
    keys(shop, "#amount-keypad", "12")
    shop.click("#amount-keypad button[data-key='00']")
    assert "1,200" in shop.inner_text("#amount-display")
    shot(shop, "04-till-amount")
    shop.click("#amount-next")
    screen(shop, "s-confirm")
    shot(shop, "05-till-confirm")
    shop.click("#confirm-pay")
    screen(shop, "s-wait")  # the till waits for her: nothing has moved yet
    assert "1,200" in shop.inner_text("#wait-amount")
    shot(shop, "05b-till-waits-for-the-customer")

    screen(resident, "s-approve")  # she sees the shop and the amount before the money moves
    assert "1,200" in resident.inner_text("#approve-amount")
    assert resident.inner_text("#approve-shop") == "まちのパン屋"
    assert town.balance(ALICE) == 8_000
    shot(resident, "06b-pay-approve")
    resident.click("#approve-pay")
    screen(shop, "s-receipt")
    assert "1,200" in shop.inner_text("#receipt-amount")
    shot(shop, "06-till-receipt")

    screen(resident, "s-paid")  # the customer's screen says it was paid
    assert "1,200" in resident.inner_text("#paid-amount") and "まちのパン屋" in resident.inner_text("#paid-shop")
    shot(resident, "07-pay-paid")
    assert town.balance(ALICE) == 6_800


def test_she_says_no_to_an_amount_she_did_not_expect(phone, town):
    """The clerk keyed 4,500 for a 450 yen loaf: she sees it on her own phone and taps やめる."""
    resident = phone(ALICE)
    resident.goto("/liff/pay")
    screen(resident, "s-home")
    resident.click("#show-qr")
    resident.wait_for_selector("#qr[data-payload^='MW1.'] svg")
    shop = phone(BAKER, scans=[resident.get_attribute("#qr", "data-payload")])
    shop.goto("/liff/till")
    screen(shop, "s-home")
    shop.click("#scan")
    screen(shop, "s-amount")
    keys(shop, "#amount-keypad", "4500")
    shop.click("#amount-next")
    shop.click("#confirm-pay")
    screen(shop, "s-wait")
    screen(resident, "s-approve")
    assert "4,500" in resident.inner_text("#approve-amount")
    resident.click("#approve-cancel")
    screen(resident, "s-home")
    screen(shop, "s-error")
    assert "お支払いをやめました" in shop.inner_text("#error-box")
    shot(shop, "08b-till-customer-said-no")
    assert town.balance(ALICE) == 8_000


def test_shop_presented_payment(phone, town):
    resident = phone(ALICE, scans=["MWS.S1"])
    resident.goto("/liff/scan")
    screen(resident, "s-start")
    shot(resident, "10-scan-start")
    resident.click("#scan")
    screen(resident, "s-amount")
    assert resident.inner_text("#amount-shop") == "まちのパン屋"
    keys(resident, "#amount-keypad", "800")
    shot(resident, "11-scan-amount")
    resident.click("#amount-next")
    screen(resident, "s-confirm")
    before = resident.inner_text("#confirm-live .clock")
    resident.wait_for_timeout(1_100)
    assert resident.inner_text("#confirm-live .clock") != before  # the clock moves: not a screenshot
    assert resident.eval_on_selector("#confirm-live .stripe", "e => getComputedStyle(e).animationName") == "slide"
    shot(resident, "12-scan-confirm")
    resident.click("#pay")
    screen(resident, "s-done")
    assert "800" in resident.inner_text("#done-amount")
    shot(resident, "13-scan-done")
    assert town.balance(ALICE) == 7_200


def test_card_payment_wrong_then_right_pin(phone, town):
    shop = phone(BAKER, scans=[CARD])
    shop.goto("/liff/till")
    screen(shop, "s-home")
    shop.click("#scan")
    screen(shop, "s-amount")
    assert "8000 0000 0011" in shop.inner_text("#amount-who")
    keys(shop, "#amount-keypad", "500")
    shop.click("#amount-next")
    screen(shop, "s-pin")
    keys(shop, "#pin-keypad", "9999")
    shot(shop, "20-card-pin")
    shop.click("#pin-pay")
    shop.wait_for_selector("#pin-error .notice")
    assert "暗証番号が違います" in shop.inner_text("#pin-error")
    shot(shop, "21-card-wrong-pin")
    keys(shop, "#pin-keypad", "1234")
    shop.click("#pin-pay")
    screen(shop, "s-receipt")
    assert "500" in shop.inner_text("#receipt-amount") and "カード" in shop.inner_text("#receipt-at")
    shot(shop, "22-card-receipt")
    assert town.balance(town.ids["elder"]) == 3_500


def test_refund_from_todays_sales(phone, town):
    paid = payments.pay(town.machi.uow, resident_id=town.ids["alice"], merchant_code="S1", amount=2_000,
                        idempotency_key="browser-refund-1", channel="mpm")
    shop = phone(BAKER)
    shop.goto("/liff/till")
    screen(shop, "s-home")
    shop.click("#to-sales")
    screen(shop, "s-sales")
    shot(shop, "30-till-sales")
    shop.click(f"button[data-refund='{paid.entry_id}']")
    screen(shop, "s-refund")
    shot(shop, "31-till-refund-confirm")
    shop.click("#refund-go")
    screen(shop, "s-refunded")
    shot(shop, "32-till-refunded")
    shop.click("#refunded-back")
    screen(shop, "s-sales")
    shop.wait_for_selector("#sales-list .badge")
    assert "返金済み" in shop.inner_text("#sales-list")
    assert smallest_text(shop) >= 22
    assert town.balance(ALICE) == 8_000


def test_event_check_in(phone, town):
    resident = phone(ALICE, scans=["MWE.BEACH"])
    resident.goto("/liff/checkin")
    screen(resident, "s-start")
    shot(resident, "40-checkin-start")
    resident.click("#scan")
    screen(resident, "s-confirm")
    assert resident.inner_text("#confirm-name") == "海岸清掃"
    shot(resident, "41-checkin-confirm")
    resident.click("#claim")
    screen(resident, "s-done")
    assert "500" in resident.inner_text("#done-points")
    shot(resident, "42-checkin-done")
    assert town.balance(ALICE, "PT") == 500


def test_rotating_event_check_in_from_the_venue_screen(phone, town, app):
    """The venue screen's URL (code and live `t=`) checks in; the event's plain code is refused on screen."""
    from datetime import datetime, timedelta

    from sqlalchemy import select

    from ledger.models import Event, MoneyType

    with town.machi.db.write() as s:
        pt = s.execute(select(MoneyType.id).where(MoneyType.code == "PT")).scalar_one()
        now = datetime.utcnow()
        s.add(Event(code="SCREEN", name="防災訓練", money_type_id=pt, points=200, starts_at=now - timedelta(hours=1),
                    ends_at=now + timedelta(hours=2), rotating=True))
    token = app.extensions["machi"].extras["liff"].event_codes.token("SCREEN")
    resident = phone(ALICE, scans=["MWE.SCREEN"])
    resident.goto("/liff/checkin")
    screen(resident, "s-start")
    resident.click("#scan")
    screen(resident, "s-error")
    assert "会場の画面" in resident.inner_text("#error-box")
    shot(resident, "43-checkin-rotating-refused")
    resident.goto(f"/liff/checkin?code=SCREEN&t={token}")
    screen(resident, "s-confirm")
    assert resident.inner_text("#confirm-name") == "防災訓練"
    resident.click("#claim")
    screen(resident, "s-done")
    assert town.balance(ALICE, "PT") == 200


def test_history_and_english(phone, town):
    payments.pay(town.machi.uow, resident_id=town.ids["alice"], merchant_code="S1", amount=450,
                 idempotency_key="browser-history-1", channel="mpm")
    resident = phone(ALICE)
    resident.goto("/liff/history")
    screen(resident, "s-list")
    assert "まちのパン屋" in resident.inner_text("#items") and "−450円" in resident.inner_text("#items")
    assert smallest_text(resident) >= 22  # the README's promise: no type below 22 px
    shot(resident, "50-history")
    emily = phone(EMILY)
    emily.goto("/liff/pay")
    screen(emily, "s-home")
    assert "Show my QR code to pay" in emily.inner_text("#show-qr")
    shot(emily, "51-pay-home-en")


def test_customer_qr_refreshes_before_it_expires(phone, town, app):
    app.extensions["machi"].extras["liff"].tokens.ttl = 8  # refreshed 5 s in instead of 50
    resident = phone(ALICE)
    resident.goto("/liff/pay")
    screen(resident, "s-home")
    resident.click("#show-qr")
    resident.wait_for_selector("#qr[data-payload^='MW1.']")
    first = resident.get_attribute("#qr", "data-payload")
    assert int(resident.inner_text("#seconds")) <= 8
    wait_until(resident, "first => document.querySelector('#qr').dataset.payload !== first", first, timeout=10)
    assert resident.get_attribute("#qr", "data-payload").startswith("MW1.")


def test_refusal_says_what_to_do_and_shop_qr(phone, town):
    """専用券 are not accepted at a large store: the amount screen says so and what is usable there,
    and lets no larger amount through to 支払う."""
    resident = phone(ALICE, scans=["MWS.L1"])
    resident.goto("/liff/scan")
    screen(resident, "s-start")
    resident.click("#scan")
    screen(resident, "s-amount")
    keys(resident, "#amount-keypad", "6000")
    assert resident.is_disabled("#amount-next")
    hint = resident.inner_text("#amount-hint")
    assert "使える残高は5,000円です" in hint and "専用券" in hint
    shot(resident, "14-scan-refused")
    resident.click("#amount-keypad button[data-key='⌫']")
    assert not resident.is_disabled("#amount-next") and resident.inner_text("#amount-hint") == ""
    assert town.balance(ALICE) == 8_000

    shop = phone(BAKER)
    shop.goto("/liff/till")
    screen(shop, "s-home")
    shop.click("#to-shopqr")
    screen(shop, "s-shopqr")
    wait_until(shop, "() => document.querySelector('#shopqr-img').naturalWidth > 0")
    shot(shop, "33-till-shop-qr")


def test_an_english_reader_sees_english_keys_and_titles(phone, town):
    emily = phone(EMILY, scans=["MWS.S1"])
    emily.goto("/liff/scan")
    screen(emily, "s-start")
    assert emily.title() == "Pay with the shop's QR | Machi Wallet"
    emily.click("#scan")
    screen(emily, "s-amount")
    pad = emily.inner_text("#amount-keypad")
    assert "Delete" in pad and "消す" not in pad and "訂正" not in pad
    shot(emily, "52-scan-amount-en")


def test_an_old_link_after_withdrawal_shows_no_balance_and_says_how_to_come_back(phone, town):
    with town.machi.db.write() as s:
        s.execute(update(Resident).where(Resident.id == town.ids["alice"]).values(status="withdrawn"))
    resident = phone(ALICE)
    resident.goto("/liff/pay")
    screen(resident, "s-error")
    said = resident.inner_text("#error-box")
    assert "退会" in said and "「登録」" in said and "役場" not in said
    assert not resident.is_visible("#show-qr")
    shot(resident, "53-pay-after-withdrawal")


@pytest.mark.parametrize("page_path", ["/liff/scan?shop=S1", "/liff/history", "/liff/checkin"])
def test_every_resident_page_after_withdrawal_shows_no_balance_and_no_way_to_pay(phone, town, page_path):
    """An old link kept in the chat opens any of the resident's pages: none shows money or a pay button."""
    with town.machi.db.write() as s:
        s.execute(update(Resident).where(Resident.id == town.ids["alice"]).values(status="withdrawn"))
    resident = phone(ALICE, scans=["MWS.S1", "MWE.BEACH"])
    resident.goto(page_path)
    screen(resident, "s-error")
    said = resident.inner_text("#error-box")
    assert "退会" in said and "「登録」" in said
    seen = resident.inner_text("body")
    assert "8,000" not in seen and "5,000" not in seen
    for button in ("#pay", "#amount-next", "#scan", "#claim", "#items"):
        assert not resident.is_visible(button), button
    shot(resident, "54-after-withdrawal-" + page_path.split("/")[2].split("?")[0])
