"""Issue #13, "Town services": each defect found playing town staff through a year, as staff and residents
met it (the clock moved forward with freezegun). Each test failed before its fix."""
from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from admin_cli.context import line_sender
from admin_cli.scheduler_cmds import line_runtime
from config import load_config
from ledger import bank_days, installation, registry
from ledger.clock import jst_midnight_utc
from ledger.errors import NotEligible, OutsideWindow
from ledger.models import (
    AuditLog,
    Event,
    GrantProgram,
    Lot,
    MoneyType,
    PayoutBatch,
    Resident,
    SaleApplication,
    SaleOffer,
)
from ledger.services import grants, issuing, payments, sales, transfers
from tests.staff_jobs.conftest import machi
from town import payout_files, scheduler
from town.reports import kpi
from town.surveys import SurveyResponse


def jst(y: int, m: int, d: int, hour: int = 10) -> datetime:
    """A Tokyo wall-clock time as the naive UTC the clock gives."""
    return jst_midnight_utc(date(y, m, d)) + timedelta(hours=hour)


def _lottery_offer(ends: str = "2026-12-20 17:00") -> None:
    res = machi("sale", "offer-add", "--code", "LOT27", "--name", "抽選商品券", "--price", "10000",
                "--component", "PREM=13000", "--lottery", "--total-sets", "2", "--limit", "1",
                "--starts", "2026-12-01 09:00", "--ends", ends)
    assert res.exit_code == 0, res.output


# 1 --------------------------------------------------------------------------------------------------------


def test_lottery_winners_buy_after_the_application_deadline_and_the_dry_run_says_the_same(town, line_env, core):
    with freeze_time(jst(2026, 12, 5), tick=True):
        _lottery_offer()
        for rid in town.residents[:3]:
            sales.apply(core.uow, resident_id=rid, offer_code="LOT27", sets=1)
    with freeze_time(jst(2026, 12, 21), tick=True):
        assert machi("sale", "draw", "LOT27", "--seed", "s", "--purchase-days", "14", "--no-notify").exit_code == 0
    with core.db.session() as s:
        status = dict(s.execute(select(SaleApplication.resident_id, SaleApplication.status)).all())
    winner = next(r for r, st in status.items() if st == "won")
    loser = next(r for r, st in status.items() if st == "lost")
    with freeze_time(jst(2026, 12, 28), tick=True):  # after the application deadline, inside the winner's window
        dry = machi("sale", "record", "--resident", str(winner), "--offer", "LOT27", "--receipt", "R1", "--dry-run")
        assert dry.exit_code == 0 and "販売できます" in dry.output, dry.output
        sold = machi("sale", "record", "--resident", str(winner), "--offer", "LOT27", "--receipt", "R1")
        assert sold.exit_code == 0, sold.output
        assert "販売期間外" not in sold.output
        dry_loser = machi("sale", "record", "--resident", str(loser), "--offer", "LOT27", "--receipt", "R2",
                          "--dry-run")
        assert dry_loser.exit_code != 0 and "当選した方のみ" in dry_loser.output  # the dry run refuses as a sale would
    with core.db.engine.connect() as conn:
        assert sales.sets_bought(conn, "LOT27", winner) == 1


# 2 --------------------------------------------------------------------------------------------------------


def test_a_draw_while_applications_are_open_is_refused_unless_forced(town, line_env, core):
    with freeze_time(jst(2026, 12, 5), tick=True):
        _lottery_offer()
        for rid in town.residents[:3]:
            sales.apply(core.uow, resident_id=rid, offer_code="LOT27", sets=1)
        early = machi("sale", "draw", "LOT27", "--no-notify")
        assert early.exit_code != 0 and "受付中" in early.output and "--force" in early.output, early.output
        with core.db.session() as s:
            assert set(s.execute(select(SaleApplication.status)).scalars()) == {"applied"}
        forced = machi("sale", "draw", "LOT27", "--no-notify", "--force")
        assert forced.exit_code == 0, forced.output


# 3 --------------------------------------------------------------------------------------------------------


