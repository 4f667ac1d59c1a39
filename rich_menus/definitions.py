"""The rich menus as data, their tap areas, and the exact JSON LINE takes for them.

Five menus, each in Japanese and English (DESIGN.md §4: English where the user's LINE is English):

- `guest`: people who have not registered yet (the default menu for every new friend).
- `resident`: registered residents; six big tiles, no tabs.
- `shop`: shop staff who are not residents; four tiles.
- `resident_tabbed` / `shop_tabbed`: the same tiles under a tab strip, for people who are both a
  resident and shop staff. The tabs are `richmenuswitch` actions to the aliases `machi-resident` /
  `machi-shop`, so switching happens on the phone without a webhook round trip.

Tabs live only on the `_tabbed` variants because a rich menu is one image for everyone linked to it:
a tab on the plain resident menu would show an "お店" button to every resident, and an older
resident who taps it by mistake lands in a menu of shop tools they cannot use.

One layout (`layout`) drives both the payload's tap areas and the image (`rich_menus.images`), so
what a user sees is always where they tap.

Postback data is a query string (`flows.inputs.parse_postback`): `action=<key>`. Tab taps also
reach the webhook as postbacks with `action=switch&menu=<name>`; the bot should ignore those.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

Lang = Literal["ja", "en"]
LANGS: tuple[Lang, ...] = ("ja", "en")
Kind = Literal["postback", "liff"]

FULL = (2500, 1686)
HALF = (2500, 843)
TAB_HEIGHT = 250
MENU_NAME_PREFIX = "machi-"

# LINE's limits (Messaging API reference) that the OpenAPI spec does not all spell out.
MAX_AREAS = 20
MAX_ACTION_LABEL = 20
MAX_CHAT_BAR_TEXT = 14
MAX_NAME = 300
MAX_DATA = 300
ALIAS_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
LIFF_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,99}$")


@dataclass(frozen=True)
class Text:
    """A label in each language we draw."""

    ja: str
    en: str

    def __call__(self, lang: Lang) -> str:
        return self.en if lang == "en" else self.ja


@dataclass(frozen=True)
class Tap:
    """What a tile tap does: a postback (`value` = action key) or a LIFF page (`value` = the path
    after the LIFF id). Menu switches are tabs, not tiles."""

    kind: Kind
    value: str


@dataclass(frozen=True)
class Tile:
    """One big button: label, icon (a drawer in `rich_menus.images.ICONS`) and its colour."""

    key: str
    label: Text
    icon: str
    tap: Tap
    accent: str  # a deep colour: icon on light tiles, background of primary tiles
    primary: bool = False  # the one main job of the menu: deep colour, white text
    weight: int = 1  # relative width in its row (wider tiles for longer labels)


@dataclass(frozen=True)
class Tab:
    """One tab of the strip at the top; its menu is shown through a `richmenuswitch`."""

    label: Text
    menu: str


@dataclass(frozen=True)
class Menu:
    name: str
    size: tuple[int, int]
    rows: tuple[tuple[Tile, ...], ...]
    chat_bar: Text
    tabs: tuple[Tab, ...] = ()
    alias: str | None = None  # base alias id pointing at this menu (switch target)

    @property
    def tiles(self) -> tuple[Tile, ...]:
        return tuple(tile for row in self.rows for tile in row)


@dataclass(frozen=True)
class Area:
    """A tappable rectangle of a menu: a tab or a tile, with its bounds in image pixels."""

    x: int
    y: int
    width: int
    height: int
    tile: Tile | None = None
    tab: Tab | None = None
    active: bool = field(default=False)  # a tab showing the current menu

    @property
    def box(self) -> tuple[int, int, int, int]:
        return (self.x, self.y, self.x + self.width, self.y + self.height)


# --------------------------------------------------------------------------- the tiles

BLUE = "#0B4EA2"
GREEN = "#1B6E34"
PURPLE = "#5535A0"
ORANGE = "#A3470A"
RED = "#B3261E"
TEAL = "#0B6472"


def _post(key: str) -> Tap:
    return Tap("postback", key)


PAY = Tile("pay", Text("支払う", "Pay"), "qr", Tap("liff", "pay"), BLUE, primary=True)
BALANCE = Tile("balance", Text("残高", "Balance"), "coin", _post("balance"), GREEN)
HISTORY = Tile("history", Text("履歴", "History"), "document", _post("history"), PURPLE)
POINTS = Tile("points", Text("ポイント", "Points"), "star", _post("points"), ORANGE)
GRANTS = Tile("grants", Text("給付金", "Benefits"), "gift", _post("grants"), RED)
HELP = Tile("help", Text("ヘルプ", "Help"), "question", _post("help"), TEAL)

REGISTER = Tile("register", Text("登録する", "Sign up"), "person_plus", _post("register"), BLUE,
                primary=True, weight=43)
HOWTO = Tile("howto", Text("使い方", "Guide"), "book", _post("howto"), GREEN, weight=35)
CONTACT = Tile("contact", Text("お問い合わせ", "Contact"), "bubble", _post("contact"), TEAL, weight=47)

SCAN = Tile("scan", Text("読み取り", "Scan"), "scan", Tap("liff", "till"), BLUE, primary=True)
SALES = Tile("sales", Text("売上", "Sales"), "bars", _post("sales"), GREEN)
PAYOUTS = Tile("payouts", Text("精算", "Payouts"), "bank", _post("payouts"), PURPLE)
SHOP_HELP = Tile("shop_help", Text("ヘルプ", "Help"), "question", _post("shop_help"), TEAL)

RESIDENT_ROWS = ((PAY, BALANCE, HISTORY), (POINTS, GRANTS, HELP))
SHOP_ROWS = ((SCAN, SALES), (PAYOUTS, SHOP_HELP))
TABS = (Tab(Text("住民メニュー", "Resident"), "resident_tabbed"),
        Tab(Text("お店メニュー", "Shop"), "shop_tabbed"))

MENUS: dict[str, Menu] = {
    menu.name: menu
    for menu in (
        Menu("guest", HALF, ((REGISTER, HOWTO, CONTACT),), Text("メニュー", "Menu"), alias="machi-guest"),
        Menu("resident", FULL, RESIDENT_ROWS, Text("メニュー", "Menu")),
        Menu("shop", FULL, SHOP_ROWS, Text("お店メニュー", "Shop menu")),
        Menu("resident_tabbed", FULL, RESIDENT_ROWS, Text("住民メニュー", "Resident menu"), TABS,
             alias="machi-resident"),
        Menu("shop_tabbed", FULL, SHOP_ROWS, Text("お店メニュー", "Shop menu"), TABS, alias="machi-shop"),
    )
}


# --------------------------------------------------------------------------- names

def get_menu(name: str) -> Menu:
    try:
        return MENUS[name]
    except KeyError:
        raise KeyError(f"unknown rich menu {name!r}; known: {', '.join(MENUS)}") from None


def check_lang(lang: str) -> Lang:
    if lang not in LANGS:
        raise ValueError(f"unsupported rich menu language {lang!r}; use one of {LANGS}")
    return lang  # type: ignore[return-value]


def menu_key(name: str, lang: Lang = "ja") -> str:
    """How a (menu, language) is named in deploy results and user assignments: `shop`, `shop-en`."""
    get_menu(name)
    return name if check_lang(lang) == "ja" else f"{name}-{lang}"


def split_key(key: str) -> tuple[str, Lang]:
    """The inverse of `menu_key`."""
    for lang in LANGS:
        if lang != "ja" and key.endswith(f"-{lang}"):
            base = key[: -len(lang) - 1]
            get_menu(base)
            return base, lang
    get_menu(key)
    return key, "ja"


def line_name(name: str, lang: Lang = "ja") -> str:
    """The `name` field LINE stores: how a re-deploy finds (and deletes) its older menus."""
    return MENU_NAME_PREFIX + menu_key(name, lang)


def alias_id(name: str, lang: Lang = "ja") -> str | None:
    """The alias that points at this menu in this language, if the menu has one."""
    base = get_menu(name).alias
    if base is None:
        return None
    return base if check_lang(lang) == "ja" else f"{base}-{lang}"


# --------------------------------------------------------------------------- layout

def _split(total: int, weights: list[int]) -> list[tuple[int, int]]:
    """(start, length) for each weight; integer edges, no gaps, the last one ends at `total`."""
    edges = [0]
    running = 0
    whole = sum(weights)
    for weight in weights:
        running += weight
        edges.append(round(total * running / whole))
    return [(a, b - a) for a, b in zip(edges, edges[1:], strict=False)]


def layout(name: str) -> list[Area]:
    """The tab and tile rectangles of a menu: they cover the image exactly, without overlap."""
    menu = get_menu(name)
    width, height = menu.size
    areas: list[Area] = []
    top = 0
    if menu.tabs:
        for tab, (x, w) in zip(menu.tabs, _split(width, [1] * len(menu.tabs)), strict=True):
            areas.append(Area(x, 0, w, TAB_HEIGHT, tab=tab, active=tab.menu == menu.name))
        top = TAB_HEIGHT
    for row, (y, h) in zip(menu.rows, _split(height - top, [1] * len(menu.rows)), strict=True):
        for tile, (x, w) in zip(row, _split(width, [t.weight for t in row]), strict=True):
            areas.append(Area(x, top + y, w, h, tile=tile))
    return areas


# --------------------------------------------------------------------------- the LINE payload

def liff_url(liff_id: str, path: str) -> str:
    """`https://liff.line.me/{liff_id}/{path}`: LINE opens the LIFF app's endpoint URL + path."""
    if not LIFF_ID_RE.fullmatch(liff_id or ""):
        raise ValueError(f"not a LIFF id: {liff_id!r}")
    return f"https://liff.line.me/{liff_id}/{path}"


