"""The HTTP concerns every face shares (DESIGN.md §3, "never a 500 for bad input"), wired by `app.py`:

- `inputs`: body sizes, JSON depth, whole numbers in ASCII digits;
- `errors`: refusals as JSON with a Japanese message, and a JSON 500 without a traceback;
- `headers`: CSP, nosniff, frame-ancestors, Referrer-Policy, HSTS over https, no-store on the API;
- `rate_limits`: Flask-Limiter per token, address, card and webhook source.

Imports nothing of the project but `config`: the faces use it, never the other way round.
"""
from __future__ import annotations

from flask import Blueprint, Flask

from config import Config
from web import errors, headers, inputs
from web.rate_limits import RateLimits


def register(app: Flask, config: Config, *, api: Blueprint | None = None, webhook: Blueprint | None = None) -> None:
    """Install every HTTP concern on `app`; `api` and `webhook` are the blueprints to rate-limit."""
    # Behind nginx the client's address and scheme come from X-Forwarded-*: app.py's ProxyFix, with
    # MACHI_TRUST_PROXY, reads them before anything here looks at the address.
    # The limiter first: its check runs before the body's, so a refused oversized body is counted too.
    limits = RateLimits(app, storage=config.ratelimit_storage, per_token=config.ratelimit_per_token,
                        per_address=config.ratelimit_per_address, per_card=config.ratelimit_per_card,
                        webhook=config.ratelimit_webhook)
    app.before_request(lambda: inputs.limit_body(config.max_body, config.webhook_max_body))
    errors.register(app)
    headers.register(app, config.env)
    if api is not None:
        limits.limit_api(api)
    if webhook is not None:
        limits.limit_webhook(webhook)
