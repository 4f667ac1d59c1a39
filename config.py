"""Configuration from the environment (and `.env`), as DESIGN.md §3 lists it: every setting in one place.

`SETTINGS` names each variable with its type, default and whether it is a secret; `load_config()`
reads them into one frozen `Config`; `Config.check()` refuses to run production (MACHI_ENV=prod)
on a development value, a missing LINE credential or a weak secret; `Config.derived_key(purpose)`
gives each use of MACHI_SECRET_KEY its own key. `machi config check` prints the same facts.

A leaf module: every layer may read it, it imports nothing of the project.
"""
from __future__ import annotations

import collections
import hashlib
import hmac
import math
import os
import re
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
DEV_VALUES = frozenset({DEV_CHANNEL_SECRET, DEV_ACCESS_TOKEN, DEV_SECRET_KEY, DEV_LOGIN_CHANNEL_ID, DEV_LIFF_ID})
ENVS = ("dev", "test", "prod")
NOTICE_MODES = ("inline", "thread", "separate")
MIN_SECRET_LENGTH = 32
# Keys derived from MACHI_SECRET_KEY, one per use (the ledger's seal key is derived in ledger/keys.py).
KEY_PURPOSES = frozenset({"qr", "session", "export"})  # event codes: ledger.event_codes derives its own
GENERATE_HINT = "作り方: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"


class ConfigError(RuntimeError):
    """Raised when the environment cannot run the app safely (prod with dev values, a weak secret...)."""


@dataclass(frozen=True)
class Setting:
    """One environment variable: the `Config` field it fills, its type and what it is for."""

    env: str
    field: str
    kind: type
    help: str
    secret: bool = False
    prod_required: bool = False   # refused in prod when missing or a dev value
    prod_advised: bool = False    # `machi config check` points it out in prod when unset


