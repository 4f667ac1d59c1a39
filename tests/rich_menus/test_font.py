"""The shared Japanese font: found inside japanize-matplotlib, without importing it."""
from __future__ import annotations

import subprocess
import sys

import pytest
from fontTools.ttLib import TTFont
from PIL import ImageFont

from rich_menus.definitions import LANGS, MENUS
from rich_menus.font import font, font_path


def test_font_path_is_ipaexgothic_in_japanize_matplotlib() -> None:
    path = font_path()
    assert path.name == "ipaexg.ttf"
    assert path.parent.name == "fonts" and path.parent.parent.name == "japanize_matplotlib"
    assert path.is_file()


def test_finding_the_font_does_not_import_japanize_matplotlib() -> None:
    """Importing japanize_matplotlib patches matplotlib's rcParams for the whole process."""
    code = ("import sys; from rich_menus.font import font, font_path; font_path(); font(40); "
            "assert 'japanize_matplotlib' not in sys.modules, 'imported'; "
            "assert 'matplotlib' not in sys.modules, 'matplotlib imported'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_font_returns_a_cached_freetype_font_at_the_size() -> None:
    big = font(150)
    assert isinstance(big, ImageFont.FreeTypeFont)
    assert big.size == 150
    assert font(150) is big
    with pytest.raises(ValueError):
        font(0)


def test_every_label_has_real_glyphs_not_tofu() -> None:
    """Each character of every label and tab is in the font's character map."""
    cmap = TTFont(str(font_path()), lazy=True).getBestCmap()
    texts = {"¥", "?"}
    for menu in MENUS.values():
        for lang in LANGS:
            texts |= {tile.label(lang) for tile in menu.tiles} | {tab.label(lang) for tab in menu.tabs}
    missing = {ch for text in texts for ch in text if ch != " " and ord(ch) not in cmap}
    assert not missing


def test_japanese_glyphs_differ_from_each_other() -> None:
    """A tofu font draws every kanji as the same box."""
    f = font(80)
    masks = {ch: bytes(f.getmask(ch)) for ch in "残高支払"}
    assert len(set(masks.values())) == 4