def test_an_offer_whose_money_type_has_ended_does_not_sell(town, line_env, core):
    with core.db.write() as s:
        registry.create_money_type(s, code="OLD", name="昨年度の商品券", kind="prepaid", valid_until=date(2026, 3, 31))
    with freeze_time(jst(2026, 3, 1), tick=True):
        assert machi("sale", "offer-add", "--code", "OLD1", "--name", "昨年度券", "--price", "10000",
                     "--component", "OLD=12000").exit_code == 0
    with freeze_time(jst(2026, 4, 2), tick=True):
        with pytest.raises(OutsideWindow, match="有効期限が終わっています"):
            sales.sell(core.uow, resident_id=town.residents[0], offer_code="OLD1", sets=1, idempotency_key="k1")
        res = machi("sale", "record", "--resident", str(town.residents[0]), "--offer", "OLD1", "--receipt", "R9")
        assert res.exit_code != 0 and "2026年3月31日で有効期限が終わっています" in res.output, res.output
        with core.db.session() as s:
            assert s.execute(select(Lot.id)).first() is None


# 4 --------------------------------------------------------------------------------------------------------


def test_points_exchanged_after_the_voucher_ended_are_refused_not_lost(town, core):
    with core.db.write() as s:
        registry.create_money_type(s, code="VOUCH", name="交換券", kind="coupon", valid_until=date(2027, 3, 31))
        registry.add_exchange_rule(s, "PT", "VOUCH", 1, 1)
    with freeze_time(jst(2027, 3, 20), tick=True):
        issuing.issue(core.uow, resident_id=town.residents[0], money_type="PT", amount=500, reason="event",
                      idempotency_key="pt-1")
    with freeze_time(jst(2027, 4, 1), tick=True):
        with pytest.raises(OutsideWindow, match="有効期限が終わっています"):
            transfers.exchange(core.uow, resident_id=town.residents[0], from_type="PT", to_type="VOUCH", amount=500,
                               idempotency_key="ex-1")
        with core.db.session() as s:
            vouch = s.execute(select(MoneyType.id).where(MoneyType.code == "VOUCH")).scalar_one()
            assert s.execute(select(Lot.id).where(Lot.money_type_id == vouch)).first() is None


# 9 --------------------------------------------------------------------------------------------------------


def test_the_expiry_people_are_told_is_the_last_day_the_balance_shows(town, core):
    with core.db.write() as s:
        registry.create_money_type(s, code="WIN", name="冬券", kind="grant", valid_until=date(2027, 3, 31))
        mt = s.execute(select(MoneyType.id).where(MoneyType.code == "WIN")).scalar_one()
        s.add(GrantProgram(code="W27", name="冬の応援", money_type_id=mt, amount=5000, mode="claim"))
    with freeze_time(jst(2026, 12, 10), tick=True):
        res = grants.award(core.uow, program_code="W27", resident_id=town.residents[0])
        assert res.expires_on == date(2027, 3, 31)
        many = grants.award_many(core.uow, program_code="W27", resident_ids=[town.residents[1]])
        assert many.awarded[0].expires_on == date(2027, 3, 31)


# 5, 6, 7: payouts ---------------------------------------------------------------------------------------

REMITTER = ["payout", "remitter", "--code", "1234567890", "--name", "トママエチョウ", "--bank", "1022",
            "--branch", "007", "--number", "7654321"]
SHOP_BANK = ["merchant", "bank", "M001", "--bank", "1022", "--branch", "007", "--number", "1234567",
             "--holder", "コムギベーカリー"]


def _statement(out: Path, batch_folder: str) -> dict[str, int]:
    text_ = (out / Path(batch_folder).name / "statements" / "M001.csv").read_text(encoding="utf-8-sig")
    return {row[0]: int(row[1]) for row in csv.reader(io.StringIO(text_)) if len(row) == 2 and row[1].lstrip("-").isdigit()}


def test_payout_dry_run_refuses_like_the_run_without_the_towns_account(town, line_env, core, tmp_path):
    with freeze_time(jst(2027, 1, 10), tick=True):
        issuing.issue(core.uow, resident_id=town.residents[0], money_type="GRANT", amount=5000, reason="grant",
                      idempotency_key="g1")
        payments.pay(core.uow, resident_id=town.residents[0], amount=1000, idempotency_key="p1", merchant_code="M001")
    with freeze_time(jst(2027, 1, 20), tick=True):
        dry = machi("payout", "run", "--from", "2027-01-01", "--to", "2027-01-15", "--out", str(tmp_path), "--dry-run")
        assert dry.exit_code != 0 and "振込元" in dry.output, dry.output
        assert machi(*REMITTER).exit_code == 0
        dry = machi("payout", "run", "--from", "2027-01-01", "--to", "2027-01-15", "--out", str(tmp_path), "--dry-run")
        assert dry.exit_code != 0 and "M001" in dry.output, dry.output  # the shop's own account is missing too
        assert machi(*SHOP_BANK).exit_code == 0
        dry = machi("payout", "run", "--from", "2027-01-01", "--to", "2027-01-15", "--out", str(tmp_path), "--dry-run")
        assert dry.exit_code == 0, dry.output


