"""machi merchant, money-type, segment and event: setting the town up."""
from __future__ import annotations

from datetime import timedelta

from PIL import Image

from ledger.clock import today_jst
from tests.admin_cli.conftest import as_json, pdf_pages, pdf_text, query, refused, row_counts

OWNER = "U" + "a" * 32


def test_merchant_add_list_and_refusals(town, town_url):
    res = town("merchant", "add", "--code", "M009", "--name", "テスト商店", "--kana", "ﾃｽﾄｼﾖｳﾃﾝ", "--fee-bp", "150")
    assert res.exit_code == 0 and "手数料 1.50%" in res.output and "登録しました" in res.output
    rows = {r["code"]: r for r in as_json(town("merchant", "list", json_output=True))}
    assert rows["M009"]["bank"] is False and rows["M001"]["bank"] is True and rows["M009"]["fee_bp"] == 150
    assert "未登録" in town("merchant", "list").output
    before = row_counts(town_url)
    refused(town("merchant", "add", "--code", "M 9", "--name", "x"), "店舗コード")
    refused(town("merchant", "add", "--code", "M009", "--name", "x"), "すでにあります")
    refused(town("merchant", "add", "--code", "M010", "--name", "x", "--category", "huge"), "指定できません")
    assert town("merchant", "add", "--code", "M010", "--name", "x", "--dry-run").output.startswith("（試し実行）")
    assert row_counts(town_url) == before


def test_merchant_staff_add_and_remove(town, town_url):
    res = town("merchant", "staff", "add", "M001", OWNER, "--role", "clerk", "--name", "パート")
    assert res.exit_code == 0 and "店員（会計・返金）を追加しました" in res.output
    assert query(town_url, "SELECT role FROM merchant_staff WHERE line_user_id = :u", u=OWNER) == [("clerk",)]
    before = row_counts(town_url)
    refused(town("merchant", "staff", "add", "M001", "Uxyz"), "LINEユーザーID")
    refused(town("merchant", "staff", "add", "M999", OWNER), "見つかりません")
    refused(town("merchant", "staff", "remove", "M002", OWNER), "店員はいません")
    town("merchant", "staff", "remove", "M001", OWNER, "--dry-run")
    assert row_counts(town_url) == before
    assert town("merchant", "staff", "remove", "M001", OWNER).exit_code == 0
    assert query(town_url, "SELECT COUNT(*) FROM merchant_staff WHERE line_user_id = :u", u=OWNER) == [(0,)]


def test_merchant_bank_checks_zengin_codes_and_makes_kana(town, town_url):
    data = as_json(town("merchant", "bank", "M001", "--bank", "5", "--branch", "1", "--number", "1234567",
                        "--holder", "コムギ ベーカリー", json_output=True))
    assert data["bank_code"] == "0005" and data["branch_code"] == "001"
    assert data["bank_kana"] and data["holder_kana"] == "ｺﾑｷﾞ ﾍﾞｰｶﾘｰ"
    assert query(town_url, "SELECT bank_code, account_holder_kana FROM merchants WHERE code = 'M001'") == [
        ("0005", "ｺﾑｷﾞ ﾍﾞｰｶﾘｰ")]
    hira = town("merchant", "bank", "M001", "--bank", "1022", "--branch", "007", "--number", "1", "--holder", "こむぎ")
    assert hira.exit_code == 0 and "ﾙﾓｲｼﾝｷﾝ" in hira.output and "ｺﾑｷﾞ" in hira.output
    before = query(town_url, "SELECT bank_code, branch_code, account_number, account_holder_kana FROM merchants")
    ok = ["--number", "1234567", "--holder", "テスト"]
    refused(town("merchant", "bank", "M001", "--bank", "9999", "--branch", "007", *ok), "金融機関コード 9999")
    refused(town("merchant", "bank", "M001", "--bank", "1022", "--branch", "999", *ok), "支店コード 999")
    refused(town("merchant", "bank", "M001", "--bank", "1022", "--branch", "007", "--number", "12345678",
                 "--holder", "テスト"), "口座番号")
    refused(town("merchant", "bank", "M001", "--bank", "1022", "--branch", "007", "--number", "1",
                 "--holder", "テスト商店"), "使えない文字")
    refused(town("merchant", "bank", "M001", "--bank", "1022", "--branch", "007", *ok, "--type", "9"), "預金種目")
    town("merchant", "bank", "M001", "--bank", "1022", "--branch", "007", *ok, "--dry-run")
    assert query(town_url, "SELECT bank_code, branch_code, account_number, account_holder_kana FROM merchants") == before


def test_merchant_poster_writes_png_and_pdf(town, tmp_path):
    data = as_json(town("merchant", "poster", "M001", "--out", tmp_path / "p", json_output=True))
    png = Image.open(data["png"])
    assert png.format == "PNG" and png.width > 500 and png.height > png.width  # A4 portrait
    assert pdf_pages(tmp_path / "p" / "poster_M001.pdf") == 1
    assert "shop=M001" in data["url"]
    refused(town("merchant", "poster", "M999", "--out", tmp_path / "q"), "見つかりません")
    assert not (tmp_path / "q").exists()


