"""The one Japanese font for every image we draw: IPAexGothic, as shipped by japanize-matplotlib.

Rich menus, shop posters, PDFs and KPI charts all need a font with kanji and kana; Pillow's default
font would draw tofu boxes. japanize-matplotlib is already a dependency and carries IPAexGothic, so
we find its TTF through the package's location on disk. The package is never imported: importing it
patches matplotlib's global settings as a side effect.
"""
from __future__ import annotations

import importlib.util
from functools import cache, lru_cache
from pathlib import Path

from PIL import ImageFont

PACKAGE = "japanize_matplotlib"
RELATIVE_PATH = Path("fonts") / "ipaexg.ttf"


class FontNotFound(FileNotFoundError):
    """IPAexGothic is missing: images would show tofu boxes instead of Japanese."""


@cache
def font_path() -> Path:
    """The path of IPAexGothic inside japanize-matplotlib, found without importing the package."""
    spec = importlib.util.find_spec(PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    if spec and spec.origin and not locations:
        locations = [str(Path(spec.origin).parent)]
    for base in locations:
        candidate = Path(base) / RELATIVE_PATH
        if candidate.is_file():
            return candidate
    raise FontNotFound(f"IPAexGothic ({PACKAGE}/{RELATIVE_PATH.as_posix()}) が見つかりません。"
                       "`pip install japanize-matplotlib` を実行してください。")


@lru_cache(maxsize=128)
def font(size: int) -> ImageFont.FreeTypeFont:
    """IPAexGothic at `size` pixels (em size), cached: loading a TTF costs more than drawing text.
    Share the returned object freely but do not change it (other callers get the same one)."""
    if size < 1:
        raise ValueError(f"font size must be positive, got {size}")
    return ImageFont.truetype(str(font_path()), size)
