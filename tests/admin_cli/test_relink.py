"""machi resident relink: a lost phone — the wallet moves to a new LINE account, nothing else changes."""
from __future__ import annotations

from app import build_core
from config import load_config
from tests.admin_cli.conftest import as_json, query, refused, row_counts
from town.demo_town import EMILY, HANAKO

NEW_PHONE = "U" + "a1" * 16


def _money(url: str) -> list[tuple]:
    return query(url, "SELECT id, kind, amount, resident_id, actor FROM entries ORDER BY id") + query(
        url, "SELECT id, entry_id, account_id, amount FROM postings ORDER BY id") + query(
        url, "SELECT entry_id, hash FROM entry_seals ORDER BY entry_id")


def _seal(url: str) -> None:
    """What the scheduler does every few seconds: seal the journal written so far."""
    core = build_core(load_config(database_url=url, env="test"))
    try:
        core.sealer.seal(core.db)
    finally:
        core.db.dispose()


def test_relink_moves_the_wallet_and_keeps_every_yen(town, town_url):
    _seal(town_url)
    before_show = as_json(town("resident", "show", "1", json_output=True))
    before_money = _money(town_url)
    res = town("resident", "relink", "1", "--line-id", NEW_PHONE)
    assert res.exit_code == 0, res.output
    assert "引き継ぎました" in res.output and NEW_PHONE not in res.output and HANAKO.line_user_id not in res.output
    assert query(town_url, "SELECT line_user_id FROM residents WHERE id = 1") == [(NEW_PHONE,)]
    assert query(town_url, "SELECT id FROM residents WHERE line_user_id = :u", u=HANAKO.line_user_id) == []
    after_show = as_json(town("resident", "show", NEW_PHONE, json_output=True))
    assert after_show["balances"] == before_show["balances"]
    assert _money(town_url) == before_money  # no entry written or rewritten
    refused(town("resident", "show", HANAKO.line_user_id), "見つかりません")
    log = as_json(town("audit", "log", "--action", "resident.relink", json_output=True))
    assert log[0]["actor"] == "役場 テスト係"
    assert log[0]["params"]["old_line_user_id"] == HANAKO.line_user_id
    assert log[0]["params"]["new_line_user_id"] == NEW_PHONE
    assert town("audit", "verify").exit_code == 0


def test_relink_refusals_change_nothing(town, town_url):
    before = row_counts(town_url)
    refused(town("resident", "relink", "1", "--line-id", EMILY.line_user_id), "すでに別の利用者")
    refused(town("resident", "relink", "1", "--line-id", HANAKO.line_user_id), "すでにこのLINE")
    refused(town("resident", "relink", "1", "--line-id", "bogus"), "LINEユーザーID")
    refused(town("resident", "relink", "999", "--line-id", NEW_PHONE), "見つかりません")
    assert town("resident", "suspend", "2", "--reason", "test").exit_code == 0
    before = row_counts(town_url)
    refused(town("resident", "relink", "2", "--line-id", NEW_PHONE), "利用中ではない")
    dry = town("resident", "relink", "1", "--line-id", NEW_PHONE, "--dry-run")
    assert dry.exit_code == 0 and dry.output.startswith("（試し実行）")
    assert row_counts(town_url) == before
    assert query(town_url, "SELECT line_user_id FROM residents WHERE id = 1") == [(HANAKO.line_user_id,)]
