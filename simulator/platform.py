"""The fake platform's start-up: the rich menus LINE would already hold, and who sees which.

On a real channel the menus stay on LINE's side between our deploys; the fake platform forgets
them when the dev server stops. So before the chat UI is used, the simulator does what staff do
once on a real channel — `rich_menus.deploy.deploy(...)` — through the fake's own endpoints (each
request checked against the spec like any other), records the ids where the bot looks for them
(`bot_rich_menus`), and links every known LINE user to the menu their state calls for.

Drawing the menus takes seconds, so the deployed menus and images are kept in a cache file under
`instance/simulator/`, keyed by the menu code and the LIFF id: later starts restore them at once,
with the same ids. Any change to `rich_menus/` makes a new key, hence a fresh deploy.
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import column, delete, insert, inspect, table

import rich_menus
from config import ROOT
from ledger.clock import utcnow
from rich_menus.deploy import choose_menu, deploy
from simulator.fake_line import FakeLineStore
from simulator.personas import Persona

log = logging.getLogger(__name__)

CACHE_DIR = ROOT / "instance" / "simulator"
MENU_PREFIX = "machi-"
BOT_MENU_TABLE = "bot_rich_menus"
_memo: dict[str, dict[str, Any]] = {}
_memo_lock = threading.Lock()


class PlatformError(RuntimeError):
    """The fake platform refused one of the simulator's own set-up calls."""


