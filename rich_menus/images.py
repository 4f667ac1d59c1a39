"""Rich menu images drawn with Pillow: big labels, high contrast, one simple icon per tile.

Many users are over 70, so every choice here favours reading at arm's length on a small phone:
labels at least 120 px tall on a 2500 px wide image (about 5 mm on a phone), near-black text on
light tiles or white on deep colours, dark gaps between tiles so each reads as its own button,
and an icon per tile for those who recognise a shape faster than a word. Icons are drawn from
plain shapes (no image files to ship or license).

The image is drawn at twice its size and scaled down, so icon edges are smooth; it is drawn from
`definitions.layout`, the same rectangles LINE uses for taps.

Preview: `python -m rich_menus.images --out DIR`.
"""
from __future__ import annotations

import argparse
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import Image, ImageColor, ImageDraw

from rich_menus.definitions import (
    LANGS,
    MENUS,
    TAB_HEIGHT,
    Area,
    Lang,
    Tile,
    check_lang,
    get_menu,
    layout,
    menu_key,
)
from rich_menus.font import font

MAX_IMAGE_BYTES = 1_000_000  # LINE's limit is 1 MB; stay under it however "MB" is counted
MIN_LABEL_PX = 120  # ink height of a main label, in final image pixels
SCALE = 2  # supersampling factor

INK = (20, 24, 31)  # near-black text on light tiles
WHITE = (255, 255, 255)
GAP = (43, 52, 64)  # dark slate between tiles: the separators
TAB_IDLE = (78, 94, 114)  # a tab that switches away: white text on slate
GAP_PX = 10  # half the gap between two tiles
RADIUS = 36
PRIMARY_RIM = 7

RGB = tuple[int, int, int]
Box = tuple[float, float, float, float]


def _rgb(colour: str) -> RGB:
    r, g, b = ImageColor.getrgb(colour)[:3]
    return (r, g, b)


def _mix(colour: RGB, other: RGB, share: float) -> RGB:
    r, g, b = (round(a * (1 - share) + b * share) for a, b in zip(colour, other, strict=True))
    return (r, g, b)


def tile_colours(tile: Tile) -> tuple[RGB, RGB, RGB]:
    """(background, text, icon): white on the accent for the primary tile, else ink on a pale tint.
    The primary tile's rim is white too (`PRIMARY_RIM`)."""
    accent = _rgb(tile.accent)
    if tile.primary:
        return accent, WHITE, WHITE
    return _mix(WHITE, accent, 0.09), INK, accent


# --------------------------------------------------------------------------- labels

@dataclass(frozen=True)
class Label:
    """Where a label is drawn: font size and ink box, in final image pixels (tests check these)."""

    text: str
    size: int
    ink: tuple[int, int, int, int]

    @property
    def ink_height(self) -> int:
        return self.ink[3] - self.ink[1]


def _card(area: Area) -> tuple[int, int, int, int]:
    """The visible button inside an area: inset so neighbours are separated by a dark gap."""
    x0, y0, x1, y1 = area.box
    return (x0 + GAP_PX, y0 + GAP_PX, x1 - GAP_PX, y1 - GAP_PX)


def _bold(size: int) -> int:
    """Stroke width that thickens IPAexGothic's thin strokes into a bold face (it ships no bold)."""
    return max(1, round(size * 0.011))


def _fit(text: str, largest: int, max_width: int) -> int:
    """The largest font size up to `largest` at which `text` fits in `max_width` pixels."""
    size = largest
    while size > 40 and font(size).getlength(text) + 2 * _bold(size) > max_width:
        size -= 2
    return size


def _label_size(name: str, lang: Lang) -> int:
    """One label size for the whole menu (mixed sizes look like mixed importance)."""
    sizes = []
    for area in layout(name):
        if area.tile is None:
            continue
        x0, y0, x1, y1 = _card(area)
        largest = min(190, int((y1 - y0) * 0.21))
        sizes.append(_fit(area.tile.label(lang), largest, int((x1 - x0) * 0.92)))
    return min(sizes)


def _content(area: Area, size: int, text: str) -> tuple[Box, tuple[float, float]]:
    """Icon box and label origin, stacked and centred in the card."""
    x0, y0, x1, y1 = _card(area)
    w, h = x1 - x0, y1 - y0
    icon = min(h * 0.40, w * 0.55)
    gap = h * 0.07
    left, top, right, bottom = font(size).getbbox(text, stroke_width=_bold(size))
    block = icon + gap + (bottom - top)
    iy = y0 + (h - block) / 2
    ix = x0 + (w - icon) / 2
    label_x = x0 + (w - (right - left)) / 2 - left
    label_y = iy + icon + gap - top
    return (ix, iy, ix + icon, iy + icon), (label_x, label_y)


