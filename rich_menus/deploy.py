"""Deploy the rich menus to LINE and choose which one each user sees.

`deploy` is safe to run again after any change or half-finished run: it builds the new menus
completely (menu, image, aliases, default) before it deletes the older menus of the same names, so
a failure part-way leaves users on working menus. It keeps no state of its own: it returns the new
ids, and finds the old menus by their `name` on LINE.

Deleting a menu drops the per-user links to it (users then see the default, guest menu), so pass
`assignments` to have users moved to the new menus before the old ones go, or call `relink` at once.

`client` is duck-typed (the real one is `bot.line_client.LineClient`); see `RichMenuClient`.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from rich_menus.definitions import LANGS, MENUS, Lang, alias_id, menu_key, menu_payload, split_key
from rich_menus.images import draw_menu

log = logging.getLogger(__name__)

BULK_LINK_MAX = 500  # LINE: at most 500 user ids per bulk link request
DEFAULT_MENU = "guest"


class RichMenuClient(Protocol):
    """The LINE calls rich menus need; `bot.line_client.LineClient` provides them."""

    def create_rich_menu(self, payload: dict[str, Any]) -> str: ...
    def upload_rich_menu_image(self, rich_menu_id: str, png: bytes) -> None: ...
    def set_default_rich_menu(self, rich_menu_id: str) -> None: ...
    def create_or_update_alias(self, alias_id: str, rich_menu_id: str) -> None: ...
    def list_rich_menus(self) -> list[dict[str, Any]]: ...
    def delete_rich_menu(self, rich_menu_id: str) -> None: ...
    def link_rich_menu(self, user_id: str, rich_menu_id: str) -> None: ...
    def bulk_link(self, user_ids: Sequence[str], rich_menu_id: str) -> Any: ...


def deploy(client: RichMenuClient, liff_id: str, *, langs: Sequence[Lang] = LANGS,
           assignments: Mapping[str, str] | None = None) -> dict[str, str]:
    """Create every menu with its image, point the aliases and the default at them, then delete
    the older menus of the same names. Returns menu key (`resident`, `resident-en`...) → richMenuId."""
    if not langs:
        raise ValueError("deploy needs at least one language")
    # Build every payload and image first: a bad definition fails before LINE is touched.
    prepared = {menu_key(name, lang): (menu_payload(name, liff_id, lang), draw_menu(name, lang))
                for name in MENUS for lang in langs}
    ours = {payload["name"] for payload, _png in prepared.values()}
    before = [m["richMenuId"] for m in client.list_rich_menus() if m.get("name") in ours]

    ids: dict[str, str] = {}
    for key, (payload, png) in prepared.items():
        rich_menu_id = client.create_rich_menu(payload)
        client.upload_rich_menu_image(rich_menu_id, png)
        ids[key] = rich_menu_id
        log.info("rich menu %s created: %s", key, rich_menu_id)
    for name in MENUS:
        for lang in langs:
            alias = alias_id(name, lang)
            if alias is not None:
                client.create_or_update_alias(alias, ids[menu_key(name, lang)])
    client.set_default_rich_menu(ids[menu_key(DEFAULT_MENU, "ja" if "ja" in langs else langs[0])])
    if assignments:
        relink(client, assignments, ids)

    fresh = set(ids.values())
    for old in before:
        if old not in fresh:
            client.delete_rich_menu(old)
            log.info("older rich menu deleted: %s", old)
    return ids


def menu_lang(line_language: str | None) -> Lang:
    """English menus for users whose LINE is in English, Japanese for everyone else."""
    return "en" if (line_language or "").lower().startswith("en") else "ja"


def choose_menu(is_registered: bool, is_shop_staff: bool, lang: str | None = None) -> str:
    """Which menu a user should see, as a key of `deploy`'s result.

    `is_registered`: a registered resident. Not a resident → the shop menu for shop staff, else
    the guest menu; a resident → the resident menu, with tabs to the shop menu if also shop staff.
    `lang` is the user's LINE language (`en...` gets the English menus).
    """
    if not is_registered:
        name = "shop" if is_shop_staff else "guest"
    else:
        name = "resident_tabbed" if is_shop_staff else "resident"
    return menu_key(name, menu_lang(lang))


def resolve(key: str, ids: Mapping[str, str]) -> str:
    """The id for a menu key; an English key falls back to the Japanese menu if not deployed."""
    if key in ids:
        return ids[key]
    name, _lang = split_key(key)  # raises KeyError for unknown menus
    if name in ids:
        return ids[name]
    raise KeyError(f"rich menu {key!r} was not deployed (deployed: {', '.join(sorted(ids))})")


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def relink(client: RichMenuClient, assignments: Mapping[str, str], ids: Mapping[str, str]) -> dict[str, int]:
    """Link users to their menus: users grouped by menu, bulk-linked ≤500 per request.

    `assignments` maps LINE user id → menu key (from `choose_menu`); `ids` is `deploy`'s result.
    Every key is checked before the first request, so a typo links nobody rather than some.
    Returns menu key → number of users linked.
    """
    groups: dict[str, list[str]] = {}
    for user_id, key in assignments.items():
        groups.setdefault(key, []).append(user_id)
    targets = {key: resolve(key, ids) for key in groups}
    for key, users in groups.items():
        for part in _chunks(users, BULK_LINK_MAX):
            client.bulk_link(list(part), targets[key])
        log.info("rich menu %s linked to %d users", key, len(users))
    return {key: len(users) for key, users in groups.items()}


def link_user(client: RichMenuClient, user_id: str, key: str, ids: Mapping[str, str]) -> None:
    """Link one user now (e.g. right after registering): the single-user call takes effect at once,
    where bulk links are processed later."""
    client.link_rich_menu(user_id, resolve(key, ids))