def _action(area: Area, liff_id: str, lang: Lang) -> dict[str, Any]:
    if area.tab is not None:
        target = alias_id(area.tab.menu, lang)
        assert target is not None, f"tab target {area.tab.menu} has no alias"
        label = area.tab.label(lang)
        return {"type": "richmenuswitch", "label": label, "richMenuAliasId": target,
                "data": f"action=switch&menu={area.tab.menu}"}
    tile = area.tile
    assert tile is not None
    label = tile.label(lang)
    if tile.tap.kind == "liff":
        return {"type": "uri", "label": label, "uri": liff_url(liff_id, tile.tap.value)}
    return {"type": "postback", "label": label, "data": f"action={tile.tap.value}", "displayText": label}


def menu_payload(name: str, liff_id: str, lang: Lang = "ja") -> dict[str, Any]:
    """The exact body of `POST /v2/bot/richmenu` for this menu (RichMenuRequest)."""
    menu = get_menu(name)
    check_lang(lang)
    width, height = menu.size
    payload: dict[str, Any] = {
        "size": {"width": width, "height": height},
        "selected": True,  # open on arrival: older users may never find the chat-bar toggle
        "name": line_name(name, lang),
        "chatBarText": menu.chat_bar(lang),
        "areas": [
            {"bounds": {"x": a.x, "y": a.y, "width": a.width, "height": a.height},
             "action": _action(a, liff_id, lang)}
            for a in layout(name)
        ],
    }
    check_payload(payload)
    return payload