class InProcessLine:
    """The rich-menu calls of `rich_menus.deploy.RichMenuClient`, sent to the fake LINE endpoints
    of this very app through Flask's test client (no socket: works before the server listens)."""

    def __init__(self, app: Flask, access_token: str) -> None:
        self._client = app.test_client()
        self._auth = {"Authorization": f"Bearer {access_token}"}

    def _call(self, method: str, path: str, body: Any = None, *, data: bytes | None = None,
              content_type: str | None = None, ok: Sequence[int] = ()) -> Any:
        headers = dict(self._auth)
        if content_type:
            headers["Content-Type"] = content_type
        response = self._client.open(path, method=method, json=body if data is None else None, data=data,
                                     headers=headers)
        if response.status_code >= 400 and response.status_code not in ok:
            raise PlatformError(f"{method} {path}: {response.status_code} {response.get_data(as_text=True)[:300]}")
        return response.get_json(silent=True) if response.status_code < 400 else None

    def create_rich_menu(self, payload: dict[str, Any]) -> str:
        return str(self._call("POST", "/v2/bot/richmenu", payload)["richMenuId"])

    def upload_rich_menu_image(self, rich_menu_id: str, png: bytes) -> None:
        self._call("POST", f"/v2/bot/richmenu/{rich_menu_id}/content", data=png, content_type="image/png")

    def set_default_rich_menu(self, rich_menu_id: str) -> None:
        self._call("POST", f"/v2/bot/user/all/richmenu/{rich_menu_id}")

    def create_or_update_alias(self, alias_id: str, rich_menu_id: str) -> None:
        if self._call("GET", f"/v2/bot/richmenu/alias/{alias_id}", ok=(404,)) is None:
            self._call("POST", "/v2/bot/richmenu/alias", {"richMenuAliasId": alias_id, "richMenuId": rich_menu_id})
        else:
            self._call("POST", f"/v2/bot/richmenu/alias/{alias_id}", {"richMenuId": rich_menu_id})

    def list_rich_menus(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/v2/bot/richmenu/list")["richmenus"])

    def delete_rich_menu(self, rich_menu_id: str) -> None:
        self._call("DELETE", f"/v2/bot/richmenu/{rich_menu_id}")

    def link_rich_menu(self, user_id: str, rich_menu_id: str) -> None:
        self._call("POST", f"/v2/bot/user/{user_id}/richmenu/{rich_menu_id}")

    def bulk_link(self, user_ids: Sequence[str], rich_menu_id: str) -> None:
        self._call("POST", "/v2/bot/richmenu/bulk/link", {"richMenuId": rich_menu_id, "userIds": list(user_ids)})


# --------------------------------------------------------------------------- deploy, cached


def menus_fingerprint(liff_id: str) -> str:
    """Changes whenever the menu code (definitions, drawings, font choice) or the LIFF id does."""
    digest = hashlib.sha256(liff_id.encode())
    for path in sorted(Path(rich_menus.__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def deployed_ids(store: FakeLineStore) -> dict[str, str]:
    """Menu key (`resident`, `shop-en`...) → richMenuId of the machi menus the store holds."""
    with store._lock:
        return {m["name"].removeprefix(MENU_PREFIX): menu_id for menu_id, m in store.rich_menus.items()
                if str(m.get("name", "")).startswith(MENU_PREFIX)}


def ensure_menus(app: Flask, store: FakeLineStore, liff_id: str, access_token: str,
                 cache_dir: Path | None = CACHE_DIR) -> dict[str, str]:
    """The machi menus on the fake platform: already there, restored from the cache, or deployed."""
    ids = deployed_ids(store)
    if ids:
        return ids
    key = menus_fingerprint(liff_id)
    snapshot = _load_snapshot(key, cache_dir)
    if snapshot is not None:
        _restore(store, snapshot)
        log.info("simulator: rich menus restored from the cache (%s)", key)
        return dict(snapshot["ids"])
    log.info("simulator: deploying the rich menus to the fake LINE platform (drawing takes a few seconds)")
    ids = deploy(InProcessLine(app, access_token), liff_id)
    _save_snapshot(key, _snapshot(store, ids), cache_dir)
    return ids


def _snapshot(store: FakeLineStore, ids: dict[str, str]) -> dict[str, Any]:
    with store._lock:
        wanted = set(ids.values())
        return {
            "ids": ids,
            "menus": {i: m for i, m in store.rich_menus.items() if i in wanted},
            "images": {i: [base64.b64encode(data).decode(), mime] for i, (data, mime) in store.images.items()
                       if i in wanted},
            "aliases": {a: m for a, m in store.aliases.items() if m in wanted},
            "default": store.default_menu if store.default_menu in wanted else None,
        }


def _restore(store: FakeLineStore, snapshot: dict[str, Any]) -> None:
    with store._lock:
        store.rich_menus.update(json.loads(json.dumps(snapshot["menus"])))
        store.images.update({i: (base64.b64decode(data), mime) for i, (data, mime) in snapshot["images"].items()})
        store.aliases.update(snapshot["aliases"])
        if snapshot.get("default"):
            store.default_menu = snapshot["default"]


def _load_snapshot(key: str, cache_dir: Path | None) -> dict[str, Any] | None:
    with _memo_lock:
        if key in _memo:
            return _memo[key]
    if cache_dir is None:
        return None
    path = cache_dir / f"richmenus-{key}.json"
    try:
        snapshot = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    with _memo_lock:
        _memo[key] = snapshot
    return snapshot


def _save_snapshot(key: str, snapshot: dict[str, Any], cache_dir: Path | None) -> None:
    with _memo_lock:
        _memo[key] = snapshot
    if cache_dir is None:
        return
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        for old in cache_dir.glob("richmenus-*.json"):
            old.unlink(missing_ok=True)
        tmp = cache_dir / f".richmenus-{key}.tmp"
        tmp.write_text(json.dumps(snapshot), encoding="utf-8")
        tmp.replace(cache_dir / f"richmenus-{key}.json")
    except OSError as exc:  # a read-only checkout still works, it just draws again next time
        log.warning("simulator: could not cache the rich menus: %s", exc)


# --------------------------------------------------------------------------- who sees which


def record_for_bot(db: Any, ids: dict[str, str]) -> bool:
    """Write the ids where the bot finds them to link a user after registration (`bot_rich_menus`,
    what `machi richmenu deploy` records on a real channel). False when the bot has no such table."""
    if not inspect(db.engine).has_table(BOT_MENU_TABLE):
        return False
    menus = table(BOT_MENU_TABLE, column("key"), column("rich_menu_id"), column("deployed_at"))
    now = utcnow()
    with db.write() as session:
        session.execute(delete(menus).where(menus.c.key.in_(list(ids))))
        session.execute(insert(menus), [{"key": k, "rich_menu_id": v, "deployed_at": now} for k, v in ids.items()])
    return True


def assignments(personas: list[Persona]) -> dict[str, str]:
    """LINE user id → menu key, from what the database says each person is."""
    return {p.id: choose_menu(p.registered, bool(p.shops), p.language)
            for p in personas if p.id.startswith("U")}


def link_users(app: Flask, store: FakeLineStore, access_token: str, ids: dict[str, str],
               wanted: dict[str, str]) -> int:
    """Link users who have no menu of their own yet (LINE would remember theirs) and need another
    menu than the default one; returns how many."""
    client = InProcessLine(app, access_token)
    groups: dict[str, list[str]] = {}
    for user_id, key in wanted.items():
        if store.links.get(user_id) is None and key in ids and ids[key] != store.default_menu:
            groups.setdefault(ids[key], []).append(user_id)
    for menu_id, users in groups.items():
        for start in range(0, len(users), 500):
            client.bulk_link(users[start:start + 500], menu_id)
    return sum(len(u) for u in groups.values())
