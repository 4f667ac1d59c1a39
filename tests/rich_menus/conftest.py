"""Fixtures for rich menus: a fake LINE client that records calls, and the official OpenAPI spec."""
from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from rich_menus.definitions import LANGS, MENUS, Lang
from tests import line_files

LIFF_ID = "1234567890-AbCdEfGh"
ALL_MENUS: list[tuple[str, Lang]] = [(name, lang) for name in MENUS for lang in LANGS]


def spec_path() -> Path:
    """LINE's `messaging-api.yml` (tests using it are marked `line_spec`: skipped where absent)."""
    found = line_files.spec_dir()
    if found is None:
        pytest.skip(line_files.REASON)
    return found / "messaging-api.yml"


class FakeClient:
    """Just enough of LINE's rich menu API: state plus a log of every call, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.menus: dict[str, dict[str, Any]] = {}
        self.images: dict[str, bytes] = {}
        self.aliases: dict[str, str] = {}
        self.default: str | None = None
        self.links: dict[str, str] = {}
        self._ids = itertools.count(1)

    def create_rich_menu(self, payload: dict[str, Any]) -> str:
        rich_menu_id = f"richmenu-{next(self._ids):032x}"
        self.calls.append(("create_rich_menu", payload["name"]))
        self.menus[rich_menu_id] = payload
        return rich_menu_id

    def upload_rich_menu_image(self, rich_menu_id: str, png: bytes) -> None:
        self.calls.append(("upload_rich_menu_image", rich_menu_id))
        assert rich_menu_id in self.menus and rich_menu_id not in self.images
        self.images[rich_menu_id] = png

    def set_default_rich_menu(self, rich_menu_id: str) -> None:
        self.calls.append(("set_default_rich_menu", rich_menu_id))
        assert rich_menu_id in self.images, "LINE refuses a menu without an image"
        self.default = rich_menu_id

    def create_or_update_alias(self, alias_id: str, rich_menu_id: str) -> None:
        self.calls.append(("create_or_update_alias", alias_id, rich_menu_id))
        assert rich_menu_id in self.menus
        self.aliases[alias_id] = rich_menu_id

    def list_rich_menus(self) -> list[dict[str, Any]]:
        self.calls.append(("list_rich_menus",))
        return [{"richMenuId": i, **m} for i, m in self.menus.items()]

    def delete_rich_menu(self, rich_menu_id: str) -> None:
        self.calls.append(("delete_rich_menu", rich_menu_id))
        del self.menus[rich_menu_id]
        self.images.pop(rich_menu_id, None)
        self.links = {u: m for u, m in self.links.items() if m != rich_menu_id}
        if self.default == rich_menu_id:
            self.default = None

    def link_rich_menu(self, user_id: str, rich_menu_id: str) -> None:
        self.calls.append(("link_rich_menu", user_id, rich_menu_id))
        self.links[user_id] = rich_menu_id

    def bulk_link(self, user_ids: Sequence[str], rich_menu_id: str) -> None:
        self.calls.append(("bulk_link", len(user_ids), rich_menu_id))
        assert len(user_ids) <= 500, "LINE takes at most 500 users per bulk link"
        assert rich_menu_id in self.images
        self.links.update(dict.fromkeys(user_ids, rich_menu_id))

    def named(self, op: str) -> list[tuple[Any, ...]]:
        return [c for c in self.calls if c[0] == op]


@pytest.fixture
def fake_client() -> FakeClient:
    return FakeClient()