def labels(name: str, lang: Lang = "ja") -> dict[str, Label]:
    """Each tile's label as drawn: tile key → font size and ink box."""
    size = _label_size(name, check_lang(lang))
    out = {}
    for area in layout(name):
        if area.tile is None:
            continue
        text = area.tile.label(lang)
        _, (lx, ly) = _content(area, size, text)
        left, top, right, bottom = font(size).getbbox(text, stroke_width=_bold(size))
        out[area.tile.key] = Label(text, size, (round(lx + left), round(ly + top),
                                                round(lx + right), round(ly + bottom)))
    return out


# --------------------------------------------------------------------------- icons
# Each draws into the square `box` (supersampled pixels) with `fg` on `bg`.

IconFn = Callable[[ImageDraw.ImageDraw, Box, RGB, RGB], None]


def _at(box: Box, fx: float, fy: float) -> tuple[float, float]:
    x0, y0, x1, y1 = box
    return (x0 + (x1 - x0) * fx, y0 + (y1 - y0) * fy)


def _rect(box: Box, fx0: float, fy0: float, fx1: float, fy1: float) -> Box:
    return (*_at(box, fx0, fy0), *_at(box, fx1, fy1))


def _stroke(box: Box, share: float = 0.07) -> int:
    return max(2, round((box[2] - box[0]) * share))


def _icon_qr(d: ImageDraw.ImageDraw, box: Box, fg: RGB, bg: RGB) -> None:
    for fx, fy in ((0, 0), (0.62, 0), (0, 0.62)):
        d.rectangle(_rect(box, fx, fy, fx + 0.38, fy + 0.38), fill=fg)
        d.rectangle(_rect(box, fx + 0.07, fy + 0.07, fx + 0.31, fy + 0.31), fill=bg)
        d.rectangle(_rect(box, fx + 0.13, fy + 0.13, fx + 0.25, fy + 0.25), fill=fg)
    for fx, fy in ((0.62, 0.62), (0.81, 0.62), (0.71, 0.75), (0.62, 0.88), (0.88, 0.88), (0.45, 0.45),
                   (0.45, 0.62), (0.45, 0.85), (0.88, 0.45), (0.71, 0.45)):
        d.rectangle(_rect(box, fx, fy, fx + 0.12, fy + 0.12), fill=fg)


def _icon_coin(d: ImageDraw.ImageDraw, box: Box, fg: RGB, bg: RGB) -> None:
    d.ellipse(box, fill=fg)
    d.ellipse(_rect(box, 0.1, 0.1, 0.9, 0.9), outline=bg, width=_stroke(box, 0.035))
    size = round((box[3] - box[1]) * 0.62)
    d.text(_at(box, 0.5, 0.52), "¥", font=font(size), fill=bg, anchor="mm")


def _icon_document(d: ImageDraw.ImageDraw, box: Box, fg: RGB, bg: RGB) -> None:
    w = _stroke(box)
    d.rounded_rectangle(_rect(box, 0.14, 0.02, 0.86, 0.98), radius=w * 1.5, outline=fg, width=w)
    for fy in (0.24, 0.42, 0.60, 0.78):
        d.rounded_rectangle(_rect(box, 0.28, fy, 0.72 if fy < 0.7 else 0.56, fy + 0.07),
                            radius=w / 3, fill=fg)


def _icon_star(d: ImageDraw.ImageDraw, box: Box, fg: RGB, bg: RGB) -> None:
    cx, cy = _at(box, 0.5, 0.54)
    outer = (box[2] - box[0]) * 0.52
    points = []
    for i in range(10):
        radius = outer if i % 2 == 0 else outer * 0.45
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    d.polygon(points, fill=fg)


def _icon_gift(d: ImageDraw.ImageDraw, box: Box, fg: RGB, bg: RGB) -> None:
    d.rectangle(_rect(box, 0.1, 0.48, 0.9, 1.0), fill=fg)
    d.rectangle(_rect(box, 0.02, 0.3, 0.98, 0.5), fill=fg)
    d.rectangle(_rect(box, 0.02, 0.5, 0.98, 0.56), fill=bg)
    d.rectangle(_rect(box, 0.44, 0.3, 0.56, 1.0), fill=bg)
    w = _stroke(box, 0.06)
    d.ellipse(_rect(box, 0.18, 0.02, 0.5, 0.32), outline=fg, width=w)
    d.ellipse(_rect(box, 0.5, 0.02, 0.82, 0.32), outline=fg, width=w)


def _icon_question(d: ImageDraw.ImageDraw, box: Box, fg: RGB, bg: RGB) -> None:
    d.ellipse(box, fill=fg)
    d.text(_at(box, 0.5, 0.53), "?", font=font(round((box[3] - box[1]) * 0.78)), fill=bg, anchor="mm")


