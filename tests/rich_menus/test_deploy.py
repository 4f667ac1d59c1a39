"""Deploying menus (idempotently) and linking users to them."""
from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from PIL import Image

from rich_menus.definitions import MENUS, line_name
from rich_menus.deploy import choose_menu, deploy, link_user, menu_lang, relink
from tests.rich_menus.conftest import LIFF_ID, FakeClient

KEYS = {*MENUS, *(f"{name}-en" for name in MENUS)}
ALIASES = {"machi-guest": "guest", "machi-resident": "resident_tabbed", "machi-shop": "shop_tabbed",
           "machi-guest-en": "guest-en", "machi-resident-en": "resident_tabbed-en",
           "machi-shop-en": "shop_tabbed-en"}


def users(count: int, prefix: str = "") -> list[str]:
    return [f"U{prefix}{i:0{32 - len(prefix)}x}" for i in range(count)]


def test_deploy_creates_every_menu_with_its_image_aliases_and_default(fake_client: FakeClient) -> None:
    ids = deploy(fake_client, LIFF_ID)
    assert set(ids) == KEYS
    assert set(fake_client.menus) == set(ids.values())
    for key, rich_menu_id in ids.items():
        payload = fake_client.menus[rich_menu_id]
        assert payload["name"] == f"machi-{key}"
        size = Image.open(io.BytesIO(fake_client.images[rich_menu_id])).size
        assert size == (payload["size"]["width"], payload["size"]["height"])
    assert fake_client.aliases == {alias: ids[key] for alias, key in ALIASES.items()}
    assert fake_client.default == ids["guest"]


def test_deploy_orders_calls_so_no_one_sees_a_half_built_menu(fake_client: FakeClient) -> None:
    deploy(fake_client, LIFF_ID)
    ops = [c[0] for c in fake_client.calls]
    assert ops[0] == "list_rich_menus"
    last_upload = max(i for i, op in enumerate(ops) if op == "upload_rich_menu_image")
    first_alias = ops.index("create_or_update_alias")
    assert last_upload < first_alias < ops.index("set_default_rich_menu")
    creates = [i for i, op in enumerate(ops) if op == "create_rich_menu"]
    assert all(ops[i + 1] == "upload_rich_menu_image" for i in creates)  # each image right after its menu
    assert {c[1] for c in fake_client.named("upload_rich_menu_image")} == set(fake_client.menus)
    assert not fake_client.named("delete_rich_menu")


def test_redeploy_replaces_the_older_menus_and_repoints_aliases(fake_client: FakeClient) -> None:
    first = deploy(fake_client, LIFF_ID)
    fake_client.calls.clear()
    second = deploy(fake_client, LIFF_ID)

    assert set(first.values()).isdisjoint(second.values())
    assert {c[1] for c in fake_client.named("delete_rich_menu")} == set(first.values())
    assert set(fake_client.menus) == set(second.values())  # exactly one of each name remains
    assert fake_client.aliases == {alias: second[key] for alias, key in ALIASES.items()}
    assert fake_client.default == second["guest"]
    # Old menus go last, once the new ones are complete and the aliases point at them.
    ops = [c[0] for c in fake_client.calls]
    first_delete = ops.index("delete_rich_menu")
    assert all(op == "delete_rich_menu" for op in ops[first_delete:])


def test_redeploy_cleans_up_leftovers_and_leaves_other_menus_alone(fake_client: FakeClient) -> None:
    leftover = fake_client.create_rich_menu({"name": line_name("resident"), "size": {}})  # crashed run
    campaign = fake_client.create_rich_menu({"name": "summer-campaign", "size": {}})
    ids = deploy(fake_client, LIFF_ID)
    assert leftover not in fake_client.menus
    assert campaign in fake_client.menus
    assert set(fake_client.menus) == {*ids.values(), campaign}


def test_a_failed_deploy_leaves_the_old_menus_working(fake_client: FakeClient) -> None:
    first = deploy(fake_client, LIFF_ID)

    def broken_upload(rich_menu_id: str, png: bytes) -> None:
        raise RuntimeError("LINE is down")

    fake_client.upload_rich_menu_image = broken_upload  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        deploy(fake_client, LIFF_ID)
    assert set(first.values()) <= set(fake_client.menus)
    assert fake_client.default == first["guest"]
    assert fake_client.aliases["machi-resident"] == first["resident_tabbed"]


def test_deploy_can_move_users_before_the_old_menus_go(fake_client: FakeClient) -> None:
    first = deploy(fake_client, LIFF_ID)
    assignments = {u: "resident" for u in users(3)}
    relink(fake_client, assignments, first)
    second = deploy(fake_client, LIFF_ID, assignments=assignments)
    assert fake_client.links == dict.fromkeys(users(3), second["resident"])


def test_deploy_japanese_only(fake_client: FakeClient) -> None:
    ids = deploy(fake_client, LIFF_ID, langs=("ja",))
    assert set(ids) == set(MENUS)
    assert set(fake_client.aliases) == {"machi-guest", "machi-resident", "machi-shop"}