SETTINGS: tuple[Setting, ...] = (
    Setting("MACHI_ENV", "env", str, "dev | test | prod (prod refuses dev values and weak secrets)"),
    Setting("DATABASE_URL", "database_url", str, "SQLAlchemy URL (production: postgresql://...)",
            prod_advised=True),
    Setting("LINE_CHANNEL_SECRET", "line_channel_secret", str, "Messaging API channel secret", secret=True,
            prod_required=True),
    Setting("LINE_CHANNEL_ACCESS_TOKEN", "line_channel_access_token", str, "Messaging API access token",
            secret=True, prod_required=True),
    Setting("LINE_API_HOST", "line_api_host", str, "base URL of every call to the LINE platform"),
    Setting("LINE_LOGIN_CHANNEL_ID", "line_login_channel_id", str, "audience of LIFF ID tokens",
            prod_required=True),
    Setting("LIFF_ID", "liff_id", str, "the LIFF app", prod_required=True),
    Setting("MACHI_SECRET_KEY", "secret_key", str, "root of the QR, session, export and seal keys",
            secret=True, prod_required=True),
    Setting("MACHI_PUBLIC_URL", "public_url", str, "the address residents reach (https:// in production)",
            prod_advised=True),
    Setting("MACHI_SEAL_ANCHOR_FILE", "seal_anchor_file", str, "where seal anchors are appended"),
    Setting("MACHI_BOT_WORKERS", "bot_workers", int, "threads running webhook events (0: in the request)"),
    Setting("MACHI_NOTICES", "notices", str, "who tells receipts: inline | thread | separate"),
    Setting("MACHI_NOTICE_WORKERS", "notice_workers", int, "threads pushing notices in a relay"),
    Setting("MACHI_TRUST_PROXY", "trust_proxy", int, "reverse proxies whose X-Forwarded-* headers are trusted"),
    Setting("MACHI_MAX_BODY", "max_body", int, "bytes a /api request body may hold (413 above)"),
    Setting("MACHI_WEBHOOK_MAX_BODY", "webhook_max_body", int, "bytes a LINE webhook body may hold (413 above)"),
    Setting("MACHI_RATELIMIT_STORAGE", "ratelimit_storage", str, "memory:// or redis://host:6379 (shared by workers)"),
    Setting("MACHI_RATELIMIT_PER_TOKEN", "ratelimit_per_token", str, "/api calls of one LIFF ID token"),
    Setting("MACHI_RATELIMIT_PER_ADDRESS", "ratelimit_per_address", str, "refused /api calls of one address"),
    Setting("MACHI_RATELIMIT_PER_CARD", "ratelimit_per_card", str, "card lookups and PIN attempts of one card"),
    Setting("MACHI_RATELIMIT_WEBHOOK", "ratelimit_webhook", str, "refused webhooks of one source address"),
    Setting("MACHI_LOG_FORMAT", "log_format", str, "json (one object a line) | text"),
    Setting("MACHI_LOG_LEVEL", "log_level", str, "DEBUG | INFO | WARNING | ERROR"),
    Setting("MACHI_READY_OUTBOX_LIMIT", "ready_outbox_limit", int, "/readyz: most notices waiting in the outbox"),
    Setting("MACHI_READY_SCHEDULER_LAG", "ready_scheduler_lag", int,
            "/readyz: seconds the scheduler may be late (0: not checked)"),
)


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
    bot_workers: int | None = None   # None: 0 in dev and test (events in the request), 4 in prod
    notices: str = ""                # "": inline in dev and test, thread in prod
    notice_workers: int = 4
    trust_proxy: int = 0             # 0: X-Forwarded-* ignored (no proxy, or one not trusted)
    log_format: str = "json"
    log_level: str = "INFO"
    ready_outbox_limit: int = 1000
    ready_scheduler_lag: int = 300
    # HTTP limits (web/): the most a request body may hold, and how often one caller may call.
    max_body: int = 16 * 1024  # MACHI_MAX_BODY: bytes of a /api request (a payment is ~200)
    webhook_max_body: int = 1024 * 1024  # MACHI_WEBHOOK_MAX_BODY: bytes of a LINE webhook
    ratelimit_storage: str = "memory://"  # MACHI_RATELIMIT_STORAGE: e.g. redis://127.0.0.1:6379 (shared by workers)
    ratelimit_per_token: str = "300/minute"  # MACHI_RATELIMIT_PER_TOKEN: /api calls of one LIFF ID token
    ratelimit_per_address: str = "300/minute"  # MACHI_RATELIMIT_PER_ADDRESS: refused /api calls of one address
    ratelimit_per_card: str = "20/minute"  # MACHI_RATELIMIT_PER_CARD: lookups and PIN attempts of one card
    ratelimit_webhook: str = "120/minute"  # MACHI_RATELIMIT_WEBHOOK: refused webhooks of one source address

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

    @property
    def event_workers(self) -> int:
        """Threads that run webhook events in a server process (see bot/runtime.py)."""
        if self.bot_workers is not None:
            return self.bot_workers
        return 0 if self.env in ("dev", "test") else 4

    @property
    def notice_mode(self) -> str:
        """Who tells the outbox's events from a server process (see bot/runtime.py)."""
        return self.notices or ("inline" if self.env in ("dev", "test") else "thread")

    def derived_key(self, purpose: str) -> bytes:
        """A key of its own for one use of MACHI_SECRET_KEY: HMAC-SHA256(secret, label).

        A QR signature, a session cookie and an export pseudonym each prove nothing about the
        others, and none of them about the raw secret or the ledger's seal key."""
        if purpose not in KEY_PURPOSES:
            raise ValueError(f"unknown key purpose {purpose!r}; one of {sorted(KEY_PURPOSES)}")
        if not self.secret_key:
            raise ConfigError("MACHI_SECRET_KEY が空です。")
        label = f"machi-{purpose}-v1".encode()
        return hmac.new(self.secret_key.encode(), label, hashlib.sha256).digest()

    def problems(self) -> list[str]:
        """Why this configuration must not run (Japanese, one line each); empty when it may."""
        out: list[str] = []
        if self.env not in ENVS:
            out.append(f"MACHI_ENV は dev / test / prod のいずれかです（{self.env!r}）")
        if self.notices and self.notices not in NOTICE_MODES:
            out.append(f"MACHI_NOTICES は {' / '.join(NOTICE_MODES)} のいずれかです（{self.notices!r}）")
        if self.notice_workers < 1:
            out.append("MACHI_NOTICE_WORKERS は 1 以上です。")
        if self.bot_workers is not None and self.bot_workers < 0:
            out.append("MACHI_BOT_WORKERS は 0 以上です。")
        if self.trust_proxy < 0:
            out.append("MACHI_TRUST_PROXY は 0 以上です（前に置いたプロキシの数）。")
        if self.log_format not in ("json", "text"):
            out.append(f"MACHI_LOG_FORMAT は json / text のいずれかです（{self.log_format!r}）")
        if self.env == "prod":
            out.extend(self._prod_problems())
        return out

    def _prod_problems(self) -> list[str]:
        out: list[str] = []
        for s in SETTINGS:
            if not s.prod_required:
                continue
            value = getattr(self, s.field)
            if not value or not value.strip():
                out.append(f"{s.env} が設定されていません（本番環境では必須です）。")
            elif value.strip().lower() in DEV_VALUES or value.strip().lower().startswith("dev-"):
                out.append(f"{s.env} が開発用の値です。本番の値を設定してください。")
            elif value != value.strip():
                out.append(f"{s.env} の前後に空白があります。値を確かめてください。")
            elif s.secret and (why := weakness(value)):
                out.append(f"{s.env} が弱すぎます（{why}）。{GENERATE_HINT}")
        return out

    def check(self) -> None:
        """Refuse to run on any problem: in prod, dev defaults, missing LINE ids and weak secrets."""
        found = self.problems()
        if found:
            raise ConfigError("設定を確かめてください:\n- " + "\n- ".join(found))