def _icon_person_plus(d: ImageDraw.ImageDraw, box: Box, fg: RGB, bg: RGB) -> None:
    d.ellipse(_rect(box, 0.2, 0.02, 0.58, 0.4), fill=fg)
    d.chord(_rect(box, 0.0, 0.46, 0.78, 1.3), 180, 360, fill=fg)
    d.ellipse(_rect(box, 0.56, 0.5, 1.0, 0.94), fill=fg, outline=bg, width=_stroke(box, 0.04))
    d.rectangle(_rect(box, 0.755, 0.58, 0.805, 0.86), fill=bg)
    d.rectangle(_rect(box, 0.64, 0.695, 0.92, 0.745), fill=bg)


def _icon_book(d: ImageDraw.ImageDraw, box: Box, fg: RGB, bg: RGB) -> None:
    d.polygon([_at(box, 0.0, 0.14), _at(box, 0.47, 0.24), _at(box, 0.47, 0.98), _at(box, 0.0, 0.86)], fill=fg)
    d.polygon([_at(box, 1.0, 0.14), _at(box, 0.53, 0.24), _at(box, 0.53, 0.98), _at(box, 1.0, 0.86)], fill=fg)
    w = _stroke(box, 0.035)
    for fy in (0.36, 0.52, 0.68):
        d.line([_at(box, 0.1, fy), _at(box, 0.38, fy + 0.05)], fill=bg, width=w)
        d.line([_at(box, 0.9, fy), _at(box, 0.62, fy + 0.05)], fill=bg, width=w)


def _icon_bubble(d: ImageDraw.ImageDraw, box: Box, fg: RGB, bg: RGB) -> None:
    d.rounded_rectangle(_rect(box, 0.0, 0.08, 1.0, 0.76), radius=(box[2] - box[0]) * 0.16, fill=fg)
    d.polygon([_at(box, 0.22, 0.7), _at(box, 0.48, 0.7), _at(box, 0.2, 0.96)], fill=fg)
    for fx in (0.27, 0.5, 0.73):
        d.ellipse(_rect(box, fx - 0.07, 0.35, fx + 0.07, 0.49), fill=bg)


def _icon_scan(d: ImageDraw.ImageDraw, box: Box, fg: RGB, bg: RGB) -> None:
    w = _stroke(box, 0.09)
    arm = 0.3
    for fx, fy, sx, sy in ((0, 0, 1, 1), (1, 0, -1, 1), (0, 1, 1, -1), (1, 1, -1, -1)):
        corner = _at(box, fx, fy)
        d.line([_at(box, fx + sx * arm, fy), corner, _at(box, fx, fy + sy * arm)], fill=fg, width=w,
               joint="curve")
    _icon_qr(d, _rect(box, 0.22, 0.22, 0.78, 0.78), fg, bg)


def _icon_bars(d: ImageDraw.ImageDraw, box: Box, fg: RGB, bg: RGB) -> None:
    for fx, top in ((0.06, 0.58), (0.38, 0.34), (0.70, 0.08)):
        d.rectangle(_rect(box, fx, top, fx + 0.24, 0.9), fill=fg)
    d.rectangle(_rect(box, 0.0, 0.9, 1.0, 0.98), fill=fg)


def _icon_bank(d: ImageDraw.ImageDraw, box: Box, fg: RGB, bg: RGB) -> None:
    d.polygon([_at(box, 0.5, 0.0), _at(box, 1.0, 0.26), _at(box, 0.0, 0.26)], fill=fg)
    d.rectangle(_rect(box, 0.04, 0.28, 0.96, 0.34), fill=fg)
    for fx in (0.1, 0.33, 0.56, 0.79):
        d.rectangle(_rect(box, fx, 0.38, fx + 0.11, 0.84), fill=fg)
    d.rectangle(_rect(box, 0.0, 0.88, 1.0, 0.98), fill=fg)


ICONS: dict[str, IconFn] = {
    "qr": _icon_qr, "coin": _icon_coin, "document": _icon_document, "star": _icon_star,
    "gift": _icon_gift, "question": _icon_question, "person_plus": _icon_person_plus,
    "book": _icon_book, "bubble": _icon_bubble, "scan": _icon_scan, "bars": _icon_bars,
    "bank": _icon_bank,
}


# --------------------------------------------------------------------------- drawing

def _scaled(box: Sequence[float]) -> Box:
    x0, y0, x1, y1 = (v * SCALE for v in box)
    return (x0, y0, x1, y1)


