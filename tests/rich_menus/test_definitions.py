"""Menu definitions and payloads: the tap areas, the actions, and LINE's official spec."""
from __future__ import annotations

import functools
import itertools
from typing import Any

import pytest
import yaml
from linebot.v3.messaging import RichMenuRequest
from openapi_schema_validator import OAS30WriteValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from bot import line_check
from rich_menus.definitions import (
    ALIAS_RE,
    MENUS,
    Lang,
    alias_id,
    layout,
    line_name,
    menu_key,
    menu_payload,
    split_key,
)
from tests.line_files import line_spec
from tests.rich_menus.conftest import ALL_MENUS, LIFF_ID, spec_path

SPEC_URI = "urn:line-openapi:messaging-api"


@functools.cache
def _spec() -> dict[str, Any]:
    return yaml.safe_load(spec_path().read_text(encoding="utf-8"))


def _validator(pointer: str) -> OAS30WriteValidator:
    registry = Registry().with_resource(SPEC_URI, Resource.from_contents(_spec(), default_specification=DRAFT4))
    return OAS30WriteValidator({"$ref": f"{SPEC_URI}{pointer}"}, registry=registry,
                               format_checker=OAS30WriteValidator.FORMAT_CHECKER)


def spec_errors(payload: dict[str, Any]) -> list[str]:
    """RichMenuRequest as plain JSON Schema, then each action against the schema its `type` maps to
    (JSON Schema ignores OpenAPI's `discriminator`, so `Action` alone would accept anything)."""
    errors = [f"{list(e.absolute_path)}: {e.message}"
              for e in _validator("#/components/schemas/RichMenuRequest").iter_errors(payload)]
    mapping = _spec()["components"]["schemas"]["Action"]["discriminator"]["mapping"]
    for i, area in enumerate(payload.get("areas", [])):
        action = area.get("action", {})
        ref = mapping.get(action.get("type"))
        if ref is None:
            errors.append(f"areas[{i}].action: unknown type {action.get('type')!r}")
            continue
        errors += [f"areas[{i}].action{list(e.absolute_path)}: {e.message}"
                   for e in _validator(ref).iter_errors(action)]
    return errors


# LINE's reference requires these, though the OpenAPI file does not mark them `required`.
REQUIRED = {
    "postback": {"type", "data"},
    "uri": {"type", "uri"},
    "richmenuswitch": {"type", "richMenuAliasId", "data"},
}


@line_spec
@pytest.mark.parametrize(("name", "lang"), ALL_MENUS)
def test_payload_validates_against_the_official_spec_files(name: str, lang: Lang) -> None:
    assert spec_errors(menu_payload(name, LIFF_ID, lang)) == []


@pytest.mark.parametrize(("name", "lang"), ALL_MENUS)
def test_payload_passes_the_line_check(name: str, lang: Lang) -> None:
    payload = menu_payload(name, LIFF_ID, lang)
    assert line_check.validate_request("POST", "/v2/bot/richmenu", payload) == []
    for area in payload["areas"]:
        action = area["action"]
        assert REQUIRED[action["type"]] <= action.keys()
        assert 1 <= len(action["label"]) <= 20  # read aloud by screen readers


BROKEN_ACTIONS = ({"type": "postback", "data": "x" * 301},
                  {"type": "richmenuswitch", "richMenuAliasId": "a" * 33, "data": "x"},
                  {"type": "teleport", "data": "x"})


@line_spec
def test_the_spec_check_refuses_bad_actions() -> None:
    """The dispatch on `type` is what catches these; plain JSON Schema would let them through."""
    good = menu_payload("shop_tabbed", LIFF_ID)
    for broken in BROKEN_ACTIONS:
        bad = {**good, "areas": [{**good["areas"][0], "action": broken}]}
        assert spec_errors(bad), broken
    assert spec_errors({**good, "chatBarText": "メ" * 15})


def test_the_line_check_refuses_bad_actions() -> None:
    good = menu_payload("shop_tabbed", LIFF_ID)
    for broken in BROKEN_ACTIONS:
        bad = {**good, "areas": [{**good["areas"][0], "action": broken}]}
        assert line_check.validate_request("POST", "/v2/bot/richmenu", bad), broken
    assert line_check.validate_request("POST", "/v2/bot/richmenu", {**good, "chatBarText": "メ" * 15})


@pytest.mark.parametrize(("name", "lang"), ALL_MENUS)
def test_the_sdk_model_round_trips_the_payload(name: str, lang: Lang) -> None:
    payload = menu_payload(name, LIFF_ID, lang)
    assert RichMenuRequest.from_dict(payload).to_dict() == payload


@pytest.mark.parametrize("name", MENUS)
def test_areas_cover_the_image_exactly_without_overlap(name: str) -> None:
    payload = menu_payload(name, LIFF_ID)
    width, height = payload["size"]["width"], payload["size"]["height"]
    boxes = [a["bounds"] for a in payload["areas"]]
    for b in boxes:
        assert b["x"] >= 0 and b["y"] >= 0 and b["width"] > 0 and b["height"] > 0
        assert b["x"] + b["width"] <= width and b["y"] + b["height"] <= height
    for a, b in itertools.combinations(boxes, 2):
        overlap_x = min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"])
        overlap_y = min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"])
        assert overlap_x <= 0 or overlap_y <= 0, (a, b)
    assert sum(b["width"] * b["height"] for b in boxes) == width * height  # no overlap + same area = cover