def test_deploy_refuses_a_bad_liff_id_before_touching_line(fake_client: FakeClient) -> None:
    with pytest.raises(ValueError):
        deploy(fake_client, "not a liff id")
    assert fake_client.calls == []


# --------------------------------------------------------------------------- choosing and linking


@pytest.mark.parametrize(("registered", "staff", "expected"), [
    (False, False, "guest"),
    (False, True, "shop"),
    (True, False, "resident"),
    (True, True, "resident_tabbed"),
])
def test_choose_menu(registered: bool, staff: bool, expected: str) -> None:
    assert choose_menu(registered, staff) == expected
    assert choose_menu(registered, staff, "ja") == expected
    assert choose_menu(registered, staff, "en") == f"{expected}-en"
    assert choose_menu(registered, staff, "en-US") == f"{expected}-en"
    assert choose_menu(registered, staff, "zh-TW") == expected


def test_menu_lang() -> None:
    assert [menu_lang(x) for x in (None, "", "ja", "en", "EN", "ko")] == ["ja", "ja", "ja", "en", "en", "ja"]


def test_relink_bulk_links_at_most_500_per_call(fake_client: FakeClient) -> None:
    ids = deploy(fake_client, LIFF_ID)
    fake_client.calls.clear()
    counts = relink(fake_client, dict.fromkeys(users(1201), "resident"), ids)
    calls = fake_client.named("bulk_link")
    assert [c[1] for c in calls] == [500, 500, 201]
    assert {c[2] for c in calls} == {ids["resident"]}
    assert counts == {"resident": 1201}
    assert fake_client.links == dict.fromkeys(users(1201), ids["resident"])


def test_relink_groups_users_by_menu(fake_client: FakeClient) -> None:
    ids = deploy(fake_client, LIFF_ID)
    fake_client.calls.clear()
    assignments = {
        **dict.fromkeys(users(700, "a"), "resident"),
        **dict.fromkeys(users(3, "b"), "shop"),
        **dict.fromkeys(users(2, "c"), "resident_tabbed-en"),
    }
    counts = relink(fake_client, assignments, ids)
    assert counts == {"resident": 700, "shop": 3, "resident_tabbed-en": 2}
    per_menu = {}
    for _, size, menu_id in fake_client.named("bulk_link"):
        per_menu.setdefault(menu_id, []).append(size)
    assert per_menu == {ids["resident"]: [500, 200], ids["shop"]: [3], ids["resident_tabbed-en"]: [2]}
    assert all(fake_client.links[u] == ids[k] for u, k in assignments.items())


def test_relink_falls_back_to_japanese_when_english_was_not_deployed(fake_client: FakeClient) -> None:
    ids = deploy(fake_client, LIFF_ID, langs=("ja",))
    relink(fake_client, {"U" + "1" * 32: "shop-en"}, ids)
    assert fake_client.links == {"U" + "1" * 32: ids["shop"]}


def test_relink_with_an_unknown_menu_links_nobody(fake_client: FakeClient) -> None:
    ids = deploy(fake_client, LIFF_ID)
    fake_client.calls.clear()
    with pytest.raises(KeyError):
        relink(fake_client, {"U" + "1" * 32: "resident", "U" + "2" * 32: "admin"}, ids)
    assert fake_client.calls == []


def test_link_user_links_one_user_at_once(fake_client: FakeClient) -> None:
    ids = deploy(fake_client, LIFF_ID)
    link_user(fake_client, "U" + "1" * 32, choose_menu(True, False), ids)
    assert fake_client.named("link_rich_menu") == [("link_rich_menu", "U" + "1" * 32, ids["resident"])]


# --------------------------------------------------------------------------- against the real client


@pytest.fixture
def line_over_http() -> Iterator[tuple[object, object]]:
    """`bot.line_client.LineClient` talking to the simulator's fake LINE server on a real socket."""
    from bot.line_client import LineClient
    from simulator.fake_line_server import run_fake_line

    url, store, stop = run_fake_line(channel_access_token="rich-menu-test-token")
    client = LineClient(url, "rich-menu-test-token", timeout=5.0, max_retries=2, backoff=0.001)
    try:
        yield client, store
    finally:
        client.close()
        stop()


def test_deploy_and_relink_through_the_real_line_client(line_over_http: tuple[object, object]) -> None:
    client, store = line_over_http
    first = deploy(client, LIFF_ID)  # type: ignore[arg-type]
    relink(client, {"U" + "1" * 32: choose_menu(True, True)}, first)  # type: ignore[arg-type]
    second = deploy(client, LIFF_ID, assignments={"U" + "1" * 32: choose_menu(True, True)})  # type: ignore[arg-type]

    assert set(store.rich_menus) == set(second.values())  # type: ignore[attr-defined]
    assert set(store.images) == set(second.values())  # type: ignore[attr-defined]
    assert store.default_menu == second["guest"]  # type: ignore[attr-defined]
    assert store.aliases == {alias: second[key] for alias, key in ALIASES.items()}  # type: ignore[attr-defined]
    assert store.links == {"U" + "1" * 32: second["resident_tabbed"]}  # type: ignore[attr-defined]
