"""Check-in QR codes for 地域ポイント events: a static code printed on a poster (valid inside the
event's window), or a rotating code shown on a screen at the venue, so a photo passed around
outside stops working within a minute.

Rotating codes are made and checked by `ledger.event_codes.RotatingCodes` (HMAC of code and time
step with a key derived from MACHI_SECRET_KEY); the check-in service refuses a rotating event's plain
code. Its poster therefore shows no code to type: only where to find the screen.
"""
from __future__ import annotations

import html
import io
import time
from datetime import datetime

from ledger.clock import fmt_jst
from ledger.event_codes import PERIOD, RotatingCodes
from town import qr
from town.pdf import FONT, new_pdf

PREFIX = "MWE."


def checkin_url(code: str, *, liff_id: str, public_url: str, dev: bool, token: str | None = None) -> str:
    """What the phone camera opens: the LIFF check-in page with the code filled in."""
    query = f"code={code}" + (f"&t={token}" if token else "")
    if dev:
        return f"{public_url.rstrip('/')}/liff/checkin?{query}"
    return f"https://liff.line.me/{liff_id}/checkin?{query}"


def rotating_token(code: str, secret: str | bytes, now: float | None = None, period: int = PERIOD) -> str:
    return RotatingCodes(secret, period=period).token(code, now)


def rotating_payload(code: str, secret: str | bytes, now: float | None = None, period: int = PERIOD) -> str:
    return RotatingCodes(secret, period=period).payload(code, now)


def verify_rotating(text: str, secret: str | bytes, now: float | None = None, period: int = PERIOD) -> str | None:
    """The event code when `text` is a rotating code of this or the previous step, else None."""
    if not text.upper().startswith(PREFIX):
        return None
    code, _, token = text[len(PREFIX):].partition(".")
    return code.upper() if RotatingCodes(secret, period=period).verify(code, token, now) else None


def poster_pdf(name: str, code: str, place: str, points: int, starts: datetime, ends: datetime, url: str | None) -> bytes:
    """A4: the event, its points and window, and its QR (or where to find the rotating one)."""
    pdf = new_pdf()
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_fill_color(0, 122, 72)
    pdf.rect(0, 0, 210, 30, style="F")
    pdf.set_text_color(255, 255, 255)
    pdf.set_font(FONT, size=24)
    pdf.set_xy(10, 9)
    pdf.cell(190, 12, "まちウォレット 地域ポイント", align="C")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FONT, size=30 if len(name) <= 14 else 22)
    pdf.set_xy(10, 38)
    pdf.cell(190, 16, name, align="C")
    pdf.set_font(FONT, size=16)
    pdf.set_xy(10, 58)
    pdf.cell(190, 9, f"{points:,} ポイント  {('会場: ' + place) if place else ''}", align="C")
    pdf.set_xy(10, 68)
    pdf.cell(190, 9, f"受付 {fmt_jst(starts)} 〜 {fmt_jst(ends)}", align="C")
    if url:
        pdf.image(io.BytesIO(qr.png(url, box_size=16)), x=45, y=82, w=120, h=120)
        steps = ["① LINEの「ポイント」またはスマホのカメラでこのQRを読み取ります",
                 "② 画面の「受け取る」を押すと、ポイントが入ります（お一人1回）"]
    else:
        pdf.set_font(FONT, size=20)
        pdf.set_xy(10, 120)
        pdf.cell(190, 12, "会場の画面に出ているQRコードを読み取ってください", align="C")
        steps = ["① LINEの「ポイント」を開き、会場の画面のQRを読み取ります（30秒ごとに変わります）",
                 "② 画面の「受け取る」を押すと、ポイントが入ります（お一人1回）"]
    pdf.set_font(FONT, size=14)
    y = 212.0
    for step in steps:
        pdf.set_xy(12, y)
        pdf.cell(186, 9, step)
        y += 12
    if url:  # a rotating event takes only its screen's code: a printed code would let a photo in
        pdf.set_font(FONT, size=12)
        pdf.set_text_color(90, 90, 90)
        pdf.set_xy(10, 270)
        pdf.cell(190, 8, f"イベントコード {code}（手で入力することもできます）", align="C")
    return bytes(pdf.output())


def screen_html(name: str, code: str, secret: str | bytes, *, now: float | None = None, period: int = PERIOD,
                url_for=None) -> str:
    """The venue's full-screen page: the QR of this moment; the page reloads when it changes. Served by
    the face that shows it (`machi event screen`)."""
    now = time.time() if now is None else now
    token = rotating_token(code, secret, now, period)
    content = url_for(token) if url_for else f"{PREFIX}{code}.{token}"
    wait = max(1, int(period - now % period))
    return (f"<!doctype html><html lang='ja'><head><meta charset='utf-8'>"
            f"<meta http-equiv='refresh' content='{wait}'><title>{html.escape(name)}</title>"
            "<style>body{font-family:sans-serif;text-align:center;margin:2vh}svg{width:70vh;height:70vh}"
            "h1{font-size:6vh;margin:1vh}p{font-size:3.5vh}</style></head><body>"
            f"<h1>{html.escape(name)}</h1>{qr.svg(content, label=name)}"
            f"<p>LINEの「ポイント」でこのQRを読み取ってください（{period}秒ごとに変わります・あと{wait}秒）</p>"
            "</body></html>")