def test_transfer_dates_are_bank_business_days_and_never_in_the_past():
    assert not bank_days.is_business_day(date(2027, 1, 11))  # 成人の日 (the library's, not ours)
    assert not bank_days.is_business_day(date(2026, 12, 31)) and not bank_days.is_business_day(date(2027, 1, 3))
    assert not bank_days.is_business_day(date(2027, 5, 3))  # 憲法記念日
    assert bank_days.transfer_date(date(2026, 12, 28), 5, date(2026, 12, 29)) == date(2027, 1, 4)
    assert bank_days.transfer_date(date(2027, 1, 2), 5, date(2027, 1, 3)) == date(2027, 1, 7)
    assert bank_days.transfer_date(date(2027, 4, 28), 5, date(2027, 4, 29)) == date(2027, 5, 6)  # after 5/3–5/5
    # caught up on 2/1 for a period that ended 1/15: the transfer is dated ahead, not 1/20
    assert bank_days.transfer_date(date(2027, 1, 15), 5, date(2027, 2, 1)) == date(2027, 2, 2)
    assert payout_files.default_transfer_date(date(2027, 1, 15), today=date(2027, 2, 1)) == date(2027, 2, 2)


def test_statements_add_up_per_batch_when_a_refund_draws_an_older_receipt(town, line_env, core, tmp_path):
    rid = town.residents[0]
    with freeze_time(jst(2027, 1, 12), tick=True):
        issuing.issue(core.uow, resident_id=rid, money_type="GRANT", amount=20000, reason="grant",
                      idempotency_key="g1")
        a = payments.pay(core.uow, resident_id=rid, amount=1000, idempotency_key="p1", merchant_code="M001")
        payments.pay(core.uow, resident_id=rid, amount=2000, idempotency_key="p2", merchant_code="M001")
    with freeze_time(jst(2027, 1, 16), tick=True):  # next period: a sale, and a refund of a 1/12 payment
        payments.pay(core.uow, resident_id=rid, amount=5000, idempotency_key="p3", merchant_code="M001")
        payments.refund(core.uow, payment_entry_id=a.entry_id, merchant_id=a.merchant_id, idempotency_key="r1")
    assert machi(*REMITTER).exit_code == 0 and machi(*SHOP_BANK).exit_code == 0
    with freeze_time(jst(2027, 1, 18), tick=True):
        first = machi("--json", "payout", "run", "--from", "2027-01-01", "--to", "2027-01-15", "--out", str(tmp_path))
        assert first.exit_code == 0, first.output
        overlap = machi("payout", "run", "--from", "2027-01-10", "--to", "2027-01-17", "--out", str(tmp_path))
        assert overlap.exit_code != 0 and "重なっています" in overlap.output, overlap.output
    with freeze_time(jst(2027, 2, 1), tick=True):
        second = machi("--json", "payout", "run", "--from", "2027-01-16", "--to", "2027-01-31", "--out", str(tmp_path))
        assert second.exit_code == 0, second.output
    total = 0
    for res in (first, second):
        data = json.loads(res.stdout)
        st = _statement(tmp_path, data["folder"])
        fee = next(v for k, v in st.items() if k.startswith("手数料"))
        assert st["受取額（お支払い）"] - st["返金額"] + st["前の期間からの繰越・調整"] - fee == st["振込額"], st
        total += st["振込額"]
    assert total == 7000 - 70  # 1% fee on 7,000 yen kept, over both batches
    with core.db.session() as s:
        dates = list(s.execute(select(PayoutBatch.transfer_date).order_by(PayoutBatch.id)).scalars())
    assert all(bank_days.is_business_day(d) for d in dates) and dates[1] > date(2027, 2, 1)


# 12 -------------------------------------------------------------------------------------------------------


