"""`machi richmenu deploy / link / status` against the fake LINE server, on the demo town: menus
with images, aliases for the tabs, the guest menu as default, residents and shop staff on theirs."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from admin_cli.main import cli
from bot.models import RichMenuDeployment
from ledger import registry
from ledger.models import MerchantStaff
from rich_menus.definitions import LANGS, MENUS
from tests.bot.conftest import BAKER, CLERK, EMILY, HANAKO, KENTA, TOKEN


@pytest.fixture
def machi_cmd(bot_app, db_url, line, monkeypatch):
    """Run `machi ...` as staff would, LINE_API_HOST aimed at the fake LINE server."""
    monkeypatch.setenv("LINE_API_HOST", line.url)
    monkeypatch.setenv("LINE_CHANNEL_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("MACHI_STAFF", "test-staff")

    def run(*args: str):
        return CliRunner().invoke(cli, ["--database-url", db_url, *args])

    return run


def deployed(machi) -> dict[str, str]:
    with machi.db.session() as s:
        return {r.key: r.rich_menu_id for r in s.query(RichMenuDeployment).all()}


def test_deploy_creates_menus_sets_default_and_moves_everyone(machi_cmd, machi, line):
    res = machi_cmd("--json", "richmenu", "deploy")
    assert res.exit_code == 0, res.output
    ids = json.loads(res.output)["rich_menus"]
    assert len(ids) == len(MENUS) * len(LANGS) == len(line.store.rich_menus) == len(line.store.images)
    assert deployed(machi) == ids
    assert line.store.default_menu == ids["guest"]
    assert set(line.store.aliases.values()) <= set(ids.values()) and line.store.aliases
    assert line.store.menu_for(HANAKO) == ids["resident"]
    assert line.store.menu_for(EMILY) == ids["resident-en"]
    assert line.store.menu_for(KENTA) == ids["guest"]  # not registered: the default
    for staff in (BAKER, CLERK):
        assert line.store.menu_for(staff) in (ids["shop"], ids["resident_tabbed"])
    assert all(len(r.json["userIds"]) <= 500 for r in line.store.requests_to("/v2/bot/richmenu/bulk/link"))


def test_redeploy_replaces_the_menus_and_keeps_users_on_theirs(machi_cmd, line):
    first = json.loads(machi_cmd("--json", "richmenu", "deploy").output)["rich_menus"]
    res = machi_cmd("--json", "richmenu", "deploy")
    assert res.exit_code == 0, res.output
    second = json.loads(res.output)["rich_menus"]
    assert set(line.store.rich_menus) == set(second.values())  # the old ones are gone
    assert not set(first.values()) & set(second.values())
    assert line.store.menu_for(HANAKO) == second["resident"]


def test_deploy_dry_run_touches_nothing(machi_cmd, line):
    res = machi_cmd("richmenu", "deploy", "--dry-run")
    assert res.exit_code == 0 and "試し実行" in res.output
    assert line.store.rich_menus == {} and line.store.requests == []


def test_link_after_a_staff_role_change(machi_cmd, machi, line):
    assert machi_cmd("richmenu", "deploy", "--lang", "ja").exit_code == 0
    ids = deployed(machi)
    with machi.db.write() as s:
        registry.add_staff(s, "M001", KENTA, "clerk", "鈴木")
    res = machi_cmd("richmenu", "link", KENTA)
    assert res.exit_code == 0, res.output
    assert line.store.menu_for(KENTA) == ids["shop"]
    res = machi_cmd("--json", "richmenu", "link", "--all")
    assert res.exit_code == 0, res.output
    assert sum(json.loads(res.output)["linked"].values()) >= 5


def test_link_refuses_clearly(machi_cmd, line):
    res = machi_cmd("richmenu", "link", HANAKO)
    assert res.exit_code == 1 and "machi richmenu deploy" in res.output and "Traceback" not in res.output
    assert machi_cmd("richmenu", "deploy").exit_code == 0
    res = machi_cmd("richmenu", "link", "hanako")
    assert res.exit_code == 1 and "U と32桁" in res.output
    res = machi_cmd("richmenu", "link")
    assert res.exit_code == 1 and "--all" in res.output


def test_deploy_when_line_refuses_says_so_and_keeps_the_old_menus(machi_cmd, machi, line):
    assert machi_cmd("richmenu", "deploy").exit_code == 0
    before = deployed(machi)
    line.store.fail_next("/v2/bot/richmenu", status=400, count=1)
    res = machi_cmd("richmenu", "deploy")
    assert res.exit_code == 1 and "LINEに接続できませんでした" in res.output and "Traceback" not in res.output
    assert deployed(machi) == before
    assert set(before.values()) <= set(line.store.rich_menus)  # users still on working menus


def test_status_lists_the_deployed_menus(machi_cmd):
    assert "まだ登録されていません" in machi_cmd("richmenu", "status").output
    machi_cmd("richmenu", "deploy")
    assert "resident" in machi_cmd("richmenu", "status").output


def test_a_shop_role_given_at_the_counter_reaches_the_menu_on_the_next_turn(machi_cmd, machi, phone, line):
    assert machi_cmd("richmenu", "deploy", "--lang", "ja").exit_code == 0
    ids = deployed(machi)
    with machi.db.write() as s:
        registry.add_staff(s, "M001", KENTA, "clerk", "鈴木")  # `machi merchant staff add`, no link
    kenta = phone(KENTA)
    kenta.say("ヘルプ")
    assert line.store.menu_for(KENTA) == ids["shop"]
    links = len(line.store.requests_to(f"/v2/bot/user/{KENTA}/richmenu/{ids['shop']}"))
    kenta.say("ヘルプ")
    assert len(line.store.requests_to(f"/v2/bot/user/{KENTA}/richmenu/{ids['shop']}")) == links == 1


def test_adding_and_removing_a_clerk_switches_their_menu_at_once(machi_cmd, line):
    ids = json.loads(machi_cmd("--json", "richmenu", "deploy").output)["rich_menus"]
    assert line.store.menu_for(KENTA) in (None, ids["guest"])  # not registered, not staff
    res = machi_cmd("merchant", "staff", "add", "M001", KENTA, "--role", "clerk")
    assert res.exit_code == 0, res.output
    assert "メニューを切り替えました" in res.output
    assert line.store.menu_for(KENTA) == ids["shop"]  # the till, before he writes to the bot
    res = machi_cmd("merchant", "staff", "remove", "M001", KENTA)
    assert res.exit_code == 0, res.output
    assert line.store.menu_for(KENTA) == ids["guest"]


def test_a_clerk_is_added_even_when_line_does_not_answer(machi_cmd, machi, line, monkeypatch):
    machi_cmd("richmenu", "deploy")
    monkeypatch.setenv("LINE_API_HOST", "http://127.0.0.1:9")  # nothing listens there
    res = machi_cmd("merchant", "staff", "add", "M001", KENTA)
    assert res.exit_code == 0, res.output
    assert "次にトークで話しかけたときに切り替わります" in res.output
    with machi.db.session() as s:
        assert s.query(MerchantStaff).filter_by(line_user_id=KENTA).count() == 1
