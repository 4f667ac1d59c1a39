"""machi card and machi sale: plastic cards, counter sales with the premium, and the lottery."""
from __future__ import annotations

from tests.admin_cli.conftest import as_json, pdf_pages, pdf_text, query, refused, row_counts
from town import lottery

ELDER, ELDER_CARD = 31, "800000000011"


def _balances(town, ref) -> dict[str, int]:
    return {b["money_type"]: b["amount"] for b in as_json(town("resident", "show", ref, json_output=True))["balances"]}


def test_card_issue_writes_sheet_and_a_separate_pin_letter(town, town_url, tmp_path):
    data = as_json(town("card", "issue", "1", "--pin", "4826", "--out", tmp_path, json_output=True))
    number = data["number"]
    sheet, letter = pdf_text(tmp_path / f"card_{number}.pdf"), pdf_text(tmp_path / f"pin_letter_{number}.pdf")
    assert pdf_pages(tmp_path / f"card_{number}.pdf") == 1 and pdf_pages(tmp_path / f"pin_letter_{number}.pdf") == 1
    assert "佐藤 花子 様" in sheet and f"{number[:4]} {number[4:8]} {number[8:]}" in sheet and "カードの使い方" in sheet
    assert "4  8  2  6" not in sheet and "4826" not in sheet  # the PIN never travels with the card
    assert "暗証番号のお知らせ" in letter and "4  8  2  6" in letter and number[-4:] in letter
    assert number not in letter  # only the last four digits
    assert query(town_url, "SELECT status FROM cards WHERE number = :n", n=number) == [("active",)]
    assert query(town_url, "SELECT pin_hash FROM cards WHERE number = :n", n=number)[0][0] != "4826"
    reprint = as_json(town("card", "print", number, "--out", tmp_path / "again", json_output=True))
    assert "pin_letter" not in reprint and "佐藤 花子 様" in pdf_text(tmp_path / "again" / f"card_{number}.pdf")


def test_card_issue_refusals_change_nothing(town, town_url, tmp_path):
    tmp_path = tmp_path / "cards"
    before = row_counts(town_url)
    refused(town("card", "issue", "2", "--pin", "12a4", "--out", tmp_path), "4桁")
    refused(town("card", "issue", str(ELDER), "--out", tmp_path), "カードをお持ちです")
    refused(town("card", "issue", "999", "--out", tmp_path), "見つかりません")
    refused(town("card", "print", "1234", "--out", tmp_path), "カード番号")
    town("card", "issue", "2", "--out", tmp_path, "--dry-run")
    assert row_counts(town_url) == before and not tmp_path.exists()


def test_card_unlock_after_wrong_pins(town, town_url):
    query_sql = "UPDATE cards SET failed_attempts = 5, locked_until = '2099-01-01 00:00:00' WHERE number = :n"
    from sqlalchemy import text  # noqa: PLC0415

    from ledger.db import make_engine  # noqa: PLC0415

    engine = make_engine(town_url)
    with engine.begin() as conn:
        conn.execute(text(query_sql), {"n": ELDER_CARD})
    engine.dispose()
    town("card", "unlock", ELDER_CARD, "--dry-run")
    assert query(town_url, "SELECT failed_attempts FROM cards WHERE number = :n", n=ELDER_CARD) == [(5,)]
    res = town("card", "unlock", "8000 0000 0011")
    assert res.exit_code == 0 and "ロックを解除しました" in res.output
    assert query(town_url, "SELECT failed_attempts, locked_until FROM cards WHERE number = :n", n=ELDER_CARD) == [
        (0, None)]
    refused(town("card", "unlock", "8000 0000 0012"), "カード番号")


