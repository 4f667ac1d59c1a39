"""Rich menu images: exact size, under 1 MB, and every tile visibly labelled for older eyes."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from rich_menus.definitions import MENUS, Lang, get_menu, layout
from rich_menus.images import (
    GAP,
    INK,
    MAX_IMAGE_BYTES,
    MIN_LABEL_PX,
    TAB_IDLE,
    WHITE,
    draw_menu,
    labels,
    main,
    tile_colours,
)
from tests.rich_menus.conftest import ALL_MENUS


def _open(name: str, lang: Lang) -> Image.Image:
    return Image.open(io.BytesIO(draw_menu(name, lang)))


def _luminance(rgb: tuple[int, int, int]) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """WCAG contrast ratio."""
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize(("name", "lang"), ALL_MENUS)
def test_png_at_the_exact_size_and_under_one_megabyte(name: str, lang: Lang) -> None:
    data = draw_menu(name, lang)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) < MAX_IMAGE_BYTES <= 1024 * 1024
    image = _open(name, lang)
    assert image.format == "PNG"
    assert image.size == get_menu(name).size


@pytest.mark.parametrize(("name", "lang"), ALL_MENUS)
def test_every_area_is_drawn_on_not_blank(name: str, lang: Lang) -> None:
    image = _open(name, lang).convert("L")
    for area in layout(name):
        stddev = ImageStat.Stat(image.crop(area.box)).stddev[0]
        assert stddev > 25, (area, stddev)


@pytest.mark.parametrize(("name", "lang"), ALL_MENUS)
def test_labels_are_big_and_actually_drawn(name: str, lang: Lang) -> None:
    image = _open(name, lang).convert("RGB")
    drawn = labels(name, lang)
    assert set(drawn) == {t.key for t in get_menu(name).tiles}
    by_key = {a.tile.key: a for a in layout(name) if a.tile is not None}
    for key, label in drawn.items():
        area = by_key[key]
        x0, y0, x1, y1 = label.ink
        assert area.x <= x0 < x1 <= area.x + area.width and area.y <= y0 < y1 <= area.y + area.height
        assert label.size >= 140
        if lang == "ja":
            assert label.ink_height >= MIN_LABEL_PX, (key, label)
        # Inside the label's ink box, a share of pixels is the text colour: text is there, and the
        # fake-bold stroke has not filled in dense kanji such as 履歴.
        _background, text, _icon = tile_colours(area.tile)  # type: ignore[arg-type]
        raw = image.crop(label.ink).tobytes()
        pixels = [raw[i:i + 3] for i in range(0, len(raw), 3)]
        near = sum(1 for p in pixels if sum(abs(a - b) for a, b in zip(p, text, strict=True)) < 60)
        assert 0.12 < near / len(pixels) < 0.6, (key, near / len(pixels))  # drawn, not clogged


def test_colours_have_high_contrast() -> None:
    """WCAG AAA (7:1) for every label and tab; icons at least 4.5:1 on their tile."""
    for menu in MENUS.values():
        for tile in menu.tiles:
            background, text, icon = tile_colours(tile)
            assert contrast(background, text) >= 7, tile.key
            assert contrast(background, icon) >= 4.5, tile.key
            edge = WHITE if tile.primary else background  # primary tiles have a white rim
            assert contrast(edge, GAP) >= 7, tile.key  # separators stand out
    assert contrast(WHITE, INK) >= 7
    assert contrast(TAB_IDLE, WHITE) >= 4.5


def test_tabbed_menus_show_the_tab_strip_and_plain_ones_do_not() -> None:
    tabbed = _open("resident_tabbed", "ja").convert("RGB")
    plain = _open("resident", "ja").convert("RGB")
    # The idle tab (shop) is slate; in the plain menu the same spot is part of the history tile.
    spot = (2500 - 120, 130)
    assert sum(abs(a - b) for a, b in zip(tabbed.getpixel(spot), TAB_IDLE, strict=True)) < 30  # type: ignore[arg-type]
    assert plain.getpixel(spot) != tabbed.getpixel(spot)


def test_drawing_is_deterministic() -> None:
    from rich_menus.images import encode, render
    assert encode(render("guest")) == encode(render("guest")) == draw_menu("guest")


def test_preview_command_writes_every_menu(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--out", str(tmp_path / "previews"), "--lang", "ja"]) == 0
    written = sorted(p.name for p in (tmp_path / "previews").iterdir())
    assert written == sorted(f"{name}.png" for name in MENUS)
    assert "guest.png" in capsys.readouterr().out
