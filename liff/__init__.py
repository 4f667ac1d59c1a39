"""LIFF pages (pay, scan, till, check-in, history) and their JSON API (DESIGN.md §3).

`register(app, machi)` is the one call `app.py` makes: the pages under `/liff/...`, the API
under `/api/...`, and the state they share (ID-token verifier, QR signer) on `machi.extras`.
"""
from __future__ import annotations

from typing import Any

from flask import Flask

from liff import api, pages, state


def register(app: Flask, machi: Any) -> None:
    machi.extras[state.KEY] = state.build(machi)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