def test_card_replace_keeps_the_balance(town, town_url, tmp_path):
    before = _balances(town, ELDER_CARD)
    entries = row_counts(town_url)["entries"]
    data = as_json(town("card", "replace", ELDER_CARD, "--pin", "4826", "--out", tmp_path, json_output=True))
    assert data["balance"] == 13_000 and data["new"] != ELDER_CARD
    assert (tmp_path / f"pin_letter_{data['new']}.pdf").exists()
    assert _balances(town, data["new"]) == before  # the new card reaches the same wallet
    assert row_counts(town_url)["entries"] == entries
    assert query(town_url, "SELECT status FROM cards WHERE number = :n", n=ELDER_CARD) == [("replaced",)]
    refused(town("card", "replace", ELDER_CARD, "--out", tmp_path), "再発行済み")
    refused(town("card", "print", ELDER_CARD, "--out", tmp_path), "再発行済み")


def test_sale_offers_and_counter_sale_with_premium(town, town_url):
    offers = {o["code"]: o for o in as_json(town("sale", "offers", json_output=True))}
    assert offers["PREM2026"]["price"] == 10_000 and offers["PREM2026"]["face"] == 13_000
    before = _balances(town, "6")
    res = town("sale", "record", "--resident", "6", "--offer", "PREM2026", "--sets", "2", "--receipt", "R-001")
    assert res.exit_code == 0, res.output
    assert "代金 20,000円、額面 26,000円" in res.output
    after = _balances(town, "6")
    assert after.get("PREM", 0) - before.get("PREM", 0) == 13_000
    assert after.get("PREM_LOCAL", 0) - before.get("PREM_LOCAL", 0) == 13_000
    entries = row_counts(town_url)["entries"]
    again = town("sale", "record", "--resident", "6", "--offer", "PREM2026", "--sets", "2", "--receipt", "R-001")
    assert again.exit_code == 0 and "すでに記録済み" in again.output
    assert row_counts(town_url)["entries"] == entries  # the same receipt never sells twice
    assert town("audit", "verify").exit_code == 0


def test_sale_refusals_change_nothing(town, town_url):
    before = row_counts(town_url)
    rec = ["sale", "record", "--resident", "6", "--offer", "PREM2026", "--receipt"]
    refused(town(*rec, "R-9", "--sets", "9"), "5セットまで")
    refused(town(*rec, "R-9", "--sets", "0"), "1以上")
    refused(town("sale", "record", "--resident", "6", "--offer", "NOPE", "--receipt", "R-9"), "ありません")
    refused(town("sale", "offer-add", "--code", "X1", "--name", "x", "--price", "1000", "--component", "VOL=500"),
            "前払式")
    refused(town("sale", "offer-add", "--code", "X1", "--name", "x", "--price", "1000", "--component", "PREM=abc"),
            "読めません")
    refused(town("sale", "offer-add", "--code", "X1", "--name", "x", "--price", "1000", "--component", "PREM=500",
                 "--lottery"), "総セット数")
    dry = town(*rec, "R-9", "--dry-run")
    assert dry.output.startswith("（試し実行）")
    town("sale", "offer-add", "--code", "X1", "--name", "x", "--price", "1000", "--component", "PREM=1300", "--dry-run")
    assert row_counts(town_url) == before


def _lottery(town, town_url) -> None:
    res = town("sale", "offer-add", "--code", "LOT27", "--name", "抽選券", "--name-en", "Lottery vouchers",
               "--price", "10000", "--component",
               "PREM=6500", "--component", "PREM_LOCAL=6500", "--lottery", "--total-sets", "3", "--limit", "2")
    assert res.exit_code == 0 and "プレミアム 3,000円、抽選" in res.output
    from sqlalchemy import text  # noqa: PLC0415

    from ledger.db import make_engine  # noqa: PLC0415

    engine = make_engine(town_url)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT name_en FROM sale_offers WHERE code = 'LOT27'")).scalar() == "Lottery vouchers"
        for rid in range(1, 9):
            conn.execute(text("INSERT INTO sale_applications (offer_id, resident_id, sets, status, applied_at) "
                              "SELECT id, :r, :n, 'applied', CURRENT_TIMESTAMP FROM sale_offers WHERE code = 'LOT27'"),
                         {"r": rid, "n": 1 + rid % 2})
    engine.dispose()


