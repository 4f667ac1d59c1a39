"""The one Japanese font for every image and PDF we make: IPAexGothic, shipped in this package.

Rich menus, shop posters, PDFs and KPI charts need a font with kanji and kana; Pillow's default
font would draw tofu boxes. The TTF is IPAexGothic Ver.004.01, unmodified (as in Debian's
`fonts-ipaexfont-gothic` 00401), under the IPA Font License v1.0, whose text must travel with it:
`IPA_Font_License_Agreement_v1.0.txt` beside it. It covers all of JIS X 0208 and JIS X 0213
(names typed by staff can hold any kanji), and ㋿. It is not subset: a modified font would be a
"derived program" under that licence, with conditions of its own.

A package of its own, below the faces, because rich menus, LIFF posters and `machi` PDFs and
charts all draw with it; it used to be found inside japanize-matplotlib, which pulled matplotlib
into every server install.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

FAMILY = "IPAexGothic"
FONT_FILE = Path(__file__).resolve().parent / "ipaexg.ttf"
LICENCE_FILE = FONT_FILE.parent / "IPA_Font_License_Agreement_v1.0.txt"


class FontNotFound(FileNotFoundError):
    """The TTF is missing from the install: images would show tofu boxes instead of Japanese."""


def font_path() -> Path:
    """The path of IPAexGothic (a broken install says so in Japanese, for the staff who see it)."""
    if not FONT_FILE.is_file():
        raise FontNotFound(f"日本語フォント（{FONT_FILE}）が見つかりません。まちウォレットを入れ直してください。")
    return FONT_FILE


@lru_cache(maxsize=128)
def font(size: int) -> ImageFont.FreeTypeFont:
    """IPAexGothic at `size` pixels (em size), cached: loading a TTF costs more than drawing text.
    Share the returned object freely but do not change it (other callers get the same one)."""
    if size < 1:
        raise ValueError(f"font size must be positive, got {size}")
    return ImageFont.truetype(str(font_path()), size)
