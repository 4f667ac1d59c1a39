"""Production refuses weak or development settings, each with a message naming the variable; each
use of MACHI_SECRET_KEY has a key of its own, so a QR signed with anything else is refused."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from admin_cli.main import cli
from config import SETTINGS, ConfigError, load_config
from ledger import keys
from liff.errors import ApiError
from liff.tokens import CpmTokens
from tests.prod_values import PROD_VALUES


def prod(**changes: str):
    return load_config(**{**PROD_VALUES, **changes})


def refused(config) -> str:
    with pytest.raises(ConfigError) as exc:
        config.check()
    return str(exc.value)


def test_strong_production_values_pass():
    prod().check()


@pytest.mark.parametrize("value, why", [
    ("z", "32 文字以上"),
    ("k" * 40, "推測されやすい"),
    ("password" * 5, "推測されやすい"),
    ("dev-secret-key-not-for-production", "開発用の値"),
    ("dev-secret-key-not-for-production ", "開発用の値"),
    (" " * 40, "設定されていません"),
])
def test_prod_refuses_a_weak_secret_key(value, why):
    message = refused(prod(secret_key=value))
    assert "MACHI_SECRET_KEY" in message and why in message


@pytest.mark.parametrize("name, field, value", [
    ("LINE_CHANNEL_SECRET", "line_channel_secret", "dev-channel-secret"),
    ("LINE_CHANNEL_SECRET", "line_channel_secret", "\tdev-channel-secret\n"),
    ("LINE_CHANNEL_SECRET", "line_channel_secret", "s" * 32),
    ("LINE_CHANNEL_ACCESS_TOKEN", "line_channel_access_token", "dev-channel-access-token "),
    ("LINE_CHANNEL_ACCESS_TOKEN", "line_channel_access_token", "real-token"),
    ("LINE_LOGIN_CHANNEL_ID", "line_login_channel_id", "1234567890"),
    ("LINE_LOGIN_CHANNEL_ID", "line_login_channel_id", ""),
    ("LIFF_ID", "liff_id", "1234567890-devliff"),
    ("LIFF_ID", "liff_id", ""),
])
def test_prod_refuses_each_dev_weak_or_missing_value(name, field, value):
    assert name in refused(prod(**{field: value}))


def test_prod_fills_in_no_dev_credential(monkeypatch):
    for name in ("LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "LINE_LOGIN_CHANNEL_ID", "LIFF_ID",
                 "MACHI_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MACHI_ENV", "prod")
    message = refused(load_config())
    for name in ("LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "LINE_LOGIN_CHANNEL_ID", "LIFF_ID",
                 "MACHI_SECRET_KEY"):
        assert f"{name} が設定されていません" in message


def test_the_app_will_not_start_in_prod_on_a_weak_secret(db_url):
    from app import create_app

    with pytest.raises(ConfigError, match="MACHI_SECRET_KEY"):
        create_app(prod(database_url=db_url, secret_key="z"))


def test_dev_and_test_keep_their_defaults():
    load_config(env="dev").check()
    load_config(env="test").check()


def test_every_setting_has_a_type_and_a_default(monkeypatch):
    for name in ("MACHI_BOT_WORKERS", "MACHI_NOTICES", "MACHI_NOTICE_WORKERS", "MACHI_TRUST_PROXY"):
        monkeypatch.delenv(name, raising=False)
    cfg = load_config(env="prod")
    assert (cfg.event_workers, cfg.notice_mode, cfg.notice_workers, cfg.trust_proxy) == (4, "thread", 4, 0)
    monkeypatch.setenv("MACHI_BOT_WORKERS", "2")
    monkeypatch.setenv("MACHI_NOTICES", "Separate")
    monkeypatch.setenv("MACHI_TRUST_PROXY", "1")
    cfg = load_config(env="prod")
    assert (cfg.event_workers, cfg.notice_mode, cfg.trust_proxy) == (2, "separate", 1)
    monkeypatch.setenv("MACHI_NOTICES", "sometimes")
    assert "MACHI_NOTICES" in refused(load_config(env="test"))
    monkeypatch.setenv("MACHI_TRUST_PROXY", "yes")
    with pytest.raises(ConfigError, match="MACHI_TRUST_PROXY は整数"):
        load_config(env="test")


# --------------------------------------------------------------------------- derived keys


def test_each_purpose_has_its_own_key_none_is_the_secret_or_the_seal_key():
    cfg = prod()
    derived = {p: cfg.derived_key(p) for p in ("qr", "session", "export")}
    assert len(set(derived.values())) == 3
    assert cfg.secret_key.encode() not in derived.values()
    assert keys.seal_key(cfg.secret_key) not in derived.values()
    assert derived["qr"] == prod().derived_key("qr")  # stable across restarts
    assert prod(secret_key=PROD_VALUES["secret_key"][::-1]).derived_key("qr") != derived["qr"]
    with pytest.raises(ValueError):
        cfg.derived_key("seal")


@pytest.mark.parametrize("signer", ["raw secret", "session", "export"])
def test_a_qr_signed_with_the_raw_secret_or_another_purposes_key_is_refused(signer):
    cfg = prod()
    key = cfg.secret_key if signer == "raw secret" else cfg.derived_key(signer)
    forged, _ = CpmTokens(key).issue(resident_id=1)
    app_tokens = CpmTokens(cfg.derived_key("qr"))
    with pytest.raises(ApiError) as exc:
        app_tokens.read(forged)
    assert exc.value.code == "token_invalid"
    genuine, _ = app_tokens.issue(resident_id=1)
    assert app_tokens.read(genuine).resident_id == 1


def test_the_running_app_signs_qr_and_sessions_with_derived_keys(db_url):
    from app import create_app

    cfg = load_config(database_url=db_url, env="test")
    app = create_app(cfg)
    try:
        assert app.config["SECRET_KEY"] == cfg.derived_key("session")
        tokens = app.extensions["machi"].extras["liff"].tokens
        forged, _ = CpmTokens(cfg.secret_key).issue(resident_id=1)
        with pytest.raises(ApiError):
            tokens.read(forged)
    finally:
        app.extensions["machi"].db.dispose()


# --------------------------------------------------------------------------- machi config check


def machi_with(monkeypatch, env: dict[str, str], *args: str):
    """`machi ARGS` with exactly `env` as its settings."""
    for s in SETTINGS:
        monkeypatch.delenv(s.env, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return CliRunner().invoke(cli, list(args))


def config_check(monkeypatch, env: dict[str, str], *args: str):
    return machi_with(monkeypatch, env, "config", "check", *args)


PROD_ENV = {"MACHI_ENV": "prod", "DATABASE_URL": "postgresql://machi@db/machi",
            "MACHI_PUBLIC_URL": "https://wallet.example.jp",
            "LINE_CHANNEL_SECRET": PROD_VALUES["line_channel_secret"],
            "LINE_CHANNEL_ACCESS_TOKEN": PROD_VALUES["line_channel_access_token"],
            "LINE_LOGIN_CHANNEL_ID": PROD_VALUES["line_login_channel_id"], "LIFF_ID": PROD_VALUES["liff_id"],
            "MACHI_SECRET_KEY": PROD_VALUES["secret_key"]}


def test_config_check_passes_a_good_production_set_up_and_masks_secrets(monkeypatch):
    res = config_check(monkeypatch, PROD_ENV)
    assert res.exit_code == 0, res.output
    assert "問題はありません" in res.output and "MACHI_NOTICE_WORKERS" in res.output
    for secret in ("line_channel_secret", "line_channel_access_token", "secret_key"):
        assert PROD_VALUES[secret] not in res.output
    assert f"****（{len(PROD_VALUES['secret_key'])} 文字）" in res.output
    assert PROD_VALUES["liff_id"] in res.output  # not a secret: shown so staff can compare


def test_config_check_refuses_weak_values_and_says_what_is_missing(monkeypatch):
    env = {**PROD_ENV, "MACHI_SECRET_KEY": "z", "LINE_CHANNEL_SECRET": "dev-channel-secret "}
    del env["LIFF_ID"]
    res = config_check(monkeypatch, env)
    assert res.exit_code == 1
    assert "MACHI_SECRET_KEY が弱すぎます" in res.output and "LINE_CHANNEL_SECRET が開発用の値" in res.output
    assert "LIFF_ID が設定されていません" in res.output


def test_config_check_can_judge_a_dev_set_up_as_production(monkeypatch):
    assert config_check(monkeypatch, {}).exit_code == 0
    res = config_check(monkeypatch, {}, "--prod")
    assert res.exit_code == 1 and "MACHI_SECRET_KEY が開発用の値" in res.output and "PostgreSQL" in res.output


def test_config_check_names_a_setting_that_is_not_a_number(monkeypatch):
    res = config_check(monkeypatch, {"MACHI_BOT_WORKERS": "four"})
    assert res.exit_code == 1 and "MACHI_BOT_WORKERS は整数" in res.output


def test_the_relay_and_the_scheduler_refuse_a_weak_production_set_up_with_the_reason(monkeypatch):
    env = {**PROD_ENV, "MACHI_SECRET_KEY": "dev-secret-key-not-for-production "}
    for command in (["notices", "--once", "--nice", "0"], ["scheduler", "--once"]):
        res = machi_with(monkeypatch, env, *command)
        assert res.exit_code == 1 and "MACHI_SECRET_KEY が開発用の値" in res.output, res.output
        assert "Traceback" not in res.output
