"""The small web server `machi event screen` runs for a venue's screen (the page is town.event_qr's)."""
from __future__ import annotations

from flask import Flask, Response

from town import event_qr


def screen_app(name: str, code: str, secret: str | bytes, *, period: int = event_qr.PERIOD, url_for=None) -> Flask:
    """A full-screen page for the venue: the QR changes every `period` seconds (the page reloads)."""
    app = Flask("machi_event_screen")

    @app.get("/")
    def page() -> Response:
        return Response(event_qr.screen_html(name, code, secret, period=period, url_for=url_for), mimetype="text/html")

    return app
