"""A grant credited at the counter (with every rule the chat has) and ending an offer, an event or a
grant early: later sales, check-ins and claims refused in Japanese, money already received untouched."""
from __future__ import annotations

import pytest

from ledger.errors import OutsideWindow
from ledger.services import checkins
from tests.admin_cli.conftest import as_json, query, refused, row_counts
from tests.town.conftest import ELDER, HANAKO_ID, ISAMU_ID


def _held(url: str, rid: int, code: str) -> int:
    return int(query(url, "SELECT COALESCE(SUM(l.remaining), 0) FROM lots l JOIN residents r ON r.account_id = l.account_id"
                          " JOIN money_types m ON m.id = l.money_type_id WHERE r.id = :r AND m.code = :c",
                     r=rid, c=code)[0][0])


def test_claim_grant_for_a_card_only_resident_at_the_counter_once(town, town_url):
    res = town("grant", "credit", "HEAT2026", "8000 0000 0011")  # found by card number
    assert res.exit_code == 0, res.output
    assert "番号 31 の方に「冬の暮らし応援券」10,000円を入金しました" in res.output
    assert _held(town_url, ELDER, "HEAT") == 10_000
    log = as_json(town("audit", "log", "--action", "grant.counter", json_output=True))
    assert log[0]["actor"] == "役場 テスト係" and log[0]["params"] == {"program": "HEAT2026", "resident_id": ELDER,
                                                                        "channel": "counter"}
    before = row_counts(town_url)
    refused(town("grant", "credit", "HEAT2026", str(ELDER)), "すでに受け取っています")
    assert row_counts(town_url) == before and _held(town_url, ELDER, "HEAT") == 10_000


def test_counter_grant_dry_run_runs_the_checks_and_changes_nothing(town, town_url):
    before = row_counts(town_url)
    dry = town("grant", "credit", "HEAT2026", str(ELDER), "--dry-run")
    assert dry.exit_code == 0 and dry.output.startswith("（試し実行）") and "入金します" in dry.output
    refused(town("grant", "credit", "HEAT2026", str(HANAKO_ID), "--dry-run"), "対象ではありません")
    assert row_counts(town_url) == before


def test_counter_grant_refusals_change_nothing(town, town_url):
    before = row_counts(town_url)
    refused(town("grant", "credit", "HEAT2026", str(HANAKO_ID)), "対象ではありません")  # 34, not 70+
    refused(town("grant", "credit", "NOPE", str(ELDER)), "給付事業「NOPE」はありません")
    refused(town("grant", "credit", "HEAT2026", "999"), "見つかりません")
    assert row_counts(town_url) == before
    assert town("resident", "suspend", str(ELDER), "--reason", "テスト").exit_code == 0
    refused(town("grant", "credit", "HEAT2026", str(ELDER)), "利用中ではない（利用停止）")


def test_counter_grant_respects_the_budget(town, town_url):
    assert town("grant", "create", "--code", "TINY", "--name", "小さな給付", "--money-type", "HEAT", "--amount", "1000",
                "--mode", "claim", "--budget", "1000").exit_code == 0
    assert town("grant", "credit", "TINY", str(ELDER)).exit_code == 0
    before = row_counts(town_url)
    refused(town("grant", "credit", "TINY", str(HANAKO_ID)), "予算の上限")
    assert row_counts(town_url) == before


def test_close_grant_refuses_later_claims_and_keeps_what_was_paid(town, town_url):
    assert town("grant", "credit", "HEAT2026", str(ISAMU_ID)).exit_code == 0
    dry = town("grant", "close", "HEAT2026", "--dry-run")
    assert dry.exit_code == 0 and "（試し実行）" in dry.output
    assert town("grant", "credit", "HEAT2026", str(ELDER), "--dry-run").exit_code == 0  # still open
    res = town("grant", "close", "HEAT2026", "--reason", "予算の都合")
    assert res.exit_code == 0, res.output
    assert "今すぐ終了しました" in res.output and "すでに受け取った 1 件（10,000円）はそのままです" in res.output
    before = row_counts(town_url)
    refused(town("grant", "credit", "HEAT2026", str(ELDER)), "受付期間外")
    refused(town("grant", "close", "HEAT2026"), "すでに終了")
    assert row_counts(town_url) == before and _held(town_url, ISAMU_ID, "HEAT") == 10_000
    log = as_json(town("audit", "log", "--action", "grant.close", json_output=True))
    assert log[0]["actor"] == "役場 テスト係" and log[0]["params"]["reason"] == "予算の都合"


def test_close_offer_refuses_later_sales(town, town_url):
    held = _held(town_url, ELDER, "PREM")
    assert town("sale", "close", "PREM2026").exit_code == 0
    before = row_counts(town_url)
    refused(town("sale", "record", "--resident", str(ELDER), "--offer", "PREM2026", "--receipt", "R-1"), "販売期間外")
    refused(town("sale", "close", "prem2026"), "すでに終了")
    refused(town("sale", "close", "NOPE"), "ありません")
    assert row_counts(town_url) == before and _held(town_url, ELDER, "PREM") == held


def test_close_event_refuses_later_check_ins(town, town_url, town_core):
    points = _held(town_url, ISAMU_ID, "VOL")
    res = town("event", "close", "KAIGAN")
    assert res.exit_code == 0 and "すでに受け取った 1 件（500ポイント）はそのままです" in res.output
    before = row_counts(town_url)
    with pytest.raises(OutsideWindow, match="受付は終了しました"):
        checkins.check_in(town_core.uow, event_code="KAIGAN", resident_id=HANAKO_ID)
    assert row_counts(town_url) == before and _held(town_url, ISAMU_ID, "VOL") == points
