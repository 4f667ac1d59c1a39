"""machi payout, expire, report, export, survey and audit log."""
from __future__ import annotations

import csv
import os
import sys
import warnings
from datetime import date, timedelta
from pathlib import Path

from PIL import Image
from sqlalchemy import text

import town.reports as reports_pkg
from ledger.clock import today_jst
from ledger.db import make_engine
from tests.admin_cli.conftest import as_json, pdf_text, query, refused, row_counts
from town.demo_town import PERSONAS

REMITTER = ["payout", "remitter", "--code", "1234567890", "--name", "トママエチョウ", "--bank", "1022",
            "--branch", "007", "--number", "7654321"]


def _period() -> list[str]:
    end = today_jst() - timedelta(days=1)
    return ["--from", str(end - timedelta(days=40)), "--to", str(end)]


def _sql(url: str, sql: str, **params) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(sql), params)
    engine.dispose()


def test_payout_refused_without_remitter_before_money_moves(town, town_url, tmp_path):
    before = row_counts(town_url)
    refused(town("payout", "run", *_period(), "--out", tmp_path / "po"), "振込元", "machi payout remitter")
    refused(town(*REMITTER[:3], "12345", *REMITTER[4:]), "10桁")
    refused(town("payout", "run", "--from", "2026-11-10", "--to", "2026-11-01", "--out", tmp_path), "前です")
    refused(town("payout", "run", "--from", str(today_jst()), "--to", str(today_jst()), "--out", tmp_path), "昨日以前")
    assert row_counts(town_url) == before and not (tmp_path / "po").exists()
    assert town(*REMITTER).exit_code == 0
    _sql(town_url, "UPDATE merchants SET bank_code = NULL WHERE code = 'M001'")
    before = row_counts(town_url)
    refused(town("payout", "run", *_period(), "--out", tmp_path / "po"), "M001 こむぎベーカリー")
    assert row_counts(town_url) == before


def test_payout_run_files_rerun_mark_paid(town, town_url, tmp_path):
    assert town(*REMITTER).exit_code == 0
    dry = as_json(town("payout", "run", *_period(), "--out", tmp_path, "--dry-run", json_output=True))
    assert dry["total_net"] > 0 and row_counts(town_url)["payouts"] == 0
    held = {s["code"]: s for s in as_json(town("merchant", "list", json_output=True))}
    res = as_json(town("payout", "run", *_period(), "--out", tmp_path, json_output=True))
    assert res["created"] == len(dry["shops"]) and res["total_net"] == dry["total_net"]
    for shop in dry["shops"]:
        assert shop["gross"] == held[shop["code"]]["unpaid"]
    zengin = (tmp_path / res["zengin"].split(str(tmp_path) + "/")[-1]).read_bytes()
    records = zengin.split(b"\r\n")
    assert records[0][:1] == b"1" and all(len(r) == 120 for r in records if r and r[:1] != b"\x1a")
    data = [r for r in records if r[:1] == b"2"]
    assert len(data) == len(dry["shops"])
    trailer = next(r for r in records if r[:1] == b"8")
    assert int(trailer[1:7]) == len(data) and int(trailer[7:19]) == dry["total_net"]
    shop = dry["shops"][0]
    statement = (tmp_path / res["folder"].split("/")[-1] / "statements")
    assert f"振込額,{shop['net']}" in (statement / f"{shop['code']}.csv").read_text(encoding="utf-8-sig")
    text_ = pdf_text(statement / f"{shop['code']}.pdf")
    assert "精算明細書" in text_ and f"{shop['net']:,}円" in text_ and shop["name"] in text_
    entries = row_counts(town_url)["entries"]
    again = as_json(town("payout", "run", *_period(), "--out", tmp_path, json_output=True))
    assert again["created"] == 0 and again["skipped"] == res["created"] and again["total_net"] == res["total_net"]
    assert row_counts(town_url)["entries"] == entries  # re-running pays no one twice
    files = as_json(town("payout", "files", str(res["batch_id"]), "--out", tmp_path / "again", json_output=True))
    assert (tmp_path / "again" / files["zengin"].split("/again/")[-1]).read_bytes() == zengin
    town("payout", "mark-paid", str(res["batch_id"]), "--dry-run")
    assert query(town_url, "SELECT DISTINCT status FROM payouts") == [("ready",)]
    assert "支払済みにしました" in town("payout", "mark-paid", str(res["batch_id"])).output
    assert "すでに支払済み" in town("payout", "mark-paid", str(res["batch_id"])).output
    listed = as_json(town("payout", "list", json_output=True))
    assert listed[0]["status"] == "paid" and listed[0]["net"] == res["total_net"]
    refused(town("payout", "mark-paid", "99"), "ありません")
    refused(town("payout", "files", "99", "--out", tmp_path), "ありません")
    assert town("audit", "verify").exit_code == 0


