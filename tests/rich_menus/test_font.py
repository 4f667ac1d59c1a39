"""The shared Japanese font: IPAexGothic shipped in `jafont` with its licence, found without matplotlib."""
from __future__ import annotations

import subprocess
import sys

import pytest
from fontTools.ttLib import TTFont
from PIL import ImageFont

import jafont
from rich_menus.definitions import LANGS, MENUS
from rich_menus.font import font, font_path


def test_font_is_ipaexgothic_shipped_with_its_licence() -> None:
    path = font_path()
    assert path == jafont.FONT_FILE and path.name == "ipaexg.ttf" and path.is_file()
    names = {r.toUnicode() for r in TTFont(str(path), lazy=True)["name"].names if r.nameID == 1}
    assert "IPAexGothic" in names
    licence = jafont.LICENCE_FILE.read_text(encoding="utf-8-sig")
    assert "IPA Font License Agreement v1.0" in licence


def test_finding_the_font_does_not_need_matplotlib() -> None:
    """Charts are an optional extra: drawing images and PDFs must not import matplotlib."""
    code = ("import sys; sys.modules['matplotlib'] = None; sys.modules['japanize_matplotlib'] = None; "
            "from rich_menus.font import font, font_path; font_path(); font(40); "
            "import town.pdf, liff.poster; town.pdf.new_pdf()")
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


def test_any_name_staff_may_type_has_its_glyphs() -> None:
    """Residents' and shops' names can hold any kanji of JIS X 0208 (and ㋿ for dates in 令和)."""
    cmap = TTFont(str(font_path()), lazy=True).getBestCmap()
    jis = []
    for row in range(0xA1, 0xF5):
        for cell in range(0xA1, 0xFF):
            try:
                jis.append(bytes([row, cell]).decode("euc_jp"))
            except UnicodeDecodeError:
                continue
    assert len(jis) > 6800
    assert [ch for ch in [*jis, "㋿", "髙", "﨑"] if ord(ch) not in cmap] == []


def test_japanese_glyphs_differ_from_each_other() -> None:
    """A tofu font draws every kanji as the same box."""
    f = font(80)
    masks = {ch: bytes(f.getmask(ch)) for ch in "残高支払"}
    assert len(set(masks.values())) == 4