def test_sizes_and_grids() -> None:
    sizes = {name: (m.size, [len(row) for row in m.rows]) for name, m in MENUS.items()}
    assert sizes["guest"] == ((2500, 843), [3])
    assert sizes["resident"] == ((2500, 1686), [3, 3])
    assert sizes["resident_tabbed"] == ((2500, 1686), [3, 3])
    assert sizes["shop"] == ((2500, 1686), [2, 2])
    assert sizes["shop_tabbed"] == ((2500, 1686), [2, 2])


def _actions(name: str, lang: Lang = "ja") -> dict[str, dict[str, Any]]:
    return {a["action"]["label"]: a["action"] for a in menu_payload(name, LIFF_ID, lang)["areas"]}


def test_resident_actions() -> None:
    actions = _actions("resident")
    assert list(actions) == ["支払う", "残高", "履歴", "ポイント", "給付金", "ヘルプ"]
    assert actions["支払う"] == {"type": "uri", "label": "支払う", "uri": f"https://liff.line.me/{LIFF_ID}/pay"}
    assert actions["残高"] == {"type": "postback", "label": "残高", "data": "action=balance", "displayText": "残高"}
    assert {a["data"] for a in actions.values() if a["type"] == "postback"} == {
        "action=balance", "action=history", "action=points", "action=grants", "action=help"}


def test_guest_and_shop_actions() -> None:
    guest = _actions("guest")
    assert list(guest) == ["登録する", "使い方", "お問い合わせ"]
    assert all(a["type"] == "postback" and a["displayText"] == label for label, a in guest.items())
    shop = _actions("shop")
    assert list(shop) == ["読み取り", "売上", "精算", "ヘルプ"]
    assert shop["読み取り"]["uri"] == f"https://liff.line.me/{LIFF_ID}/till"
    assert shop["ヘルプ"]["data"] == "action=shop_help"  # shop help differs from residents' help


def test_english_menus_keep_the_data_and_translate_the_words() -> None:
    ja, en = menu_payload("resident", LIFF_ID, "ja"), menu_payload("resident", LIFF_ID, "en")
    assert [a["action"].get("data") for a in ja["areas"]] == [a["action"].get("data") for a in en["areas"]]
    assert _actions("resident", "en")["Balance"]["displayText"] == "Balance"
    assert en["chatBarText"] == "Menu" and ja["chatBarText"] == "メニュー"


def test_only_tabbed_menus_have_tabs_and_they_switch_through_aliases() -> None:
    for name in ("guest", "resident", "shop"):
        assert all(a["action"]["type"] != "richmenuswitch" for a in menu_payload(name, LIFF_ID)["areas"])
    for name, lang in (("resident_tabbed", "ja"), ("shop_tabbed", "ja"), ("shop_tabbed", "en")):
        areas = menu_payload(name, LIFF_ID, lang)["areas"]
        tabs = [a for a in areas if a["action"]["type"] == "richmenuswitch"]
        suffix = "" if lang == "ja" else "-en"
        assert [t["action"]["richMenuAliasId"] for t in tabs] == [f"machi-resident{suffix}", f"machi-shop{suffix}"]
        assert all(t["bounds"]["y"] == 0 for t in tabs)  # the strip is at the top
        tab_bottom = max(t["bounds"]["height"] for t in tabs)
        assert all(a["bounds"]["y"] >= tab_bottom for a in areas if a not in tabs)
    assert alias_id("resident_tabbed") == "machi-resident"
    assert alias_id("shop_tabbed", "en") == "machi-shop-en"
    assert alias_id("guest") == "machi-guest"
    assert alias_id("resident") is None


def test_names_and_keys() -> None:
    for name, lang in ALL_MENUS:
        key = menu_key(name, lang)
        assert split_key(key) == (name, lang)
        assert menu_payload(name, LIFF_ID, lang)["name"] == line_name(name, lang)
        alias = alias_id(name, lang)
        assert alias is None or ALIAS_RE.fullmatch(alias)
    assert len({line_name(n, lg) for n, lg in ALL_MENUS}) == len(ALL_MENUS)
    with pytest.raises(KeyError):
        menu_key("admin")
    with pytest.raises(ValueError):
        menu_payload("guest", LIFF_ID, "fr")  # type: ignore[arg-type]


@pytest.mark.parametrize("liff_id", ["", "abc/../x", "1234 5678", "id?x=1"])
def test_a_malformed_liff_id_is_refused(liff_id: str) -> None:
    with pytest.raises(ValueError):
        menu_payload("resident", liff_id)


def test_layout_matches_payload_bounds() -> None:
    """Images and payloads come from the same layout: what you see is where you tap."""
    for name in MENUS:
        bounds = [a["bounds"] for a in menu_payload(name, LIFF_ID)["areas"]]
        assert bounds == [{"x": a.x, "y": a.y, "width": a.width, "height": a.height} for a in layout(name)]
