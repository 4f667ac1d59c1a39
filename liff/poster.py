"""The printable shop poster: the shop's name, its static QR and three short steps, as PNG and PDF.

Drawn with Pillow (PNG) and fpdf2 (PDF, A4) in IPAexGothic, the TTF shipped in `jafont`.
"""
from __future__ import annotations

import io

from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

from jafont import FAMILY, font_path
from liff import qr, tokens

TITLE = "まちウォレットで お支払いできます"
STEPS = (
    "① スマホのカメラか、LINEの「支払う」で このQRを読み取ります",
    "② 金額を入れて、画面の「支払う」を押します",
    "③ 「お支払い完了」の画面を お店の人に見せてください",
)
CARD_NOTE = "カードの方は、レジでカードをお出しください（暗証番号4桁）"
BLUE = (11, 61, 145)


def qr_content(merchant_code: str, url: str | None) -> str:
    """The URL when one is given (a phone camera then opens the scan page), else `MWS.<code>`."""
    return url or tokens.shop_payload(merchant_code)


def make_poster(merchant_name: str, merchant_code: str, url: str | None) -> tuple[bytes, bytes]:
    """(PNG bytes, PDF bytes) of an A4 poster for the counter."""
    qr_png = qr.png(qr_content(merchant_code, url), box_size=20)
    return _png(merchant_name, merchant_code, qr_png), _pdf(merchant_name, merchant_code, qr_png)


def _png(name: str, code: str, qr_png: bytes, width: int = 1240, height: int = 1754) -> bytes:
    """A4 at 150 dpi."""
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    path = str(font_path())

    def text_center(y: int, text: str, size: int, fill: tuple[int, int, int] | str = "black") -> int:
        font = _fit(draw, text, path, size, width - 120)
        box = draw.textbbox((0, 0), text, font=font)
        draw.text(((width - (box[2] - box[0])) // 2, y), text, font=font, fill=fill)
        return y + (box[3] - box[1]) + int(font.size * 0.5)

    draw.rectangle([0, 0, width, 170], fill=BLUE)
    text_center(50, TITLE, 64, "white")
    y = text_center(230, name, 96)
    code_img = Image.open(io.BytesIO(qr_png)).convert("RGB")
    side = 820
    code_img = code_img.resize((side, side), Image.NEAREST)
    img.paste(code_img, ((width - side) // 2, y + 10))
    y += side + 40
    step_font = ImageFont.truetype(path, 36)
    for step in STEPS:
        font = _fit(draw, step, path, 36, width - 140) if draw.textlength(step, font=step_font) > width - 140 else step_font
        draw.text((70, y), step, font=font, fill="black")
        y += 64
    y += 20
    text_center(y, CARD_NOTE, 34, BLUE)
    text_center(height - 90, f"店舗コード {code}", 30, "#333333")
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _fit(draw: ImageDraw.ImageDraw, text: str, path: str, size: int, max_width: int) -> ImageFont.FreeTypeFont:
    """The largest font up to `size` at which `text` fits on one line (long shop names shrink)."""
    while size > 16:
        font = ImageFont.truetype(path, size)
        if draw.textlength(text, font=font) <= max_width:
            return font
        size -= 2
    return ImageFont.truetype(path, size)


def _pdf(name: str, code: str, qr_png: bytes) -> bytes:
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.add_font(FAMILY, "", str(font_path()))
    pdf.set_fill_color(*BLUE)
    pdf.rect(0, 0, 210, 29, style="F")
    pdf.set_text_color(255, 255, 255)
    _pdf_line(pdf, 9, TITLE, 26)
    pdf.set_text_color(0, 0, 0)
    _pdf_line(pdf, 38, name, 40)
    pdf.image(io.BytesIO(qr_png), x=(210 - 140) / 2, y=56, w=140, h=140)
    y = 204.0
    for step in STEPS:
        pdf.set_xy(12, y)
        pdf.set_font("IPAexGothic", size=_pdf_size(pdf, step, 15, 186))
        pdf.cell(186, 9, step)
        y += 11
    pdf.set_text_color(*BLUE)
    _pdf_line(pdf, y + 5, CARD_NOTE, 15)
    pdf.set_text_color(80, 80, 80)
    _pdf_line(pdf, 281, f"店舗コード {code}", 12)
    return bytes(pdf.output())


def _pdf_size(pdf: FPDF, text: str, size: float, max_width: float) -> float:
    while size > 8:
        pdf.set_font("IPAexGothic", size=size)
        if pdf.get_string_width(text) <= max_width:
            break
        size -= 1
    return size


def _pdf_line(pdf: FPDF, y: float, text: str, size: float) -> None:
    pdf.set_font("IPAexGothic", size=_pdf_size(pdf, text, size, 190))
    pdf.set_xy(10, y)
    pdf.cell(190, size * 0.5, text, align="C")
