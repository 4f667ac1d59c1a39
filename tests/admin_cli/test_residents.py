"""machi resident: what counter staff see and what the database keeps."""
from __future__ import annotations

from tests.admin_cli.conftest import as_json, query, refused, row_counts
from town.demo_town import CARD_ELDER_NUMBER, HANAKO

ELDER = 31  # 田中 トメ, card only, 13,000 yen of certificates


def test_list_and_show_by_id_line_id_and_card(town):
    res = town("resident", "list", "--limit", "5")
    assert res.exit_code == 0
    assert "佐藤 花子" in res.output and "（5 件表示／全 31 人）" in res.output
    rows = as_json(town("resident", "list", "--district", "力昼", json_output=True))
    assert rows and all(r["district"] == "力昼" for r in rows)
    by_card = town("resident", "show", "8000 0000 0011")
    assert by_card.exit_code == 0
    assert "田中 トメ" in by_card.output and "13,000円" not in by_card.output  # shown per money type
    assert "6,500円" in by_card.output and "カード 8000 0000 0011" in by_card.output
    assert town("resident", "show", HANAKO.line_user_id).output.startswith("1  佐藤 花子")
    data = as_json(town("resident", "show", str(ELDER), json_output=True))
    assert sum(b["amount"] for b in data["balances"]) == 13_000 and data["cards"][0]["number"] == CARD_ELDER_NUMBER


def test_show_unknown_resident_is_refused(town):
    refused(town("resident", "show", "999"), "見つかりません")
    refused(town("resident", "show", "abc"), "特定できません")
    refused(town("resident", "list", "--status", "bogus"))


def test_add_registers_verified_and_is_audited(town, town_url):
    res = town("resident", "add", "--name", "山田 太郎", "--kana", "ヤマダ タロウ", "--birth", "１９５０/２/３",
               "--district", "苫前", "--household-size", "2")
    assert res.exit_code == 0, res.output
    assert "住民を登録しました（番号 32）" in res.output and "machi card issue 32" in res.output
    assert query(town_url, "SELECT name, verification, birth_date FROM residents WHERE id = 32")[0][:2] == (
        "山田 太郎", "counter")
    log = as_json(town("audit", "log", "--action", "resident.add", json_output=True))
    assert log[0]["actor"] == "役場 テスト係" and log[0]["params"]["resident_id"] == 32
    assert "山田" not in str(log)  # no personal data in the audit trail


def test_add_bad_input_changes_nothing(town, town_url):
    before = row_counts(town_url)
    base = ["resident", "add", "--name", "山田 太郎", "--kana", "ヤマダ", "--district", "苫前"]
    refused(town(*base, "--birth", "1950-02-30"), "読めません")
    refused(town(*base, "--birth", "2999-01-01"), "生年月日")
    refused(town(*base, "--birth", "1950-01-01", "--line-user-id", "bogus"), "LINEユーザーID")
    refused(town(*base, "--birth", "1950-01-01", "--line-user-id", HANAKO.line_user_id), "すでに登録")
    assert row_counts(town_url) == before
    assert town(*base, "--birth", "1950-01-01", "--dry-run").output.startswith("（試し実行）")
    assert row_counts(town_url) == before


def test_verify_suspend_reactivate(town, town_url):
    assert town("resident", "verify", "6", "--dry-run").exit_code == 0
    assert query(town_url, "SELECT verification FROM residents WHERE id = 6") == [("unverified",)]
    res = town("resident", "verify", "6")
    assert res.exit_code == 0 and "窓口で確認済みにしました" in res.output
    refused(town("resident", "verify", "6"), "すでに")
    res = town("resident", "suspend", "5", "--reason", "本人の申し出")
    assert res.exit_code == 0 and "利用停止にしました" in res.output and "お財布に残ります" in res.output
    refused(town("resident", "suspend", "5", "--reason", "x"), "すでに「利用停止」")
    assert query(town_url, "SELECT status FROM residents WHERE id = 5") == [("suspended",)]
    assert as_json(town("resident", "reactivate", "5", json_output=True))["status"] == "active"
    assert query(town_url, "SELECT status FROM residents WHERE id = 5") == [("active",)]


def test_moved_out_states_what_happens_to_the_balance(town, town_url):
    entries = row_counts(town_url)["entries"]
    res = town("resident", "moved-out", str(ELDER), "--on", "2026-11-01")
    assert res.exit_code == 0, res.output
    assert "転出にしました" in res.output
    assert "残高 13,000円 はお財布に残りますが" in res.output
    assert "その後失効" in res.output and "現金での払い戻しはしません" in res.output
    assert row_counts(town_url)["entries"] == entries  # no money moved
    log = as_json(town("audit", "log", "--action", "resident.moved_out", json_output=True))
    assert log[0]["params"] == {"resident_id": ELDER, "on": "2026-11-01"}


def test_deceased_stops_cards_and_proxies_in_both_directions(town, town_url):
    assert town("resident", "proxy", str(ELDER), "--proxy", "1", "--relation", "長女").exit_code == 0
    assert town("resident", "proxy", "1", "--proxy", str(ELDER)).exit_code == 0
    before = row_counts(town_url)
    dry = town("resident", "deceased", str(ELDER), "--dry-run")
    assert dry.output.startswith("（試し実行）") and row_counts(town_url) == before
    assert query(town_url, "SELECT status FROM residents WHERE id = :i", i=ELDER) == [("active",)]
    data = as_json(town("resident", "deceased", str(ELDER), json_output=True))
    assert data["status"] == "deceased" and sum(b["amount"] for b in data["balances"]) == 13_000
    assert query(town_url, "SELECT COUNT(*) FROM resident_proxies") == [(0,)]
    assert query(town_url, "SELECT status FROM cards WHERE resident_id = :i", i=ELDER) == [("stopped",)]
    refused(town("resident", "reactivate", str(ELDER)), "変更できません")


def test_proxy_add_remove_and_refusals(town, town_url):
    res = town("resident", "proxy", str(ELDER), "--proxy", "1", "--relation", "長女")
    assert res.exit_code == 0 and "代理人に登録しました" in res.output
    before = row_counts(town_url)
    refused(town("resident", "proxy", str(ELDER), "--proxy", str(ELDER)), "自分の代理人")
    refused(town("resident", "proxy", str(ELDER), "--proxy", "1"), "すでに")
    refused(town("resident", "proxy", str(ELDER), "--proxy", "2", "--remove"), "代理人ではありません")
    assert row_counts(town_url) == before
    assert "代理人: 番号 1（長女）" in town("resident", "show", str(ELDER)).output
    assert town("resident", "proxy", str(ELDER), "--proxy", "1", "--remove").exit_code == 0
    assert query(town_url, "SELECT COUNT(*) FROM resident_proxies") == [(0,)]
