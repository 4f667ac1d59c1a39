"""A birth and a change of address/household, as counter staff record them, and what segments then see."""
from __future__ import annotations

from datetime import timedelta

from ledger.clock import today_jst
from ledger.db import make_engine
from ledger.segments import segment_query
from tests.admin_cli.conftest import as_json, query, refused, row_counts
from tests.town.conftest import ELDER, HANAKO_ID, ISAMU_ID


def _baby(*extra: str) -> list[str]:
    born = (today_jst() - timedelta(days=3)).isoformat()
    return ["resident", "birth", "--name", "佐藤 陽太", "--kana", "サトウ ヨウタ", "--birth", born, *extra]


def test_birth_joins_the_household_and_the_parent_enters_the_newborn_segment(town, town_url):
    before = query(town_url, "SELECT household_size, children FROM residents WHERE id = :i", i=HANAKO_ID)[0]
    res = town(*_baby("--parent", str(HANAKO_ID)))
    assert res.exit_code == 0, res.output
    assert "番号 32" in res.output and "世帯 H001" in res.output and "machi card issue 32" in res.output
    child = query(town_url, "SELECT district, household_code, household_size, line_user_id, verification"
                            " FROM residents WHERE id = 32")[0]
    assert child == ("苫前", "H001", before[0] + 1, None, "counter")
    assert query(town_url, "SELECT household_size, children FROM residents WHERE id = :i", i=HANAKO_ID)[0] == (
        before[0] + 1, before[1] + 1)
    log = as_json(town("audit", "log", "--action", "resident.birth", json_output=True))
    assert log[0]["actor"] == "役場 テスト係" and log[0]["params"]["resident_id"] == 32
    assert "陽太" not in str(log)


def test_a_birth_makes_a_card_only_parent_eligible_for_the_birth_grant(town, town_url):
    born = (today_jst().replace(year=today_jst().year - 30)).isoformat()
    assert town("resident", "add", "--name", "山田 花", "--kana", "ヤマダ ハナ", "--birth", born,
                "--district", "苫前").exit_code == 0  # 32, card only, no children
    refused(town("grant", "credit", "BIRTH2026", "32"), "対象ではありません")
    assert town(*_baby("--parent", "32")).exit_code == 0
    assert query(town_url, "SELECT id, household_size FROM residents WHERE id IN (32, 33) ORDER BY id") == [
        (32, 2), (33, 2)]  # no household number: parent and child are the household
    res = town("grant", "credit", "BIRTH2026", "32")
    assert res.exit_code == 0 and "50,000円を入金しました" in res.output


def test_birth_dry_run_and_refusals_change_nothing(town, town_url):
    before = row_counts(town_url)
    dry = town(*_baby("--parent", str(HANAKO_ID), "--dry-run"))
    assert dry.exit_code == 0 and dry.output.startswith("（試し実行）") and "登録します" in dry.output
    future = (today_jst() + timedelta(days=1)).isoformat()
    refused(town("resident", "birth", "--name", "陽太", "--kana", "ヨウタ", "--birth", future, "--parent", "1"),
            "未来")
    refused(town(*_baby()), "親（--parent）か地区")
    refused(town(*_baby("--parent", "999")), "見つかりません")
    refused(town(*_baby("--parent", "1", "--line-user-id", "bogus")), "LINEユーザーID")
    refused(town(*_baby("--parent", "1", "--household", "世帯1")), "世帯番号")
    refused(town("resident", "birth", "--name", "佐藤", "--kana", "サトウ", "--birth", "1990-01-01", "--parent", "1"),
            "18歳未満")
    assert town("resident", "deceased", str(ELDER)).exit_code == 0
    after_death = row_counts(town_url)
    refused(town(*_baby("--parent", str(ELDER))), "利用中ではない")
    assert row_counts(town_url) == after_death
    assert {k: v for k, v in after_death.items() if k != "audit_log"} == {
        k: v for k, v in before.items() if k != "audit_log"}


def test_move_changes_district_and_household_and_segments_follow(town, town_url):
    assert as_json(town("announce", "preview", "--segment", "70歳以上", "--text", "x", json_output=True))["matched"] >= 1
    h001 = query(town_url, "SELECT household_size FROM residents WHERE id = :i", i=HANAKO_ID)[0][0]
    res = town("resident", "move", str(ISAMU_ID), "--district", "力昼", "--household", "H001")
    assert res.exit_code == 0, res.output
    assert "地区: 古丹別 → 力昼" in res.output and "世帯番号: H002 → H001" in res.output
    assert query(town_url, "SELECT district, household_code, household_size FROM residents WHERE id = :i",
                 i=ISAMU_ID)[0] == ("力昼", "H001", h001 + 1)
    assert query(town_url, "SELECT household_size FROM residents WHERE id = :i", i=HANAKO_ID)[0][0] == h001 + 1
    engine = make_engine(town_url)
    with engine.connect() as conn:
        in_rikibiru = set(conn.execute(segment_query({"districts": ["力昼"]}, today_jst())).scalars())
    engine.dispose()
    assert ISAMU_ID in in_rikibiru
    log = as_json(town("audit", "log", "--action", "resident.move", json_output=True))
    assert log[0]["actor"] == "役場 テスト係" and log[0]["params"]["changed"] == ["district", "household_code",
                                                                                   "household_size"]


def test_move_refusals_and_dry_run_change_nothing(town, town_url):
    before = row_counts(town_url)
    dry = town("resident", "move", str(ISAMU_ID), "--district", "力昼", "--dry-run")
    assert dry.exit_code == 0 and dry.output.startswith("（試し実行）")
    assert query(town_url, "SELECT district FROM residents WHERE id = :i", i=ISAMU_ID) == [("古丹別",)]
    refused(town("resident", "move", str(ISAMU_ID)), "変更する項目")
    refused(town("resident", "move", str(ISAMU_ID), "--district", "古丹別"), "すでにその内容")
    refused(town("resident", "move", "999", "--district", "力昼"), "見つかりません")
    refused(town("resident", "move", str(ISAMU_ID), "--household", "H 1"), "世帯番号")
    refused(town("resident", "move", str(ISAMU_ID), "--household-size", "0"), "1以上")
    assert row_counts(town_url) == before
