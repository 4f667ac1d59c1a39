"""`machi staff add` makes an account and prints a one-time link that sets the password."""
from __future__ import annotations

import re

import pyotp
from click.testing import CliRunner

from admin_cli.main import cli
from app import build_core
from config import load_config
from tests.console.conftest import PASSWORD, Console, Staff
from town.demo_town import DEMO_ADMIN_LOGIN, DEMO_ADMIN_PASSWORD, DEMO_ADMIN_TOTP, seed


def _machi(db_url: str, *args: str):
    return CliRunner().invoke(cli, ["--database-url", db_url, *args], catch_exceptions=False)


def test_staff_add_prints_a_link_that_sets_the_password(db_url, app, monkeypatch, audit_rows):
    monkeypatch.setenv("MACHI_STAFF", "役場 テスト係")
    r = _machi(db_url, "staff", "add", "suzuki", "--name", "鈴木 一郎", "--role", "窓口")
    assert r.exit_code == 0, r.output
    assert "「suzuki」（窓口）を作りました" in r.output
    link = re.search(r"http://\S+/console/setup/(\S+)", r.output)
    assert link
    browser = Console(app.test_client())
    url = f"/console/setup/{link.group(1)}"
    assert browser.post(url, {"password": PASSWORD, "confirm": PASSWORD}, page=url).status_code == 302
    assert browser.sign_in(Staff(0, "suzuki", "counter", None)).headers["Location"] == "/console/"
    assert [a.params["login"] for a in audit_rows("staff.add")] == ["suzuki"]


def test_money_roles_are_told_about_the_second_factor(db_url):
    r = _machi(db_url, "staff", "add", "kato", "--name", "加藤", "--role", "職員")
    assert r.exit_code == 0 and "二段階認証" in r.output


def test_bad_input_is_refused_in_japanese(db_url):
    bad_role = _machi(db_url, "staff", "add", "x1", "--name", "某", "--role", "社長")
    assert bad_role.exit_code == 1 and "役割は 管理者・職員・窓口・商工会・閲覧" in bad_role.output
    _machi(db_url, "staff", "add", "dup", "--name", "某", "--role", "閲覧")
    dup = _machi(db_url, "staff", "add", "dup", "--name", "某", "--role", "閲覧")
    assert dup.exit_code == 1 and "すでに使われています" in dup.output
    bad_login = _machi(db_url, "staff", "add", "山田", "--name", "山田", "--role", "閲覧")
    assert bad_login.exit_code == 1 and "半角英数字" in bad_login.output


def test_the_dev_demo_town_has_an_administrator_who_can_sign_in(db_url, app):
    core = build_core(load_config(database_url=db_url, env="dev"))
    try:
        assert seed(core)["console_admin"] is True
    finally:
        core.db.dispose()
    browser = Console(app.test_client())
    r = browser.post("/console/sign-in", {"login": DEMO_ADMIN_LOGIN, "password": DEMO_ADMIN_PASSWORD})
    assert r.headers["Location"] == "/console/totp"
    code = pyotp.TOTP(DEMO_ADMIN_TOTP).now()
    assert browser.post("/console/totp", {"code": code}, page="/console/totp").headers["Location"] == "/console/"


def test_outside_dev_the_demo_town_has_no_console_account(core, browser):
    assert seed(core)["console_admin"] is False
    r = browser.post("/console/sign-in", {"login": DEMO_ADMIN_LOGIN, "password": DEMO_ADMIN_PASSWORD})
    assert r.status_code == 401
