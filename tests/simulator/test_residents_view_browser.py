"""What residents read, looked at in the simulator on a narrow phone (360 px wide, drawn at 2×), in
headless Chromium (Debian's), on the dev server with the real bot:

- Emily Walker reads English: every chat answer and every LIFF screen she meets (balance, history,
  points, vouchers, details, check-in, paying by the shop's QR and by showing her own) holds no
  Japanese but the names of shops and people;
- no value a resident reads in a Flex card (amounts, dates, names, money types) breaks in the middle
  of a word: in English it wraps only at a space, in Japanese it stays on one line — for Emily and
  for 佐藤 花子.

Screens are saved under test-artifacts/simulator/residents-*.png."""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import ARGS, CHROMIUM, MARKS, artifacts
from tests.simulator.conftest import BAKER, HANAKO, LiveSim
from town import demo_town

ARTIFACTS = artifacts("simulator")
pytestmark = MARKS
EMILY = demo_town.EMILY.line_user_id
NARROW = 360
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff01-\uff5e\u3000-\u303f]")
# Proper names keep their own script: the shops', and how a person's name is written in kana.
NAMES = sorted([name for _code, name, *_ in demo_town.SHOPS] + ["エミリー ウォーカー"], key=len, reverse=True)

# Where each line of a Flex text starts a new line, and the characters either side of the break.
LINE_BREAKS = """root => Array.from(root.querySelectorAll('.row.bot .fx-text')).filter(el =>
    parseInt(getComputedStyle(el).fontWeight, 10) >= 700 && el.textContent.trim()).map(el => {
  const breaks = [];
  let prevTop = null, prev = '';
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    for (let i = 0; i < node.length; i++) {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const rect = Array.from(range.getClientRects()).find(r => r.width > 0);
      if (!rect) { prev = node.data[i]; continue; }
      if (prevTop !== null && rect.top > prevTop + rect.height / 2) { breaks.push([prev, node.data[i]]); }
      prevTop = rect.top;
      prev = node.data[i];
    }
  }
  return {text: el.textContent, breaks: breaks, size: getComputedStyle(el).fontSize, weight: getComputedStyle(el).fontWeight};
})"""


@pytest.fixture
def page(live_sim: LiveSim) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        context = browser.new_context(viewport={"width": 2 * NARROW + 120, "height": 1000}, device_scale_factor=2,
                                      locale="ja-JP", timezone_id="Asia/Tokyo", base_url=live_sim.url)
        pg = context.new_page()
        pg.set_default_timeout(15_000)
        pg.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        yield pg
        browser.close()
    assert not problems, problems


def narrow(page: Any) -> None:
    """Phones 360 px across, as the narrow Android phones many older residents carry."""
    # Through the CSSOM: the pages' Content-Security-Policy refuses an injected <style> element.
    page.evaluate("""w => document.querySelectorAll('.phone, .slot-head')
                     .forEach(el => el.style.setProperty('width', w + 'px', 'important'))""", NARROW)


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(150)
    page.screenshot(path=str(ARTIFACTS / f"residents-{name}.png"))


def phone(page: Any, slot: str) -> Any:
    return page.locator(f"section[data-slot='{slot}']")


def bot_says(ph: Any, text: str) -> None:
    """Wait for the town account's latest bubbles to contain `text`, read across the lines a long
    Japanese title or value is set on (bot.render sets them between phrases)."""
    wanted = text if text.isascii() else re.compile(r"\s*".join(map(re.escape, text)))
    ph.locator(".row.bot", has_text=wanted).last.wait_for()


def type_text(ph: Any, text: str) -> None:
    if not ph.locator(".input").is_visible():
        ph.locator(".to-keyboard").click()
    ph.locator(".input").fill(text)
    ph.locator(".send").click()


def tile(ph: Any, label: str) -> None:
    """Tap a rich menu tile, bringing the menu back first if the keyboard is up."""
    area = ph.locator(f".rm-area[data-label='{label}']")
    if ph.locator(".liff-sheet").is_visible():
        ph.locator(".liff-close").click()
    if not area.is_visible():
        ph.locator(".to-menu").click()
    area.click()


def keys(frame: Any, digits: str) -> None:
    for key in digits:
        frame.locator(f"#amount-keypad button[data-key='{key}']").click()


def said_to(ph: Any) -> list[str]:
    """The town account's messages, without the simulator's own chrome (its avatar and account name)."""
    return ph.locator(".row.bot .line").all_inner_texts()


def japanese_left(text: str) -> list[str]:
    """The lines of `text` that still hold Japanese once shop and people's names are taken out."""
    for name in NAMES:
        text = text.replace(name, "")
    return [line for line in text.splitlines() if JAPANESE.search(line)]


def mid_word_breaks(ph: Any) -> list[tuple[str, list[list[str]]]]:
    """Bold Flex texts (titles, amounts, values) that wrap inside a word: English only at a space,
    Japanese never."""
    bad = []
    for item in ph.evaluate(LINE_BREAKS):
        for before, after in item["breaks"]:
            if before == "\n" or after == "\n":
                continue
            if JAPANESE.search(item["text"]) or not (before.isspace() or after.isspace()):
                bad.append((item["text"], item["breaks"], item["size"], item["weight"]))
                break
    return bad


