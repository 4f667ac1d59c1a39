"""Configuration from the environment (and `.env`), as DESIGN.md §3 lists it.

A leaf module: every layer may read it, it imports nothing of the project.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dotenv import load_dotenv

ROOT = Path(__file__).resolve().parent
DEV_CHANNEL_SECRET = "dev-channel-secret"
DEV_ACCESS_TOKEN = "dev-channel-access-token"
DEV_SECRET_KEY = "dev-secret-key-not-for-production"
DEV_LOGIN_CHANNEL_ID = "1234567890"
DEV_LIFF_ID = "1234567890-devliff"


class ConfigError(RuntimeError):
    """Raised when the environment cannot run the app safely (prod with dev values)."""


@dataclass(frozen=True)
class Config:
    env: str = "dev"
    database_url: str = field(default_factory=lambda: f"sqlite:///{ROOT / 'instance' / 'machi.db'}")
    line_channel_secret: str = DEV_CHANNEL_SECRET
    line_channel_access_token: str = DEV_ACCESS_TOKEN
    line_api_host: str = "https://api.line.me"
    line_data_host: str = "https://api-data.line.me"
    line_login_channel_id: str = DEV_LOGIN_CHANNEL_ID
    liff_id: str = DEV_LIFF_ID
    secret_key: str = DEV_SECRET_KEY
    public_url: str = "http://127.0.0.1:8000"
    seal_anchor_file: str = ""  # the hash chains' anchors, outside the database's reach; "" = default below
    timezone: str = "Asia/Tokyo"
    # HTTP limits (web/): the most a request body may hold, and how often one caller may call.
    max_body: int = 16 * 1024  # MACHI_MAX_BODY: bytes of a /api request (a payment is ~200)
    webhook_max_body: int = 1024 * 1024  # MACHI_WEBHOOK_MAX_BODY: bytes of a LINE webhook
    ratelimit_storage: str = "memory://"  # MACHI_RATELIMIT_STORAGE: e.g. redis://127.0.0.1:6379 (shared by workers)
    ratelimit_per_token: str = "300/minute"  # MACHI_RATELIMIT_PER_TOKEN: /api calls of one LIFF ID token
    ratelimit_per_address: str = "300/minute"  # MACHI_RATELIMIT_PER_ADDRESS: refused /api calls of one address
    ratelimit_per_card: str = "20/minute"  # MACHI_RATELIMIT_PER_CARD: lookups and PIN attempts of one card
    ratelimit_webhook: str = "120/minute"  # MACHI_RATELIMIT_WEBHOOK: refused webhooks of one source address
    trusted_proxies: int = 0  # MACHI_TRUSTED_PROXIES: reverse proxies in front (their X-Forwarded-* are believed)

    @property
    def anchor_path(self) -> Path:
        """Where sealing runs append their anchors: beside a SQLite file, else `instance/seal-anchors.jsonl`."""
        if self.seal_anchor_file:
            return Path(self.seal_anchor_file)
        if self.database_url.startswith("sqlite:///") and not self.database_url.endswith(":memory:"):
            return Path(self.database_url.removeprefix("sqlite:///") + ".seal-anchors.jsonl")
        return ROOT / "instance" / "seal-anchors.jsonl"

    @property
    def is_dev(self) -> bool:
        return self.env == "dev"

    def check(self) -> None:
        """Refuse to run in prod on any dev default (DESIGN.md §3)."""
        if self.env not in ("dev", "prod", "test"):
            raise ConfigError(f"MACHI_ENV は dev / prod / test のいずれかです（{self.env!r}）")
        if self.env != "prod":
            return
        dev_values = {
            "LINE_CHANNEL_SECRET": (self.line_channel_secret, DEV_CHANNEL_SECRET),
            "LINE_CHANNEL_ACCESS_TOKEN": (self.line_channel_access_token, DEV_ACCESS_TOKEN),
            "MACHI_SECRET_KEY": (self.secret_key, DEV_SECRET_KEY),
        }
        bad = [name for name, (value, dev) in dev_values.items() if not value or value == dev]
        if bad:
            raise ConfigError("本番環境（MACHI_ENV=prod）では次の設定が必要です: " + ", ".join(bad))


def load_config(**overrides: Any) -> Config:
    """Read the environment once; `overrides` win (used by tests and the CLI)."""
    load_dotenv(ROOT / ".env", override=False)
    env = os.environ
    api_host = env.get("LINE_API_HOST", "").rstrip("/")
    values: dict[str, Any] = {
        "env": env.get("MACHI_ENV", "dev"),
        "line_channel_secret": env.get("LINE_CHANNEL_SECRET", DEV_CHANNEL_SECRET),
        "line_channel_access_token": env.get("LINE_CHANNEL_ACCESS_TOKEN", DEV_ACCESS_TOKEN),
        "line_login_channel_id": env.get("LINE_LOGIN_CHANNEL_ID", DEV_LOGIN_CHANNEL_ID),
        "liff_id": env.get("LIFF_ID", DEV_LIFF_ID),
        "secret_key": env.get("MACHI_SECRET_KEY", DEV_SECRET_KEY),
        "public_url": env.get("MACHI_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
    }
    if env.get("MACHI_SEAL_ANCHOR_FILE"):
        values["seal_anchor_file"] = env["MACHI_SEAL_ANCHOR_FILE"]
    for name, var in _HTTP_SETTINGS.items():
        if env.get(var, "").strip():
            values[name] = env[var].strip()
    if env.get("DATABASE_URL"):
        values["database_url"] = env["DATABASE_URL"]
    if api_host:
        # One host for every LINE call, data calls included (DESIGN.md §3).
        values["line_api_host"] = api_host
        values["line_data_host"] = api_host
    values.update(overrides)
    for name in _INT_SETTINGS:
        if name in values:
            values[name] = _whole_number(_HTTP_SETTINGS[name], values[name])
    return Config(**values)


_HTTP_SETTINGS = {
    "max_body": "MACHI_MAX_BODY", "webhook_max_body": "MACHI_WEBHOOK_MAX_BODY",
    "ratelimit_storage": "MACHI_RATELIMIT_STORAGE", "ratelimit_per_token": "MACHI_RATELIMIT_PER_TOKEN",
    "ratelimit_per_address": "MACHI_RATELIMIT_PER_ADDRESS", "ratelimit_per_card": "MACHI_RATELIMIT_PER_CARD",
    "ratelimit_webhook": "MACHI_RATELIMIT_WEBHOOK", "trusted_proxies": "MACHI_TRUSTED_PROXIES",
}
_INT_SETTINGS = ("max_body", "webhook_max_body", "trusted_proxies")


def _whole_number(var: str, raw: object) -> int:
    """A setting that is a count of bytes or of proxies: ASCII digits only ("²" is a digit to Python)."""
    text = str(raw).strip()
    if not (text.isascii() and text.isdigit()):
        raise ConfigError(f"{var} は0以上の整数で指定してください（{text!r}）")
    return int(text)