def _draw_tile(d: ImageDraw.ImageDraw, area: Area, size: int, lang: Lang) -> None:
    tile = area.tile
    assert tile is not None
    background, text_colour, icon_colour = tile_colours(tile)
    # A deep-coloured card gets a white rim: a dark gap alone would barely show against it.
    rim = {"outline": WHITE, "width": PRIMARY_RIM * SCALE} if tile.primary else {}
    d.rounded_rectangle(_scaled(_card(area)), radius=RADIUS * SCALE, fill=background, **rim)
    text = tile.label(lang)
    icon_box, (lx, ly) = _content(area, size, text)
    ICONS[tile.icon](d, _scaled(icon_box), icon_colour, background)
    d.text((lx * SCALE, ly * SCALE), text, font=font(size * SCALE), fill=text_colour,
           stroke_width=_bold(size) * SCALE, stroke_fill=text_colour)


def _draw_tab(d: ImageDraw.ImageDraw, area: Area, lang: Lang) -> None:
    """Tabs: the current one is light and joins the page; the other is a slate button with ▶."""
    assert area.tab is not None
    x0, y0, x1, y1 = area.box
    card = (x0 + GAP_PX, y0 + GAP_PX * 2, x1 - GAP_PX, y1 + RADIUS)  # runs under the tiles' gap
    if area.active:
        fill, ink = WHITE, INK
    else:
        fill, ink = TAB_IDLE, WHITE
    d.rounded_rectangle(_scaled(card), radius=RADIUS * SCALE, fill=fill)
    if area.active:  # a thick accent bar on top says "you are here"
        d.rounded_rectangle(_scaled((card[0], card[1], card[2], card[1] + 26)), radius=13 * SCALE,
                            fill=_rgb("#F2A900"))
    text = area.tab.label(lang)
    size = _fit(text, 120, int((x1 - x0) * 0.7))
    cx, cy = (x0 + x1) / 2, (y0 + GAP_PX * 2 + y1 - GAP_PX) / 2 + 8
    if not area.active:  # a "go there" triangle after the label
        width = font(size).getlength(text)
        tri = size * 0.55
        cx -= tri * 0.8
        tx = cx + width / 2 + tri * 0.6
        d.polygon([(tx * SCALE, (cy - tri / 2) * SCALE), ((tx + tri * 0.85) * SCALE, cy * SCALE),
                   (tx * SCALE, (cy + tri / 2) * SCALE)], fill=ink)
    d.text((cx * SCALE, cy * SCALE), text, font=font(size * SCALE), fill=ink, anchor="mm",
           stroke_width=_bold(size) * SCALE, stroke_fill=ink)


def render(name: str, lang: Lang = "ja") -> Image.Image:
    """The menu image at its exact size (RGB)."""
    menu = get_menu(name)
    check_lang(lang)
    width, height = menu.size
    image = Image.new("RGB", (width * SCALE, height * SCALE), GAP)
    d = ImageDraw.Draw(image)
    areas = layout(name)
    for area in areas:  # tabs first: the tile row covers the foot of the tab cards
        if area.tab is not None:
            _draw_tab(d, area, lang)
    if menu.tabs:
        d.rectangle((0, TAB_HEIGHT * SCALE, width * SCALE, height * SCALE), fill=GAP)
    size = _label_size(name, lang)
    for area in areas:
        if area.tile is not None:
            _draw_tile(d, area, size, lang)
    return image.resize((width, height), Image.Resampling.LANCZOS)


def encode(image: Image.Image) -> bytes:
    """PNG under LINE's 1 MB; a 256-colour palette if the full-colour file is too big."""
    buf = io.BytesIO()
    image.save(buf, "PNG", optimize=True)
    if buf.tell() > MAX_IMAGE_BYTES:
        buf = io.BytesIO()
        image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
            buf, "PNG", optimize=True)
    data = buf.getvalue()
    if len(data) > MAX_IMAGE_BYTES:
        raise ValueError(f"rich menu image is {len(data)} bytes, over LINE's 1 MB")
    return data


@cache
def draw_menu(name: str, lang: Lang = "ja") -> bytes:
    """The PNG to upload for this menu: exact size, under 1 MB. Cached: drawing takes a moment."""
    return encode(render(name, lang))


def save_previews(out: Path, langs: Sequence[Lang] = LANGS) -> list[Path]:
    """Write every menu as `<name>[-en].png` into `out`, for people to look at before a deploy."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in MENUS:
        for lang in langs:
            path = out / f"{menu_key(name, lang)}.png"
            path.write_bytes(draw_menu(name, lang))
            paths.append(path)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rich_menus.images", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for the PNG previews")
    parser.add_argument("--lang", choices=LANGS, action="append", help="only these languages (repeatable)")
    args = parser.parse_args(argv)
    for path in save_previews(args.out, tuple(args.lang or LANGS)):
        print(f"{path}  {path.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