def test_expire_run_dry_run_then_for_real(town, town_url):
    _sql(town_url, "UPDATE lots SET expires_at = '2020-01-01 00:00:00' WHERE money_type_id = "
                   "(SELECT id FROM money_types WHERE code = 'VOL') AND remaining > 0")
    _sql(town_url, "DELETE FROM entry_seals")  # that edit is a rewrite the seals report: seal it afresh,
    Path(os.environ["MACHI_SEAL_ANCHOR_FILE"]).unlink(missing_ok=True)  # with no anchor of the old chain
    assert town("audit", "seal").exit_code == 0
    vol = query(town_url, "SELECT SUM(remaining) FROM lots WHERE expires_at < '2021-01-01'")[0][0]
    assert vol > 0
    before = row_counts(town_url)
    dry = as_json(town("expire", "run", "--dry-run", json_output=True))
    assert dry["by_type"] == {"VOL": vol} and row_counts(town_url) == before
    res = town("expire", "run")
    assert res.exit_code == 0 and f"{vol:,}円" in res.output and "失効させました" in res.output
    assert query(town_url, "SELECT SUM(remaining) FROM lots WHERE expires_at < '2021-01-01'") == [(0,)]
    assert as_json(town("expire", "run", json_output=True))["lots"] == 0  # safe to run again
    assert town("audit", "verify").exit_code == 0