def test_an_announcement_missed_while_the_scheduler_was_down_is_expired_not_sent_months_late(
        town, line_env, core, fake_line, tmp_path):
    with freeze_time(jst(2026, 12, 1), tick=True):
        res = machi("announce", "create", "--title", "もちつき大会", "--all", "--text", "明日はもちつき大会です",
                    "--at", "2026-12-19 09:00")
        assert res.exit_code == 0, res.output
        soon = machi("announce", "create", "--title", "新年会", "--all", "--text", "新年会のご案内",
                     "--at", "2027-03-01 09:00")
        assert soon.exit_code == 0, soon.output
    scheduler.install(line_runtime(core, lambda: line_sender(load_config(), installation.namespace(core.db)), payout_dir=tmp_path))
    try:
        with freeze_time(jst(2027, 3, 1, 9) + timedelta(minutes=5), tick=True):  # back after months
            out = scheduler.job_announcements()
    finally:
        scheduler._runtime = None
    assert len(out["expired"]) == 1 and len(out["sent"]) == 1
    line = next(iter(town.line_ids.values()))
    assert fake_line.deliveries(line, "もちつき") == [] and len(fake_line.deliveries(line, "新年会")) == 1
    listed = machi("announce", "list")
    assert "期限切れ" in listed.output
    with core.db.session() as s:
        told = s.execute(select(AuditLog.result).where(AuditLog.action == "scheduler.announce_expired")).scalars().all()
    assert len(told) == 1 and "もちつき大会" in told[0]


# 10 -------------------------------------------------------------------------------------------------------


def test_survey_results_never_print_typed_answers_however_short(town, line_env, core):
    with core.db.write() as s:
        for n, (score, comment) in enumerate([(5, "山田 090-1234"), (4, "良い"), (5, None)]):
            s.add(SurveyResponse(survey_id="satisfaction_2026", resident_key=f"r{n}",
                                 answers={"satisfaction": score, **({"comment": comment} if comment else {})},
                                 score=score))
    res = machi("survey", "results", "satisfaction_2026")
    assert res.exit_code == 0, res.output
    assert "090-1234" not in res.output and "山田" not in res.output and "良い" not in res.output
    assert "comment: 自由記述 2 件" in res.output and "5 2件" in res.output  # chosen answers are still counted


# 11, 13 (counter registration) ----------------------------------------------------------------------------


def test_a_resident_already_registered_in_line_is_not_given_a_second_wallet_at_the_counter(town, line_env, core):
    with core.db.write() as s:  # registered in LINE (verification pending)
        registry.create_resident(s, line_user_id="U" + "b" * 32, name="山田 花子", name_kana="ヤマダ ハナコ",
                                 birth_date=date(1948, 5, 1), district="古丹別", verification="unverified")
    base = ["resident", "add", "--name", "山田　花子", "--kana", "やまだ はなこ", "--birth", "1948-05-01",
            "--district", "古丹別"]
    for args in (base, [*base, "--dry-run"]):
        res = machi(*args)
        assert res.exit_code != 0 and "すでに登録されています" in res.output and "LINE登録" in res.output, res.output
    with core.db.session() as s:
        assert len(s.execute(select(Resident.id).where(Resident.birth_date == date(1948, 5, 1))).all()) == 1
    twin = machi(*base, "--not-duplicate")  # staff checked: a different person of the same name
    assert twin.exit_code == 0, twin.output


def test_counter_registration_refuses_an_unknown_district_and_kana_that_is_not_kana(town, line_env, core):
    base = ["resident", "add", "--name", "佐藤 一郎", "--birth", "1950-01-01"]
    res = machi(*base, "--kana", "test", "--district", "苫前")
    assert res.exit_code != 0 and "カナ" in res.output, res.output
    res = machi(*base, "--kana", "サトウ イチロウ", "--district", "東京")
    assert res.exit_code != 0 and "地区「東京」はありません" in res.output, res.output
    with core.db.session() as s:
        assert s.execute(select(Resident.id).where(Resident.name == "佐藤 一郎")).first() is None
    assert machi(*base, "--kana", "さとう いちろう", "--district", "苫前").exit_code == 0


# 14 -------------------------------------------------------------------------------------------------------


def test_the_kpi_for_a_period_counts_no_grant_paid_after_its_end(town, core):
    with freeze_time(jst(2027, 3, 20), tick=True):
        grants.award(core.uow, program_code="WINTER", resident_id=town.residents[0])
    with freeze_time(jst(2027, 4, 2), tick=True):  # next fiscal year
        grants.award(core.uow, program_code="WINTER", resident_id=town.residents[1])
        with core.db.engine.connect() as conn:
            k = kpi.compute(conn, date(2027, 3, 1), date(2027, 3, 31))
    winter = next(g for g in k.grants if g["program"] == "WINTER")
    assert winter["received"] == 1 and winter["issued"] == 5000


# 8 --------------------------------------------------------------------------------------------------------


