"""The simulator's state for one app: the fake platform's store and what the chat UI asks of it.

Kept on `machi.extras["simulator"]` (the store itself on `machi.extras["fake_line"]`). The chat
UI's routes stay thin: they call these methods.
"""
from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

from bot import line_check
from simulator import platform, webhook
from simulator.chatlog import SimulatorStore
from simulator.personas import Persona, list_personas, scan_choices

log = logging.getLogger(__name__)

USER_ID = re.compile(r"^U[0-9a-f]{32}$")
KEY = "simulator"


class SimulatorError(ValueError):
    """A request from the chat UI that cannot be played (unknown persona, not a friend...)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Simulator:
    app: Flask
    machi: Any
    store: SimulatorStore
    menu_ids: dict[str, str] = field(default_factory=dict)
    problem: str = ""
    _ready: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def config(self) -> Any:
        return self.machi.config

    # ---- start-up

    def ensure_ready(self) -> None:
        """Personas known to the platform, menus deployed and linked: once, on first use."""
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            personas = self.refresh_personas()
            try:
                self.menu_ids = platform.ensure_menus(self.app, self.store, self.config.liff_id,
                                                      self.config.line_channel_access_token)
                platform.record_for_bot(self.machi.db, self.menu_ids)
                platform.link_users(self.app, self.store, self.config.line_channel_access_token, self.menu_ids,
                                    platform.assignments(personas))
                self.problem = ""
            except Exception as exc:  # noqa: BLE001 - the chat still works without menus; the UI says why
                log.exception("simulator: the rich menus could not be set up")
                self.problem = f"リッチメニューを用意できませんでした: {type(exc).__name__}: {exc}"[:400]
            self._ready = True

    def personas(self) -> list[Persona]:
        with self.machi.db.session() as session:
            return list_personas(session)

    def refresh_personas(self) -> list[Persona]:
        """Tell the platform who these people are (profiles), and who is already a friend."""
        personas = self.personas()
        for p in personas:
            if not p.id.startswith("U"):
                continue
            self.store.add_persona(p.id, p.name, language=p.language)
            if p.id not in self.store.following:
                self.store.set_following(p.id, p.registered or bool(p.shops) or p.role == "staff")
        return personas

    def scan_choices(self) -> dict[str, list[dict[str, str]]]:
        with self.machi.db.session() as session:
            return scan_choices(session, self.personas())

    # ---- events from the chat UI

    def send(self, user_id: str, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        """Show what the persona did in their chat, then deliver it to `/callback` as LINE would."""
        check_user(user_id)
        if kind == "follow":
            unblocked = user_id in self.store.blocked
            self.store.set_following(user_id, True)
            self.store.note_system(user_id, "まちウォレットを友だち追加しました")
            body = {**body, "unblocked": unblocked}
        elif kind == "unfollow":
            self.store.set_following(user_id, False)
            self.store.note_system(user_id, "まちウォレットをブロックしました")
        elif not self.store.is_following(user_id):
            raise SimulatorError("友だち追加されていません。先に「追加」を押してください。", 409)
        if kind == "postback" and body.get("switch_alias"):
            body = {**body, "params": self._switch_menu(user_id, str(body["switch_alias"]))}
        try:
            event = webhook.build_event(self.store, user_id, kind, **_event_fields(body))
        except webhook.EventError as exc:
            raise SimulatorError(str(exc)) from exc
        problems = line_check.validate_webhook({"destination": webhook.BOT_USER_ID, "events": [event]})
        if problems:  # the simulator's own mistake: say so rather than feed the bot a wrong event
            log.error("simulator built an off-spec webhook event: %s", "; ".join(problems))
            raise SimulatorError("シミュレーターが不正なイベントを作りました: " + "; ".join(problems), 500)
        self._show_own(user_id, kind, body, event)
        result = webhook.deliver(self.app, self.config.line_channel_secret, [event])
        self._note_failure(user_id, result)
        return {"ok": result.ok, "status": result.status, "error": result.error,
                "webhookEventId": event["webhookEventId"], "seq": self.store.last_seq}

    def _show_own(self, user_id: str, kind: str, body: dict[str, Any], event: dict[str, Any]) -> None:
        """The persona's own bubble, before the bot's answer (which may arrive during delivery)."""
        if kind == "text":
            self.store.note_user(user_id, {"type": "text", "text": str(body.get("text", ""))})
        elif kind == "postback" and body.get("display_text"):
            self.store.note_user(user_id, {"type": "text", "text": str(body["display_text"])})
        elif kind in ("location", "sticker"):
            self.store.note_user(user_id, {k: v for k, v in event["message"].items() if k not in ("id", "quoteToken")})
        elif kind == "image":
            url = f"/simulator/api/content/{event['message']['id']}"
            self.store.note_user(user_id, {"type": "image", "originalContentUrl": url, "previewImageUrl": url})

    def _switch_menu(self, user_id: str, alias: str) -> dict[str, str]:
        """A `richmenuswitch` tap: LINE links the alias's menu to the user, then sends a postback."""
        with self.store._lock:
            menu_id = self.store.aliases.get(alias)
            if menu_id is not None:
                self.store.links[user_id] = menu_id
        status = "SUCCESS" if menu_id is not None else "RICHMENU_ALIAS_ID_NOTFOUND"
        return {"newRichMenuAliasId": alias, "status": status}

    def _note_failure(self, user_id: str, result: webhook.CallbackResult) -> None:
        if result.ok:
            return
        if result.status == 404:
            text = "ボット（POST /callback）がまだありません。メッセージは届きましたが、返事をする人がいません。"
            self.store.note_system(user_id, text, "warn")
        elif result.status == 400:
            self.store.note_system(user_id, "/callback が 400 を返しました（署名の検証に失敗？）", "error")
        else:
            detail = f"{result.status}" if result.status else f"例外 {result.error}"
            self.store.note_system(user_id, f"/callback が失敗しました（{detail}）。サーバーのログを見てください。", "error")

    # ---- what the UI polls

    def chat(self, user_id: str, after: int) -> dict[str, Any]:
        check_user(user_id)
        until = self.store.loading_until(user_id)
        return {"entries": [e.as_json() for e in self.store.chat(user_id, after)], "last": self.store.last_seq,
                "loading_until": int(until * 1000) if until else None, "menu": self.store.menu_for(user_id),
                "following": self.store.is_following(user_id), "violations": len(self.store.violations)}

    def rich_menu(self, user_id: str) -> dict[str, Any] | None:
        check_user(user_id)
        menu_id = self.store.menu_for(user_id)
        menu = self.store.rich_menus.get(menu_id) if menu_id else None
        if menu is None or menu_id not in self.store.images:
            return None
        return {**menu, "richMenuId": menu_id, "image": f"/simulator/api/richmenu/{menu_id}/image",
                "default": menu_id == self.store.default_menu}

    def id_token(self, user_id: str) -> dict[str, Any]:
        check_user(user_id)
        if user_id not in self.store.personas:
            self.refresh_personas()
        token = self.store.issue_id_token(user_id, self.config.line_login_channel_id)
        return {"id_token": token, "liff_id": self.config.liff_id, "expires_in": 3600}

    def status(self, host_url: str) -> dict[str, Any]:
        """What could stop the demo from working, for the banner."""
        problems = [self.problem] if self.problem else []
        host = self.config.line_api_host.rstrip("/")
        points_here = host == host_url.rstrip("/") or host == self.config.public_url.rstrip("/")
        if not points_here:
            problems.append(f"LINE_API_HOST が {host} です。ボットの返信と LIFF のログインはこのシミュレーターに届きません"
                            f"（make run は LINE_API_HOST={host_url.rstrip('/')} で起動します）。")
        has_callback = any(rule.rule == webhook.CALLBACK_PATH for rule in self.app.url_map.iter_rules())
        return {"callback": has_callback, "line_api_host": host, "points_here": points_here,
                "liff_id": self.config.liff_id, "menus": len(self.menu_ids), "problems": problems}

    def violations(self, after: int) -> dict[str, Any]:
        with self.store._lock:
            found = list(enumerate(self.store.violations))[after:]
        return {"total": len(self.store.violations),
                "violations": [{"index": i, "method": v.method, "path": v.path, "errors": v.errors[:20]}
                               for i, v in found]}

    def requests(self, after: int, limit: int = 200) -> dict[str, Any]:
        with self.store._lock:
            found = list(enumerate(self.store.requests))[after:][-limit:]
        return {"total": len(self.store.requests),
                "requests": [{"index": i, "method": r.method, "path": r.path, "status": r.status,
                              "request_id": r.request_id, "at": int(r.at * 1000)} for i, r in found]}


def check_user(user_id: str) -> None:
    if not isinstance(user_id, str) or not USER_ID.match(user_id):
        raise SimulatorError("LINE のユーザーID（U + 32桁の16進数）を指定してください。")


def _event_fields(body: dict[str, Any]) -> dict[str, Any]:
    allowed = ("text", "data", "params", "unblocked", "content", "content_type", "title", "address",
               "latitude", "longitude", "package_id", "sticker_id")
    return {k: body[k] for k in allowed if k in body}
