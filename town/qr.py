"""QR codes drawn on the server with the `qrcode` package: no front-end library, no CDN.

The SVG is written by hand from the module matrix, one path with a run per row, so the customer's
code (refreshed every ~50 s) stays a couple of kilobytes instead of the package's ~11 KB.
"""
from __future__ import annotations

import io

import qrcode
from qrcode.constants import ERROR_CORRECT_M


def matrix(data: str, border: int = 4) -> list[list[bool]]:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=border)
    qr.add_data(data)
    qr.make(fit=True)
    return qr.get_matrix()


def svg(data: str, *, label: str = "") -> str:
    """A scalable black-on-white QR; `label` becomes its accessible name."""
    rows = matrix(data)
    size = len(rows)
    parts: list[str] = []
    for y, row in enumerate(rows):
        x = 0
        while x < size:
            if row[x]:
                start = x
                while x < size and row[x]:
                    x += 1
                parts.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    title = f"<title>{_escape(label)}</title>" if label else ""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" shape-rendering="crispEdges"'
            f' role="img">{title}<rect width="{size}" height="{size}" fill="#fff"/>'
            f'<path fill="#000" d="{"".join(parts)}"/></svg>')


def png(data: str, box_size: int = 20) -> bytes:
    """A PNG for print (the shop poster)."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=4)
    qr.add_data(data)
    qr.make(fit=True)
    out = io.BytesIO()
    qr.make_image(fill_color="black", back_color="white").save(out, format="PNG")
    return out.getvalue()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