def test_an_english_reader_meets_no_japanese_and_no_value_breaks_mid_word(page: Any, live_sim: LiveSim) -> None:
    page.goto(f"/simulator/?left={EMILY}&right={BAKER}")
    page.wait_for_selector("body[data-ready='1']")
    narrow(page)
    emily, baker = phone(page, "left"), phone(page, "right")
    page.wait_for_selector("section[data-slot='left'][data-menu='machi-resident-en']")
    seen: list[str] = []

    # the chat: what the menu's tiles and a few words bring
    for label, waits_for in (("Balance", "Balance"), ("History", "History"), ("Points", "Points"),
                             ("Benefits", "")):
        tile(emily, label)
        if waits_for:
            bot_says(emily, waits_for)
        page.wait_for_timeout(300)
        shot(page, f"en-chat-{label.lower()}")
    for said, answer in (("vouchers", "Premium vouchers"), ("cancel", "Stopped"), ("change details", "Tomamae"),
                         ("cancel", "Stopped"), ("check in", "code"), ("KAIGAN", "Beach clean-up"),
                         ("history", "Beach clean-up")):
        type_text(emily, said)
        bot_says(emily, answer)
        shot(page, "en-chat-" + said.replace(" ", "-").lower())
    seen += said_to(emily)
    seen += emily.locator(".quick-replies").all_inner_texts()
    assert not mid_word_breaks(emily), mid_word_breaks(emily)

    # the LIFF pages: pay home, history, check-in, the shop's QR (over what is usable at a large store)
    tile(emily, "Pay")
    pay = emily.frame_locator(".liff-frame")
    pay.locator("#s-home.active").wait_for()
    seen.append(pay.locator("body").inner_text())
    page.wait_for_timeout(300)  # the LIFF header follows the page's title once it knows the reader
    assert emily.locator(".liff-title").inner_text() == "Pay | Machi Wallet"
    shot(page, "en-liff-pay-home")
    pay.locator("a[href='/liff/history']").click()
    pay.locator("#s-list.active").wait_for()
    pay.locator("#items li").first.wait_for()
    seen.append(pay.locator("body").inner_text())
    shot(page, "en-liff-history")
    tile(emily, "Pay")
    pay.locator("#s-home.active a[href='/liff/checkin']").click()
    pay.locator("#s-start.active").wait_for()
    pay.locator("#code").fill("KAIGAN")
    pay.locator("#code-go").click()
    pay.locator("#s-error.active, #s-confirm.active").first.wait_for()
    seen.append(pay.locator("body").inner_text())  # she has these points already: said in English
    shot(page, "en-liff-checkin")
    tile(emily, "Pay")
    pay.locator("#s-home.active #to-scan").click()
    pay.locator("#s-start.active #manual").click()
    pay.locator("#shop-code").fill("M002")  # Aコープ, a large store: her 専用券 do not count there
    pay.locator("#shop-code-go").click()
    pay.locator("#s-amount.active").wait_for()
    keys(pay, "99999")
    assert "cannot be used here" in pay.locator("#amount-hint").inner_text()
    seen.append(pay.locator("body").inner_text())
    shot(page, "en-liff-scan-over")
    pay.locator("#amount-keypad button[data-key='⌫']").click()
    for _ in range(4):
        pay.locator("#amount-keypad button[data-key='⌫']").click()
    keys(pay, "300")
    pay.locator("#amount-next").click()
    pay.locator("#s-confirm.active").wait_for()
    seen.append(pay.locator("body").inner_text())
    shot(page, "en-liff-scan-confirm")

    # showing her own code: the bakery keys in 450 yen, she sees it in English and pays
    tile(emily, "Pay")
    pay.locator("#s-home.active #show-qr").click()
    pay.locator("#s-qr.active #qr[data-payload^='MW1.']").wait_for()
    seen.append(pay.locator("body").inner_text())
    tile(baker, "読み取り")
    till = baker.frame_locator(".liff-frame")
    till.locator("#s-home.active #scan").click()
    shown = baker.locator(".picker-sheet .live .scan-choice", has_text="Emily Walker")
    shown.wait_for()
    shown.click()
    till.locator("#s-amount.active").wait_for()
    keys(till, "450")
    till.locator("#amount-next").click()
    till.locator("#s-confirm.active #confirm-pay").click()
    pay.locator("#s-approve.active").wait_for()
    seen.append(pay.locator("body").inner_text())
    shot(page, "en-liff-approve")
    pay.locator("#approve-pay").click()
    pay.locator("#s-paid.active").wait_for()
    seen.append(pay.locator("body").inner_text())
    shot(page, "en-liff-paid")

    bot_says(emily, "Payment")  # the receipt in her chat
    seen += said_to(emily)
    left = [line for text in seen for line in japanese_left(text)]
    assert left == [], left
    assert not mid_word_breaks(emily), mid_word_breaks(emily)


def test_values_in_japanese_cards_stay_whole_on_a_narrow_phone(page: Any, live_sim: LiveSim) -> None:
    page.goto(f"/simulator/?left={HANAKO}&right={EMILY}")
    page.wait_for_selector("body[data-ready='1']")
    narrow(page)
    hanako = phone(page, "left")
    page.wait_for_selector("section[data-slot='left'][data-menu='machi-resident']")
    for label, waits_for in (("残高", "残高"), ("履歴", "記録"), ("ポイント", "ポイント"), ("給付金", "")):
        tile(hanako, label)
        if waits_for:
            bot_says(hanako, waits_for)
        page.wait_for_timeout(300)
        shot(page, f"ja-chat-{label}")
    for said, answer in (("商品券の申し込み", "プレミアム商品券"), ("やめる", "やめました"),
                         ("登録内容の変更", "いまの登録内容"), ("やめる", "やめました"), ("退会", "退会の前に"),
                         ("いいえ", "退会はしませんでした")):
        type_text(hanako, said)
        bot_says(hanako, answer)
        shot(page, f"ja-chat-{said}")
    assert not mid_word_breaks(hanako), mid_word_breaks(hanako)
