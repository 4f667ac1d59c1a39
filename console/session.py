"""Who is signed in to the console, and whether they may open a page (`requires`).

The signed session cookie holds only the account id, its session generation, the sign-in stage
(`password`: a second factor is still due; `ok`) and the time of the last request. Each request
reloads the account: a raised generation (signed out everywhere), a lock or 30 minutes without a
request ends the session. Roles are checked here, on the server, for every page and action.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, g, redirect, session, url_for

from console.blueprint import error_page
from town import staff
from town.staff import StaffAccount

KEY = "console"
IDLE_SECONDS = 30 * 60
ALL_ROLES = tuple(staff.ROLE_JA)


def machi() -> Any:
    return current_app.extensions["machi"]


def begin(account_id: int, gen: int, stage: str) -> None:
    """A fresh session (the old one's contents, CSRF token included, are dropped)."""
    session.clear()
    session[KEY] = {"sid": account_id, "gen": gen, "stage": stage, "seen": int(time.time())}


def promote() -> None:
    """The second factor was given: the session is fully signed in."""
    data = dict(session.get(KEY) or {})
    data["stage"] = "ok"
    session.clear()
    session[KEY] = data


def end() -> None:
    session.pop(KEY, None)
    session.clear()


def pending() -> StaffAccount | None:
    """The account of a session at any stage, if it is still valid (None otherwise)."""
    data = session.get(KEY)
    if not data:
        return None
    if time.time() - data.get("seen", 0) > IDLE_SECONDS:
        end()
        g.console_expired = True
        return None
    account = staff.current(machi().db, data["sid"])
    if account is None or account.session_gen != data.get("gen"):
        end()
        return None
    data = dict(data, seen=int(time.time()))
    session[KEY] = data
    g.console_stage = data["stage"]
    return account


def signed_in() -> StaffAccount | None:
    account = pending()
    return account if account is not None and g.console_stage == "ok" else None


def actor(account: StaffAccount) -> str:
    return f"console:{account.login}"


def requires(*roles: str) -> Callable:
    """Only signed-in staff with one of `roles` may open the page; others get 403 (or the sign-in page)."""
    def wrap(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any):
            account = pending()
            if account is None:
                return redirect(url_for("console.sign_in", expired=1 if g.get("console_expired") else None))
            if g.console_stage != "ok":
                return redirect(url_for("console.totp"))
            if account.role not in roles:
                return error_page(403, "この画面・操作の権限がありません。必要な場合は管理者にご相談ください。")
            g.staff = account
            return view(*args, **kwargs)
        return guarded
    return wrap
