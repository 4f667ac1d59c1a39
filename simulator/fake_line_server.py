"""Run the fake LINE platform on a real socket, in a background thread.

The v3 SDK sends through urllib3, which `responses` cannot intercept (DESIGN.md §5): tests
point `Configuration(host=base_url)` (or `LineClient(api_host=base_url)`) at this server.
"""
from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask, Response, jsonify
from werkzeug.serving import make_server

from simulator.fake_line import FakeLineStore, create_fake_line_blueprint


def create_fake_line_app(store: FakeLineStore, *, channel_access_token: str | None = None) -> Flask:
    """A bare Flask app serving only the fake LINE API, with LINE-style 404/405 bodies."""
    app = Flask("fake_line")
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.register_blueprint(create_fake_line_blueprint(store, channel_access_token=channel_access_token))

    @app.errorhandler(404)
    def not_found(_e: Exception) -> tuple[Response, int]:
        return jsonify(message="Not found"), 404

    @app.errorhandler(405)
    def not_allowed(_e: Exception) -> tuple[Response, int]:
        return jsonify(message="Method not allowed"), 405

    return app


def run_fake_line(port: int = 0, *, store: FakeLineStore | None = None,
                  channel_access_token: str | None = None,
                  host: str = "127.0.0.1") -> tuple[str, FakeLineStore, Callable[[], None]]:
    """Start the fake on `host:port` (0 = any free port); returns (base_url, store, stop)."""
    store = store or FakeLineStore()
    app = create_fake_line_app(store, channel_access_token=channel_access_token)
    server = make_server(host, port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="fake-line", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return f"http://{host}:{server.server_port}", store, stop
