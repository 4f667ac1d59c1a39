"""Lottery winners and whether they bought; the postal list for residents LINE cannot reach; an exchange
rule changed from a date, exchanges before it keeping the old rule."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from ledger.clock import jst_midnight_utc, today_jst, utcnow
from ledger.services import sales, transfers
from ledger.uow import UnitOfWork
from tests.admin_cli.conftest import as_json, query, refused, row_counts
from tests.town.conftest import ELDER, HANAKO_ID, ISAMU_ID, fiscal_end


def test_winners_list_says_who_bought(town, town_url, town_core):
    for rid in (HANAKO_ID, ISAMU_ID, ELDER):
        sales.apply(town_core.uow, resident_id=rid, offer_code="PREM2026B", sets=1)
    res = town("sale", "winners", "PREM2026B")
    assert res.exit_code == 0 and "抽選はまだ行われていません" in res.output
    assert town("sale", "draw", "PREM2026B", "--no-notify", "--force").exit_code == 0  # applications still open: --force closes them; 300 sets: all three win
    assert town("sale", "record", "--resident", str(ISAMU_ID), "--offer", "PREM2026B", "--receipt", "R-9").exit_code == 0
    res = town("sale", "winners", "PREM2026B")
    assert res.exit_code == 0, res.output
    assert "当選者 3 人（購入済み 1 人）" in res.output and "高橋 勇" in res.output and "郵送・電話" in res.output
    data = as_json(town("sale", "winners", "PREM2026B", "--not-bought", json_output=True))
    assert sorted(w["resident_id"] for w in data["winners"]) == [HANAKO_ID, ELDER]
    elder = next(w for w in data["winners"] if w["resident_id"] == ELDER)
    assert elder["line"] is False and elder["bought"] is False and elder["purchase_until"]
    log = as_json(town("audit", "log", "--action", "sale.winners", json_output=True))
    assert log[0]["actor"] == "役場 テスト係" and "田中" not in str(log)


def test_winners_refusals(town, town_url):
    before = row_counts(town_url)
    refused(town("sale", "winners", "PREM2026"), "抽選販売ではありません")
    refused(town("sale", "winners", "NOPE"), "ありません")
    assert row_counts(town_url) == before


def _csv(path) -> list[dict]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel opens UTF-8 with a BOM
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def test_postal_list_for_a_claim_grant_lists_the_card_only_elder_until_served(town, town_url, tmp_path):
    out = tmp_path / "heat.csv"
    res = town("postal", "grant", "HEAT2026", "--csv", str(out))
    assert res.exit_code == 0, res.output
    rows = _csv(out)
    assert [r["番号"] for r in rows] == [str(ELDER)]
    row = rows[0]
    assert row["氏名"] == "田中 トメ" and row["地区"] == "力昼" and row["世帯番号"] == "H099" and row["カード"] == "あり"
    assert row["理由"] == "LINE未登録（カードのみ）" and "窓口" in row["お知らせ内容"] and "10,000円" in row["お知らせ内容"]
    assert town("grant", "credit", "HEAT2026", str(ELDER)).exit_code == 0
    assert as_json(town("postal", "grant", "HEAT2026", json_output=True))["recipients"] == []


def test_postal_list_for_a_reminder_and_an_announcement(town, town_url):
    data = as_json(town("postal", "reminder", "--due", fiscal_end().isoformat(), json_output=True))
    elder = [r for r in data["recipients"] if r["resident_id"] == ELDER]
    assert elder and "プレミアム商品券" in elder[0]["message"] and "有効期限" in elder[0]["message"]
    assert all(r["resident_id"] == ELDER for r in data["recipients"])  # everyone else has LINE
    at = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%d") + " 09:00"
    assert town("announce", "create", "--title", "健診のお知らせ", "--all", "--text", "10月1日は健診です。",
                "--at", at).exit_code == 0
    ann = query(town_url, "SELECT MAX(id) FROM announcements")[0][0]
    res = town("postal", "announcement", str(ann))
    assert res.exit_code == 0 and "郵送が必要な方 1 人" in res.output and "10月1日は健診です。" in res.output


def test_postal_refusals_change_nothing(town, town_url):
    before = row_counts(town_url)
    refused(town("postal", "announcement", "999"), "お知らせ 999 はありません")
    refused(town("postal", "grant", "NOPE"), "ありません")
    refused(town("postal", "reminder", "--due", "2026-02-30"), "読めません")
    assert row_counts(town_url) == before


def test_exchange_rule_change_applies_from_its_date(town, town_url, town_core):
    effective = jst_midnight_utc(today_jst() + timedelta(days=10))
    when = (today_jst() + timedelta(days=10)).isoformat()
    dry = town("exchange-rule", "set", "--from", "VOL", "--to", "PREM", "--points", "500", "--yen", "600",
               "--effective", when, "--dry-run")
    assert dry.exit_code == 0 and dry.output.startswith("（試し実行）")
    res = town("exchange-rule", "set", "--from", "VOL", "--to", "PREM", "--points", "500", "--yen", "600",
               "--effective", when)
    assert res.exit_code == 0, res.output
    assert "500ポイント→600円 に変更しました（これまで: 500ポイント→500円）" in res.output
    before = transfers.exchange(town_core.uow, resident_id=ISAMU_ID, from_type="VOL", to_type="PREM", amount=500,
                                idempotency_key="x-before")
    assert before.received == 500  # before the date: the old rule
    later = UnitOfWork(town_core.db, town_core.bus, town_core.uow.policy, clock=lambda: effective + timedelta(hours=1))
    after = transfers.exchange(later, resident_id=ISAMU_ID, from_type="VOL", to_type="PREM", amount=500,
                               idempotency_key="x-after")
    assert after.received == 600
    assert query(town_url, "SELECT amount FROM entries WHERE id = :i", i=before.entry_id) == [(500,)]
    vol = next(m for m in as_json(town("money-type", "list", json_output=True)) if m["code"] == "VOL")
    assert vol["exchange"] == ["500VOL→500PREM"]  # the rule in effect today
    rules = as_json(town("exchange-rule", "list", json_output=True))
    assert [(r["to_units"], r["in_effect"]) for r in rules] == [(500, True), (600, False)]
    log = as_json(town("audit", "log", "--action", "exchange_rule.change", json_output=True))
    assert log[0]["actor"] == "役場 テスト係" and log[0]["params"]["before"] == [500, 500]


@pytest.mark.parametrize(("args", "says"), [
    (["--from", "VOL", "--to", "PREM", "--points", "500", "--yen", "500"], "すでに 500→500"),
    (["--from", "PREM", "--to", "VOL", "--points", "500", "--yen", "500"], "ポイントではありません"),
    (["--from", "VOL", "--to", "VOL", "--points", "500", "--yen", "500"], "交換できません"),
    (["--from", "NOPE", "--to", "PREM", "--points", "500", "--yen", "500"], "ありません"),
    (["--from", "VOL", "--to", "PREM", "--points", "0", "--yen", "500"], "1以上"),
    (["--from", "VOL", "--to", "PREM", "--points", "500", "--yen", "600", "--effective", "2020-01-01"], "過去"),
])
def test_exchange_rule_refusals_change_nothing(town, town_url, args, says):
    before = row_counts(town_url)
    refused(town("exchange-rule", "set", *args), says)
    assert row_counts(town_url) == before


def test_a_second_change_before_a_planned_one_is_refused(town, town_url):
    later = (today_jst() + timedelta(days=20)).isoformat()
    sooner = (today_jst() + timedelta(days=5)).isoformat()
    assert town("exchange-rule", "set", "--from", "VOL", "--to", "PREM", "--points", "500", "--yen", "700",
                "--effective", later).exit_code == 0
    before = row_counts(town_url)
    refused(town("exchange-rule", "set", "--from", "VOL", "--to", "PREM", "--points", "500", "--yen", "600",
                 "--effective", sooner), "予定されています")
    assert row_counts(town_url) == before
