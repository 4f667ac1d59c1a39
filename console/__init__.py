"""The staff's web console (管理画面, DESIGN.md §1): server-rendered pages over `town/` and `ledger/`.

`register(app, machi)` is the one call `app.py` makes. It mounts the blueprint at `/console`, turns
on CSRF checks for the console's forms only (the LIFF API and the webhook are left alone) and makes
the session cookie HttpOnly, SameSite=Lax, and Secure when the public address is https.
"""
from __future__ import annotations

from typing import Any

from flask import Flask

from console import pages, sign_in  # noqa: F401 - their routes join the blueprint
from console.blueprint import bp, csrf


def register(app: Flask, machi: Any) -> None:
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # only the console's blueprint asks for the token
    app.config["WTF_CSRF_TIME_LIMIT"] = None  # the session's idle limit (30 min) ends a stale form instead
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = machi.config.public_url.startswith("https://")
    csrf.init_app(app)
    app.register_blueprint(bp)
