"""Security headers on every response.

- Content-Security-Policy: scripts, styles, images and calls from our own origin only (no CDN). In
  production the LIFF pages load LINE's SDK, the one outside script they use, and the SDK talks to
  LINE's API; dev and test load the shim from our origin instead, so they allow nothing outside.
- frame-ancestors: the simulator (dev) shows the LIFF pages in a frame of its own page, so 'self';
  in production nothing frames them ('none').
- X-Content-Type-Options nosniff; Referrer-Policy no-referrer (dev page URLs carry an ID token).
- Strict-Transport-Security only on a request that came in over https (directly, or as a trusted
  proxy says): a plain-http dev server must not tell a browser to insist on https.
- Cache-Control: no-store on `/api/...`: balances and histories stay out of shared caches.
"""
from __future__ import annotations

from flask import Flask, Response, request

LIFF_SDK_ORIGIN = "https://static.line-scdn.net"  # liff.pages.LIFF_SDK_URL
LINE_API_ORIGINS = ("https://api.line.me", "https://access.line.me")  # what the LIFF SDK calls
HSTS = "max-age=31536000"


def content_security_policy(env: str) -> str:
    prod = env not in ("dev", "test")
    script = "'self'" + (f" {LIFF_SDK_ORIGIN}" if prod else "")
    connect = "'self'" + ("".join(f" {o}" for o in LINE_API_ORIGINS) if prod else "")
    frames = "'none'" if prod else "'self'"
    return "; ".join([
        "default-src 'self'", f"script-src {script}", "style-src 'self'", "img-src 'self' data: blob:",
        f"connect-src {connect}", "object-src 'none'", "base-uri 'none'", "form-action 'self'",
        f"frame-ancestors {frames}",
    ])


def register(app: Flask, env: str) -> None:
    csp = content_security_policy(env)
    frame_options = "DENY" if env not in ("dev", "test") else "SAMEORIGIN"

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", csp)
        headers["X-Content-Type-Options"] = "nosniff"
        headers.setdefault("X-Frame-Options", frame_options)  # for browsers older than frame-ancestors
        headers["Referrer-Policy"] = "no-referrer"
        if request.is_secure:
            headers["Strict-Transport-Security"] = HSTS
        if request.path.startswith("/api/"):
            headers["Cache-Control"] = "no-store"
        return response