def test_staff_jobs_store_their_notices_buyers_and_shop_owners_hear_once_grant_runs_once(
        town, line_env, core, fake_line, tmp_path):
    owner = "U" + "c" * 32
    with core.db.write() as s:
        registry.add_staff(s, "M001", owner, "owner", "小麦 太郎")
    buyer = town.residents[0]
    with freeze_time(jst(2027, 1, 10), tick=True):
        assert machi("sale", "offer-add", "--code", "P27", "--name", "商品券2027", "--price", "10000",
                     "--component", "PREM=13000").exit_code == 0
        assert machi("sale", "record", "--resident", str(buyer), "--offer", "P27", "--receipt", "R1").exit_code == 0
        payments.pay(core.uow, resident_id=buyer, amount=3000, idempotency_key="p1", merchant_code="M001")
        ran = machi("grant", "run", "BABY")  # residents 1–4 are told by the run's own multicast
        assert ran.exit_code == 0, ran.output
    assert machi(*REMITTER).exit_code == 0 and machi(*SHOP_BANK).exit_code == 0
    with freeze_time(jst(2027, 1, 20), tick=True):
        assert machi("payout", "run", "--from", "2027-01-01", "--to", "2027-01-15", "--out", str(tmp_path)
                     ).exit_code == 0
    told = machi("notices", "--once", "--nice", "0")
    assert told.exit_code == 0, told.output
    assert len(fake_line.deliveries(town.line_ids[buyer], "商品券を購入しました")) == 1
    assert len(fake_line.deliveries(owner, "精算のお知らせ")) == 1
    for rid in town.residents[1:4]:  # the grant's only news to them: one message each, not two
        assert len(fake_line.deliveries(town.line_ids[rid])) == 1, rid
    assert machi("notices", "--once", "--nice", "0").exit_code == 0  # nothing is sent twice
    assert len(fake_line.deliveries(town.line_ids[buyer], "商品券を購入しました")) == 1


# one rule per question: grants wait for 本人確認 ----------------------------------------------------------


def test_a_grant_is_not_paid_while_verification_is_pending(town, line_env, core):
    with core.db.write() as s:
        pending = registry.create_resident(s, line_user_id="U" + "d" * 32, name="未確認 さん", children=1,
                                           birth_date=date(1990, 1, 1), verification="unverified").id
    dry = machi("grant", "run", "BABY", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert machi("grant", "run", "BABY").exit_code == 0
    assert pending not in town.entries_per_resident("grant:BABY")
    assert set(town.entries_per_resident("grant:BABY")) == set(town.residents[:4])
    with pytest.raises(NotEligible, match="本人確認"):
        grants.award(core.uow, program_code="WINTER", resident_id=pending)
    with core.db.engine.connect() as conn:
        prog = conn.execute(select(GrantProgram).where(GrantProgram.code == "WINTER")).first()
        assert grants.standing(conn, prog, pending, datetime.utcnow()) == "unverified"


# 13 -------------------------------------------------------------------------------------------------------


def _refused_in_japanese(res, *fragments: str) -> None:
    assert res.exit_code != 0, res.output
    assert "Traceback" not in res.output and "Missing" not in res.output and "Error:" not in res.output, res.output
    for f in fragments:
        assert f in res.output, res.output


def test_nonsense_set_ups_are_refused_and_every_refusal_is_japanese(town, line_env, core):
    with core.db.session() as s:
        before = {m: s.execute(select(func.count()).select_from(m)).scalar_one()
                  for m in (SaleOffer, GrantProgram, Event, MoneyType)}
    _refused_in_japanese(machi("sale", "offer-add", "--code", "LOSS", "--name", "損な券", "--price", "10000",
                               "--component", "PREM=8000"), "額面")
    _refused_in_japanese(machi("grant", "create", "--code", "PAST", "--name", "昨年の給付", "--money-type", "GRANT",
                               "--amount", "1000", "--ends", "2020-03-31 17:00"), "過ぎています")
    _refused_in_japanese(machi("event", "create", "--code", "SELL", "--name", "清掃", "--money-type", "PREM",
                               "--points", "500", "--starts", "2030-01-01 09:00", "--ends", "2030-01-01 12:00"),
                         "前払式")
    _refused_in_japanese(machi("money-type", "add", "--code", "BOTH", "--name", "両方", "--kind", "coupon",
                               "--validity-days", "30", "--valid-until", "2030-03-31"), "どちらか一方")
    _refused_in_japanese(machi("resident", "suspend", str(town.residents[0])), "オプション --reason を指定してください")
    _refused_in_japanese(machi("resident", "list", "--limt", "3"), "--limt というオプションはありません")
    _refused_in_japanese(machi("residnt"), "「residnt」というコマンドはありません")
    with core.db.session() as s:
        assert before == {m: s.execute(select(func.count()).select_from(m)).scalar_one() for m in before}