def check_payload(payload: dict[str, Any]) -> None:
    """LINE's documented limits, so a bad definition fails here rather than at deploy time."""
    width, height = payload["size"]["width"], payload["size"]["height"]
    problems: list[str] = []
    if not (800 <= width <= 2500 and height >= 250 and width / height >= 1.45):
        problems.append(f"size {width}x{height} outside LINE's rich menu sizes")
    if len(payload["name"]) > MAX_NAME:
        problems.append("name longer than 300 characters")
    if not 0 < len(payload["chatBarText"]) <= MAX_CHAT_BAR_TEXT:
        problems.append("chatBarText must be 1-14 characters")
    if not 0 < len(payload["areas"]) <= MAX_AREAS:
        problems.append("a rich menu has 1-20 areas")
    for i, area in enumerate(payload["areas"]):
        b, action = area["bounds"], area["action"]
        if b["x"] < 0 or b["y"] < 0 or b["x"] + b["width"] > width or b["y"] + b["height"] > height:
            problems.append(f"areas[{i}] outside the image")
        if len(action.get("label", "")) > MAX_ACTION_LABEL:
            problems.append(f"areas[{i}].action.label longer than 20 characters")
        if len(action.get("data", "")) > MAX_DATA or len(action.get("displayText", "")) > MAX_DATA:
            problems.append(f"areas[{i}].action data/displayText longer than 300 characters")
        if action["type"] == "richmenuswitch" and not ALIAS_RE.fullmatch(action["richMenuAliasId"]):
            problems.append(f"areas[{i}].action.richMenuAliasId is not a valid alias id")
    if problems:
        raise ValueError(f"rich menu {payload['name']}: " + "; ".join(problems))
