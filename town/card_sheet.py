"""Printed matter for plastic cards: the card sheet (name, card QR, number, how to use) and the PIN
letter, a separate document so the PIN never travels with the card."""
from __future__ import annotations

import io
import secrets

from ledger.cards import format_number
from town import qr
from town.pdf import FONT, new_pdf

HOW_TO_USE = (
    "① お店のレジで「まちウォレットのカードで」とお伝えください。",
    "② お店の人がカードのQRコードを読み取ります。",
    "③ 金額を確かめて、お店のスマホに暗証番号（4桁）を入れてください。",
    "④ 暗証番号を5回続けて間違えると30分使えなくなります。",
    "残高は役場・商工会の窓口か、お店でお尋ねください。",
    "カードをなくしたときは、すぐに役場（産業振興課）へご連絡ください。残高はそのまま新しいカードへ移ります。",
)
_WEAK = {"0000", "1111", "2222", "3333", "4444", "5555", "6666", "7777", "8888", "9999", "1234", "4321", "0123"}


def random_pin() -> str:
    """Four random digits, never one of the PINs a thief tries first."""
    while True:
        pin = f"{secrets.randbelow(10_000):04d}"
        if pin not in _WEAK:
            return pin


def card_sheet(name: str, number: str, district: str = "") -> bytes:
    """A4 with the card face at credit-card size (85.6 × 54 mm) to cut out or stick on, and how to use it."""
    pdf = new_pdf()
    pdf.add_page()
    x, y, w, h = 20.0, 20.0, 85.6, 54.0
    pdf.set_draw_color(11, 61, 145)
    pdf.rect(x, y, w, h)
    pdf.set_fill_color(11, 61, 145)
    pdf.rect(x, y, w, 9, style="F")
    pdf.set_text_color(255, 255, 255)
    pdf.set_font(FONT, size=11)
    pdf.set_xy(x + 3, y + 1.5)
    pdf.cell(w - 6, 6, "まちウォレット カード")
    pdf.set_text_color(0, 0, 0)
    pdf.image(io.BytesIO(qr.png(number, box_size=10)), x=x + 2, y=y + 11, w=40, h=40)
    pdf.set_font(FONT, size=14 if len(name) <= 8 else 10)
    pdf.set_xy(x + 44, y + 16)
    pdf.cell(w - 46, 8, f"{name} 様")
    pdf.set_font(FONT, size=9)
    pdf.set_xy(x + 44, y + 26)
    pdf.cell(w - 46, 6, district)
    pdf.set_font(FONT, size=11)
    pdf.set_xy(x + 44, y + 40)
    pdf.cell(w - 46, 6, format_number(number))
    pdf.set_xy(20, y + h + 12)
    pdf.set_font(FONT, size=16)
    pdf.cell(0, 10, "カードの使い方", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=13)
    for line in HOW_TO_USE:
        pdf.set_x(20)
        pdf.multi_cell(170, 8, line, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=10)
    pdf.set_text_color(90, 90, 90)
    pdf.set_x(20)
    pdf.multi_cell(170, 6, "暗証番号は別にお送りする「暗証番号のお知らせ」に書いてあります。カードと一緒に保管しないでください。")
    return bytes(pdf.output())


def pin_letter(name: str, number: str, pin: str) -> bytes:
    """暗証番号のお知らせ: only the last four digits of the card, and the PIN."""
    pdf = new_pdf()
    pdf.add_page()
    pdf.set_font(FONT, size=20)
    pdf.cell(0, 14, "暗証番号のお知らせ", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=13)
    pdf.ln(6)
    pdf.cell(0, 9, f"{name} 様", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 8, f"まちウォレット カード（番号の末尾 {number[-4:]}）の暗証番号は次のとおりです。",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font(FONT, size=40)
    pdf.cell(0, 24, "  ".join(pin), align="C", border=1, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_font(FONT, size=12)
    for line in ("・お支払いのとき、お店のスマホにこの4桁を入れます。",
                 "・カードと一緒に持ち歩かないでください。他の人に教えないでください。",
                 "・忘れたときは、本人確認書類を持って役場の窓口へお越しください。"):
        pdf.multi_cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