def test_report_kpi_markdown_csv_and_japanese_charts(town, tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = as_json(town("report", "kpi", *_period(), "--out", tmp_path, json_output=True))
    assert not [w for w in caught if "missing from font" in str(w.message)]  # every 日本語 label has its glyphs
    assert data["summary"]["payments"] > 0 and data["summary"]["payment_volume"] > 0
    md = (tmp_path / "kpi.md").read_text(encoding="utf-8")
    assert "# まちウォレット 利用状況" in md and "## 店舗別" in md and "![券種別](kpi_by_money_type.png)" in md
    assert f"| 支払件数 | {data['summary']['payments']:,} |" in md
    with (tmp_path / "kpi_by_shop.csv").open(encoding="utf-8-sig") as f:
        shops = list(csv.DictReader(f))
    assert sum(int(r["amount"]) for r in shops) == data["summary"]["payment_volume"]
    for png in ("kpi_registered", "kpi_payments_daily", "kpi_by_money_type", "kpi_by_district", "kpi_by_age_band",
                "kpi_by_shop"):
        img = Image.open(tmp_path / f"{png}.png")
        assert img.format == "PNG" and img.width > 600
    refused(town("report", "kpi", "--from", "2026-11-27", "--to", "2026-11-01", "--out", tmp_path / "x"), "前です")
    refused(town("report", "kpi", "--format", "xlsx", "--out", tmp_path / "x"), "指定できません")
    assert not (tmp_path / "x").exists()


def test_report_kpi_without_the_reports_extra_says_how_to_get_charts(town, tmp_path, monkeypatch):
    """A server install (`pip install .`) has no matplotlib: the charts say so, the rest still works."""
    monkeypatch.delitem(sys.modules, "town.reports.charts", raising=False)
    monkeypatch.delattr(reports_pkg, "charts", raising=False)  # a test before may have imported it
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails as if not installed
    refused(town("report", "kpi", *_period(), "--out", tmp_path / "x"), "--no-charts", "machi-wallet[reports]")
    assert not (tmp_path / "x").exists()
    assert town("report", "kpi", *_period(), "--out", tmp_path / "y", "--no-charts").exit_code == 0
    assert (tmp_path / "y" / "kpi.md").is_file() and not list((tmp_path / "y").glob("*.png"))


def test_report_kpi_carries_each_days_seal_anchor(town, tmp_path):
    assert town("audit", "seal").exit_code == 0
    today = str(today_jst())
    town("report", "kpi", "--from", today, "--to", today, "--out", tmp_path, "--no-charts")
    md = (tmp_path / "kpi.md").read_text(encoding="utf-8")
    last = as_json(town("audit", "anchors", json_output=True))[-1]
    assert "## 台帳の封印（各日の最後のアンカー）" in md and last["entries"]["hash"] in md


def _base_dates() -> tuple[date, date]:
    """The last 基準日 before today and the next one after."""
    today = today_jst()
    days = sorted(date(y, m, d) for y in (today.year - 1, today.year, today.year + 1) for m, d in ((3, 31), (9, 30)))
    return max(d for d in days if d < today), min(d for d in days if d >= today)


def test_unused_balance_threshold_and_deposit(town, town_url):
    from app import build_core  # noqa: PLC0415
    from config import load_config  # noqa: PLC0415
    from ledger.services import issuing  # noqa: PLC0415
    from town.demo_town import seed  # noqa: F401,PLC0415 - the town is already seeded

    assert town("money-type", "add", "--code", "PREM27", "--name", "一年券", "--kind", "prepaid",
                "--validity-days", "365").exit_code == 0
    core = build_core(load_config(database_url=town_url, env="test"))
    for rid in range(1, 31):
        issuing.issue(core.uow, resident_id=rid, money_type="PREM27", amount=400_001, idempotency_key=f"t-{rid}")
    core.db.dispose()
    past, nxt = _base_dates()
    data = as_json(town("report", "unused-balance", "--date", str(nxt), json_output=True))
    line = next(x for x in data["money_types"] if x["code"] == "PREM27")
    assert line["unused"] == 12_000_030 and line["counted"] is True
    assert data["over_threshold"] is True and data["threshold"] == 10_000_000
    assert data["deposit_required"] == -(-data["counted_total"] // 2)
    out = town("report", "unused-balance", "--date", str(nxt)).output
    assert "基準額を超えています" in out and f"発行保証金として {data['deposit_required']:,}円" in out
    old = as_json(town("report", "unused-balance", "--date", str(past), json_output=True))
    assert next(x for x in old["money_types"] if x["code"] == "PREM27")["unused"] == 0
    assert old["over_threshold"] is False and old["deposit_required"] == 0
    assert "届出・発行保証金の供託は不要" in town("report", "unused-balance", "--date", str(past)).output
    refused(town("report", "unused-balance", "--date", "2026-10-31"), "3月31日か9月30日")


def test_export_is_pseudonymised(town, town_url, tmp_path):
    names = [n for (n,) in query(town_url, "SELECT name FROM residents")]
    for what in ("payments", "residents"):
        out = tmp_path / f"{what}.csv"
        res = town("export", "--what", what, *_period(), "--out", out)
        assert res.exit_code == 0 and "仮名化したCSV" in res.output
        body = out.read_text(encoding="utf-8-sig")
        assert not [n for n in names if n in body]
        assert not [p.line_user_id for p in PERSONAS if p.line_user_id in body]
        rows = list(csv.DictReader(body.splitlines()))
        assert rows and "name" not in rows[0] and "birth_date" not in rows[0]
        assert {r["age_band"] for r in rows} <= {"0-19", "20代", "30代", "40代", "50代", "60代", "70代", "80歳以上", "不明"}
        assert all(len(r["pid"]) == 20 for r in rows if r["pid"])
    log = as_json(town("audit", "log", "--action", "export", json_output=True))
    assert {e["params"]["what"] for e in log} == {"payments", "residents"}
    before = row_counts(town_url)
    refused(town("export", "--what", "names", "--out", tmp_path / "x.csv"), "指定できません")
    refused(town("export", "--from", "2026-11-27", "--to", "2026-11-01", "--out", tmp_path / "x.csv"), "前です")
    assert row_counts(town_url) == before and not (tmp_path / "x.csv").exists()


def test_survey_results_hide_free_text(town, town_url):
    """Only answers picked from the flow's choices are shown by value; typed ones, however short, are counted."""
    for i, (score, comment) in enumerate([(5, "とても便利でした。お店の人も親切でした。ありがとう。"), (3, "ふつう"), (4, None)]):
        _sql(town_url, "INSERT INTO survey_responses (survey_id, resident_key, answers, score, created_at) "
                       "VALUES ('satisfaction_2026', :k, :a, :s, CURRENT_TIMESTAMP)",
             k=f"r{i}", s=score, a=f'{{"satisfaction": {score}' + (f', "comment": "{comment}"' if comment else "") + "}")
    listed = as_json(town("survey", "results", json_output=True))
    assert listed == [{"survey": "satisfaction_2026", "responses": 3, "mean": 4.0}]
    res = town("survey", "results", "satisfaction_2026")
    assert "回答 3 件、平均 4.0" in res.output and "5点 1件" in res.output and "satisfaction: 5 1件" in res.output
    assert "自由記述 2 件" in res.output and "とても便利" not in res.output and "ふつう" not in res.output
    refused(town("survey", "results", "nope"), "回答はありません")


def test_audit_log_records_staff_actions(town):
    town("merchant", "add", "--code", "M009", "--name", "テスト商店")
    town("resident", "suspend", "5", "--reason", "確認中")
    log = as_json(town("audit", "log", "--limit", "2", json_output=True))
    assert [e["action"] for e in log] == ["resident.suspend", "merchant.add"]
    assert all(e["actor"] == "役場 テスト係" for e in log)
    text_ = town("audit", "log", "--action", "merchant.add").output
    assert "役場 テスト係" in text_ and "M009" in text_
    refused(town("audit", "log", "--limit", "0"))
