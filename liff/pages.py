"""The LIFF pages: plain HTML, CSS and JS served by Flask, no build step.

In dev and test the pages load `liff-shim.js` (a stand-in for the LIFF SDK: ID token, scanner,
profile); anywhere else they load LINE's real SDK. The pages hold no data of their own: they
render what `/api/...` answers for the verified LINE user.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for

from liff import qr, tokens

LIFF_SDK_URL = "https://static.line-scdn.net/liff/edge/2/sdk.js"
PAGES = ("pay", "scan", "till", "checkin", "history")

bp = Blueprint("liff_pages", __name__, url_prefix="/liff", template_folder="templates",
               static_folder="static", static_url_path="/static")


def _config():
    return current_app.extensions["machi"].config


def sdk_url() -> str:
    """The shim only where there is no LINE: dev and test. Production always gets the real SDK."""
    config = _config()
    if config.env in ("dev", "test"):
        return url_for("liff_pages.static", filename="liff-shim.js")
    return LIFF_SDK_URL


@bp.get("/")
def home() -> Response:
    """The LIFF endpoint URL itself: the pay page, keeping LIFF's `liff.state` query for its redirect."""
    target = url_for("liff_pages.page", name="pay")
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    return redirect(target)


@bp.get("/<name>")
def page(name: str) -> str:
    if name not in PAGES:
        abort(404)
    config = _config()
    return render_template(f"liff/{name}.html", page=name, liff_id=config.liff_id, sdk_url=sdk_url(),
                           env=config.env)


@bp.get("/shop-qr/<code>.svg")
def shop_qr(code: str) -> Response:
    """A shop's static QR for the counter (what the poster prints). Public: it is on the wall anyway."""
    if tokens.shop_code_from(code) != code:
        abort(404)
    body = qr.svg(shop_qr_content(code), label=f"お店のQRコード {code}")
    return Response(body, mimetype="image/svg+xml", headers={"Cache-Control": "public, max-age=3600"})


def shop_qr_content(code: str) -> str:
    """What a shop's static QR holds: a LIFF URL, so a phone camera opens the scan page for that shop."""
    config = _config()
    return tokens.shop_url(code, liff_id=config.liff_id, public_url=config.public_url, dev=config.env != "prod")