def weakness(secret: str) -> str:
    """Why `secret` is too weak for production ("" when it is not): too short, too few kinds of
    characters, or a repeated pattern. A heuristic that catches the obvious, not a proof of strength."""
    if len(secret) < MIN_SECRET_LENGTH:
        return f"{len(secret)} 文字: {MIN_SECRET_LENGTH} 文字以上にしてください"
    counts = collections.Counter(secret)
    bits = -sum(n / len(secret) * math.log2(n / len(secret)) for n in counts.values())
    if len(counts) < 8 or bits < 2.5:
        return "同じ文字ばかりで推測されやすい値です"
    for period in range(1, len(secret) // 2 + 1):
        if secret == (secret[:period] * (len(secret) // period + 1))[:len(secret)]:
            return "同じ並びの繰り返しで推測されやすい値です"
    return ""


def _parse(setting: Setting, raw: str) -> Any:
    if setting.kind is int:  # ASCII digits only: "²" is a digit to Python's str.isdigit
        if not re.fullmatch(r"-?[0-9]+", raw.strip()):
            raise ConfigError(f"{setting.env} は整数です（{raw!r}）。")
        return int(raw.strip())
    value = raw if setting.secret else raw.strip()
    return value.lower() if setting.field in ("env", "notices", "log_format") else value


def load_config(**overrides: Any) -> Config:
    """Read the environment once; `overrides` win (used by tests and the CLI)."""
    load_dotenv(ROOT / ".env", override=False)
    env = os.environ
    values: dict[str, Any] = {}
    for s in SETTINGS:
        raw = env.get(s.env)
        if raw is not None and raw != "":
            values[s.field] = _parse(s, raw)
    mode = str(overrides.get("env", values.get("env", "dev")))
    if mode == "prod":
        # No dev credential is filled in for production: what is not set is missing.
        for name in ("line_channel_secret", "line_channel_access_token", "line_login_channel_id", "liff_id",
                     "secret_key"):
            values.setdefault(name, "")
    if "line_api_host" in values:
        # One host for every LINE call, data calls included (DESIGN.md §3).
        values["line_api_host"] = values["line_data_host"] = values["line_api_host"].rstrip("/")
    if "public_url" in values:
        values["public_url"] = values["public_url"].rstrip("/")
    values.update(overrides)
    for setting in SETTINGS:  # numbers given as text (tests, the CLI) are read as the environment's are
        if setting.kind is int and isinstance(values.get(setting.field), str):
            values[setting.field] = _parse(setting, values[setting.field])
    return Config(**values)


def describe(config: Config) -> list[tuple[str, str, str]]:
    """(variable, value as shown, where it came from) for every setting; secrets masked."""
    rows = []
    for s in SETTINGS:
        value = getattr(config, s.field)
        if s.secret:
            shown = mask(value)
        elif value in ("", None):
            shown = "（未設定）" if s.prod_required else "（既定）"
        else:
            shown = str(value)
        source = "環境変数" if os.environ.get(s.env) else "既定値"
        rows.append((s.env, shown, source))
    return rows


def mask(value: str) -> str:
    """A secret as `config check` shows it: its length and nothing of its characters."""
    return "（未設定）" if not value else f"****（{len(value)} 文字）"