def test_lottery_draw_is_recorded_and_reproducible(town, town_url):
    _lottery(town, town_url)
    apps = town("sale", "applications", "LOT27")
    assert "申し込み 12 セット" in apps.output and "抽選になります" in apps.output
    before = row_counts(town_url)
    dry = town("sale", "draw", "LOT27", "--seed", "tomamae", "--no-notify", "--dry-run")
    assert dry.output.startswith("（試し実行）抽選します（seed tomamae）")
    assert row_counts(town_url) == before
    data = as_json(town("sale", "draw", "LOT27", "--seed", "tomamae", "--no-notify", json_output=True))
    assert data["seed"] == "tomamae" and data["winners"] + data["losers"] == 8
    rows = dict(query(town_url, "SELECT id, sets FROM sale_applications"))
    won, _lost = lottery.allocate(rows, "tomamae", 3)
    assert sorted(r[0] for r in query(town_url, "SELECT id FROM sale_applications WHERE status = 'won'")) == sorted(won)
    assert sum(rows[i] for i in won) <= 3
    again = town("sale", "draw", "LOT27", "--no-notify")
    assert "抽選は実施済みです（seed tomamae）" in again.output  # never drawn twice
    ok = town("sale", "verify-draw", "LOT27")
    assert ok.exit_code == 0 and "一致しました: seed tomamae" in ok.output
    assert as_json(town("sale", "verify-draw", "LOT27", json_output=True))["ok"] is True
    assert "当選" in town("sale", "applications", "LOT27").output
    loser = query(town_url, "SELECT MIN(id) FROM sale_applications WHERE status = 'lost'")[0][0]
    from sqlalchemy import text  # noqa: PLC0415

    from ledger.db import make_engine  # noqa: PLC0415

    engine = make_engine(town_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE sale_applications SET status = 'won' WHERE id = :i"), {"i": loser})
    engine.dispose()
    tampered = town("sale", "verify-draw", "LOT27")
    assert tampered.exit_code == 1 and "一致しません" in tampered.output


def test_residents_who_left_before_the_draw_are_not_drawn_nor_told(town, town_url):
    _lottery(town, town_url)
    gone = town("resident", "moved-out", "2", "--on", "2026-11-01")
    assert gone.exit_code == 0, gone.output
    res = town("sale", "draw", "LOT27", "--seed", "tomamae", "--no-notify")
    assert res.exit_code == 0, res.output
    assert "対象外 1 人" in res.output and "申し込み 7 人" in res.output
    status = dict(query(town_url, "SELECT resident_id, status FROM sale_applications"))
    assert status[2] == "void" and all(v in ("won", "lost") for r, v in status.items() if r != 2)
    rows = dict(query(town_url, "SELECT id, sets FROM sale_applications WHERE resident_id != 2"))
    won, _lost = lottery.allocate(rows, "tomamae", 3)
    assert sorted(r[0] for r in query(town_url, "SELECT id FROM sale_applications WHERE status = 'won'")) == sorted(won)
    assert "対象外" in town("sale", "applications", "LOT27").output
    town("resident", "moved-out", "3", "--on", "2026-11-20")  # after the draw: the record still checks out
    ok = town("sale", "verify-draw", "LOT27")
    assert ok.exit_code == 0 and "一致しました" in ok.output


def test_lottery_refusals(town, town_url):
    refused(town("sale", "draw", "PREM2026", "--no-notify"), "抽選販売ではありません")
    refused(town("sale", "draw", "NOPE", "--no-notify"), "ありません")
    _lottery(town, town_url)
    refused(town("sale", "verify-draw", "LOT27"), "まだ行われていません")
    refused(town("sale", "draw", "LOT27", "--purchase-days", "0", "--no-notify"), "1日以上")
    refused(town("sale", "record", "--resident", "1", "--offer", "LOT27", "--receipt", "R-1"), "当選")