def test_money_type_add_and_list(town, town_url):
    res = town("money-type", "add", "--code", "PREM2027", "--name", "プレミアム商品券2027", "--kind", "prepaid",
               "--validity-days", "365", "--only", "small")
    assert res.exit_code == 0 and "追加しました" in res.output and "発行保証金" in res.output
    rows = {r["code"]: r for r in as_json(town("money-type", "list", json_output=True))}
    assert rows["PREM2027"]["only"] == "small" and rows["PREM2027"]["validity"] == "発行から365日"
    assert rows["VOL"]["exchange"] == ["500VOL→500PREM"] and rows["PREM"]["held_by_residents"] > 0
    before = row_counts(town_url)
    base = ["money-type", "add", "--code", "GX", "--name", "給付"]
    refused(town(*base, "--kind", "grant"), "有効期限")
    refused(town(*base, "--kind", "grant", "--validity-days", "0"), "1以上")
    refused(town(*base, "--kind", "grant", "--valid-until", str(today_jst() - timedelta(days=1))), "過ぎています")
    refused(town(*base, "--kind", "cash", "--validity-days", "5"), "指定できません")
    refused(town("money-type", "add", "--code", "g x", "--name", "x", "--kind", "point"), "券種コード")
    refused(town("money-type", "add", "--code", "PREM", "--name", "x", "--kind", "point"), "すでにあります")
    town(*base, "--kind", "grant", "--validity-days", "30", "--dry-run")
    assert row_counts(town_url) == before


def test_segment_define_preview_list(town, town_url):
    res = town("segment", "define", "苫前の高齢者", "--age-min", "65", "--district", "苫前")
    assert res.exit_code == 0 and "いま該当する方" in res.output
    count = as_json(town("segment", "preview", "苫前の高齢者", json_output=True))
    assert count["count"] >= 1 and all(s["district"] == "苫前" for s in count["sample"])
    assert all(s["age_band"] in ("60代", "70代", "80歳以上") for s in count["sample"])
    assert "name" not in count["sample"][0]  # a preview shows bands, not names
    listed = {s["name"]: s for s in as_json(town("segment", "list", json_output=True))}
    assert listed["苫前の高齢者"]["count"] == count["count"] and listed["70歳以上"]["count"] >= 1
    before = row_counts(town_url)
    refused(town("segment", "define", "x", "--age-min", "80", "--age-max", "65"), "年齢")
    refused(town("segment", "define", "x", "--money-type", "NOPE", "--min-balance", "5"), "NOPE")
    refused(town("segment", "define", "x", "--min-balance", "5"), "券種")
    refused(town("segment", "define", "苫前の高齢者", "--age-min", "70"), "--replace")
    refused(town("segment", "preview", "ない"), "ありません")
    town("segment", "define", "y", "--age-min", "20", "--dry-run")
    assert row_counts(town_url) == before


def test_event_create_list_poster(town, town_url, tmp_path):
    res = town("event", "create", "--code", "souji", "--name", "町内清掃", "--points", "300",
               "--starts", "2026-12-01 09:00", "--ends", "2026-12-01 12:00", "--capacity", "20", "--place", "役場前")
    assert res.exit_code == 0, res.output
    assert "SOUJI" in res.output and "2026-12-01 09:00〜2026-12-01 12:00" in res.output
    log = as_json(town("audit", "log", "--action", "event.create", json_output=True))
    assert log[0]["params"]["starts"] == "2026-12-01T00:00:00"  # 09:00 in Tokyo, kept as UTC
    rows = {e["code"]: e for e in as_json(town("event", "list", json_output=True))}
    assert rows["SOUJI"]["capacity"] == 20 and rows["KAIGAN"]["checked_in"] == 1
    before = row_counts(town_url)
    ok = ["--starts", "2026-12-01 09:00", "--ends", "2026-12-01 12:00"]
    refused(town("event", "create", "--code", "A1", "--name", "x", "--points", "0", *ok), "ポイント")
    refused(town("event", "create", "--code", "A1", "--name", "x", "--points", "5", "--starts", "2026-12-01 09:00",
                 "--ends", "2026-12-01 08:00"), "受付終了")
    refused(town("event", "create", "--code", "A1", "--name", "x", "--points", "5", "--money-type", "NOPE", *ok), "NOPE")
    refused(town("event", "create", "--code", "kaigan", "--name", "x", "--points", "5", *ok), "すでにあります")
    refused(town("event", "create", "--code", "A1", "--name", "x", "--points", "5", "--starts", "2026-12-01 25:00",
                 "--ends", "2026-12-02"), "読めません")
    town("event", "create", "--code", "A1", "--name", "x", "--points", "5", *ok, "--dry-run")
    assert row_counts(town_url) == before
    poster = as_json(town("event", "poster", "SOUJI", "--out", tmp_path, json_output=True))
    text = pdf_text(tmp_path / "event_SOUJI.pdf")
    assert "町内清掃" in text and "300 ポイント" in text and "受付 " in text and "SOUJI" in text
    assert "checkin?code=SOUJI" in poster["url"]
    refused(town("event", "poster", "NOPE", "--out", tmp_path), "ありません")
    refused(town("event", "screen", "NOPE"), "ありません")


def test_event_screen_page_shows_a_rotating_code(town_url):
    from admin_cli.event_screen import screen_app  # noqa: PLC0415
    from town import event_qr  # noqa: PLC0415

    app = screen_app("海岸清掃", "KAIGAN", "secret", period=30)
    page = app.test_client().get("/").get_data(as_text=True)
    assert "<svg" in page and "海岸清掃" in page and "30秒ごとに変わります" in page
    token = event_qr.rotating_payload("KAIGAN", "secret", now=1000.0)
    assert event_qr.verify_rotating(token, "secret", now=1010.0) == "KAIGAN"
    assert event_qr.verify_rotating(token, "secret", now=1100.0) is None  # a photo stops working
    assert event_qr.verify_rotating(token, "other", now=1010.0) is None
