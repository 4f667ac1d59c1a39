"""A town's year, December to the next October, with the clock moved forward (freezegun): what staff
and residents see at each step. offer → applications → draw → winners buy → grants → events → payouts on
business days → the 3/31 report → expiry → reminders → next year's offer."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from freezegun import freeze_time
from sqlalchemy import select

from admin_cli.context import line_sender
from admin_cli.scheduler_cmds import line_runtime
from config import load_config
from ledger import bank_days, installation
from ledger.clock import jst_midnight_utc
from ledger.models import Lot, PayoutBatch, SaleApplication
from ledger.queries import balances
from ledger.services import checkins, grants, payments, sales
from tests.staff_jobs.conftest import machi
from town import scheduler
from town.reports import kpi

REMITTER = ["payout", "remitter", "--code", "1234567890", "--name", "トママエチョウ", "--bank", "1022",
            "--branch", "007", "--number", "7654321"]
SHOP_BANK = ["merchant", "bank", "M001", "--bank", "1022", "--branch", "007", "--number", "1234567",
             "--holder", "コムギベーカリー"]


def at(y: int, m: int, d: int, hour: int = 10) -> freeze_time:
    """The clock at a Tokyo wall-clock time."""
    return freeze_time(jst_midnight_utc(date(y, m, d)) + timedelta(hours=hour), tick=True)


def ok(*args: str):
    res = machi(*args)
    assert res.exit_code == 0, res.output
    return res


def test_a_year_of_the_town(town, line_env, core, fake_line, tmp_path):
    line = town.line_ids
    scheduler.install(line_runtime(core, lambda: line_sender(load_config(), installation.namespace(core.db)), payout_dir=tmp_path / "po"))
    try:
        _walk(town, core, fake_line, line, tmp_path)
    finally:
        scheduler._runtime = None


def _walk(town, core, fake_line, line, tmp_path):
    # --- December: the lottery offer, applications, a draw refused before the deadline, then the draw
    with at(2026, 12, 1):
        ok("money-type", "add", "--code", "PREM27", "--name", "商品券2027", "--kind", "prepaid",
           "--valid-until", "2027-03-31")
        ok("sale", "offer-add", "--code", "LOT27", "--name", "抽選商品券2027", "--price", "10000",
           "--component", "PREM27=13000", "--lottery", "--total-sets", "2", "--limit", "1",
           "--starts", "2026-12-01 09:00", "--ends", "2026-12-20 17:00")
        for rid in town.residents[:4]:
            sales.apply(core.uow, resident_id=rid, offer_code="LOT27", sets=1)
    with at(2026, 12, 15):
        early = machi("sale", "draw", "LOT27")
        assert early.exit_code != 0 and "受付中" in early.output
    with at(2026, 12, 21):
        drawn = ok("sale", "draw", "LOT27", "--seed", "year", "--purchase-days", "14")
        assert "購入期限 2027-01-03" in drawn.output
    with core.db.session() as s:
        won = [r for r, st in s.execute(select(SaleApplication.resident_id, SaleApplication.status)) if st == "won"]
    winner = next(r for r in won if r in line)
    told = fake_line.deliveries(line[winner], "当選")
    assert len(told) == 1 and "1月3日" in json.dumps(told[0].messages, ensure_ascii=False)

    # --- the winner buys after the application deadline, inside their own window; a receipt arrives
    with at(2026, 12, 28):
        ok("sale", "record", "--resident", str(winner), "--offer", "LOT27", "--receipt", "R-1")
    ok("notices", "--once", "--nice", "0")
    assert len(fake_line.deliveries(line[winner], "商品券を購入しました")) == 1

    # --- January: a push grant to families, told once each
    with at(2027, 1, 12):
        ok("grant", "run", "BABY")
    for rid in town.residents[1:4]:
        if rid != winner:
            assert len([d for d in fake_line.deliveries(line[rid]) if "当選" not in json.dumps(d.messages, ensure_ascii=False)
                        and "落選" not in json.dumps(d.messages, ensure_ascii=False)]) == 1

    # --- February: a beach clean-up pays points; residents pay at the bakery
    with at(2027, 2, 1):
        ok("event", "create", "--code", "KAIGAN", "--name", "海岸清掃", "--money-type", "PT", "--points", "500",
           "--starts", "2027-02-01 08:00", "--ends", "2027-02-01 17:00")
        res = checkins.check_in(core.uow, event_code="kaigan", resident_id=town.residents[5])
        assert res.expires_on == date(2027, 3, 3)  # 31 days including the day of the event
        payments.pay(core.uow, resident_id=winner, amount=4000, idempotency_key="feb-1", merchant_code="M001")

    # --- payouts: closing February on Monday 3/1, the transfer is a bank business day ahead
    ok(*REMITTER)
    ok(*SHOP_BANK)
    with at(2027, 3, 1):
        ok("payout", "run", "--from", "2027-02-01", "--to", "2027-02-28", "--out", str(tmp_path))
    with core.db.session() as s:
        batch = s.execute(select(PayoutBatch)).scalar_one()
    assert bank_days.is_business_day(batch.transfer_date) and batch.transfer_date == date(2027, 3, 5)

    # --- reminders a week before the points end, once
    with at(2027, 2, 24, 8):
        assert scheduler.job_remind()["sent"] == 1
        assert scheduler.job_remind()["sent"] == 0
    assert len(fake_line.deliveries(line[town.residents[5]], "3月3日")) == 1

    # --- 3/31: the fiscal year's report counts no grant paid after its end
    with at(2027, 4, 1):
        grants.award(core.uow, program_code="WINTER", resident_id=town.residents[6])  # paid on 4/1
        with core.db.engine.connect() as conn:
            k = kpi.compute(conn, date(2027, 1, 1), date(2027, 3, 31))
        winter = next(g for g in k.grants if g["program"] == "WINTER")
        assert winter["received"] == 0

    # --- expiry: the vouchers end with 3/31, the points with 3/3; nothing of them is left to spend
        scheduler.job_expire()
        with core.db.session() as s:
            acc = s.execute(select(Lot.account_id).where(Lot.remaining == 0)).first()
            assert acc is not None
            left = {b.money_type for r in (winner, town.residents[5])
                    for b in balances(s.connection(), _account(s, r), datetime.utcnow())}
        assert "PREM27" not in left and "PT" not in left

    # --- October: next year's offer; last year's money type cannot be sold any more
    with at(2027, 10, 1):
        old = machi("sale", "offer-add", "--code", "OLD", "--name", "昨年度券", "--price", "10000",
                    "--component", "PREM27=13000")
        assert old.exit_code == 0  # the offer may be written down ...
        refused = machi("sale", "record", "--resident", str(town.residents[7]), "--offer", "OLD", "--receipt", "R-9")
        assert refused.exit_code != 0 and "有効期限が終わっています" in refused.output  # ... but never sold
        ok("money-type", "add", "--code", "PREM28", "--name", "商品券2028", "--kind", "prepaid",
           "--valid-until", "2028-03-31")
        ok("sale", "offer-add", "--code", "LOT28", "--name", "抽選商品券2028", "--price", "10000",
           "--component", "PREM28=13000", "--lottery", "--total-sets", "100", "--limit", "2",
           "--starts", "2027-10-01 09:00", "--ends", "2027-10-31 17:00")
        assert sales.apply(core.uow, resident_id=winner, offer_code="LOT28", sets=2).sets == 2


def _account(s, resident_id: int) -> int:
    from ledger.models import Resident  # noqa: PLC0415

    return s.execute(select(Resident.account_id).where(Resident.id == resident_id)).scalar_one()
