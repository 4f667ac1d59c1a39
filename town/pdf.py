"""Japanese PDFs and charts, in IPAexGothic: the TTF shipped in `jafont`."""
from __future__ import annotations

from fpdf import FPDF

from jafont import FAMILY, font_path

FONT = FAMILY


def new_pdf(orientation: str = "P") -> FPDF:
    """An A4 document with the Japanese font registered and selected."""
    pdf = FPDF(orientation=orientation, unit="mm", format="A4")
    pdf.add_font(FONT, "", str(font_path()))
    pdf.set_font(FONT, size=11)
    pdf.set_auto_page_break(True, margin=15)
    return pdf


def heading(pdf: FPDF, text: str, size: float = 18) -> None:
    pdf.set_font(FONT, size=size)
    pdf.cell(0, size * 0.6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(FONT, size=11)


def rows(pdf: FPDF, data: list[tuple[str, str]], widths: tuple[float, float] = (70, 110)) -> None:
    """Label / value lines, values right-aligned when they look like amounts."""
    for label, value in data:
        pdf.cell(widths[0], 8, label, border="B")
        pdf.cell(widths[1], 8, value, border="B", align="R" if value.endswith("円") or value.isdigit() else "L",
                 new_x="LMARGIN", new_y="NEXT")


def table(pdf: FPDF, header: list[str], body: list[list[str]], widths: list[float]) -> None:
    pdf.set_fill_color(230, 236, 246)
    for h, w in zip(header, widths, strict=True):
        pdf.cell(w, 8, h, border=1, fill=True, align="C")
    pdf.ln()
    for r in body:
        for cell, w in zip(r, widths, strict=True):
            pdf.cell(w, 7, cell, border=1, align="R" if cell.replace(",", "").rstrip("円件").isdigit() else "L")
        pdf.ln()
