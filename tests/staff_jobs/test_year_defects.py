"""Issue #13, "Town services": each defect found playing town staff through a year, as staff and residents
met it (the clock moved forward with freezegun). Each test failed before its fix."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from ledger import registry
from ledger.clock import jst_midnight_utc
from ledger.errors import OutsideWindow
from ledger.models import GrantProgram, Lot, MoneyType, SaleApplication
from ledger.services import grants, issuing, sales, transfers
from tests.staff_jobs.conftest import machi


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
    with freeze_time(jst(2027, 1, 4, 1), tick=True):  # the winner's deadline (1/3) has passed
        assert sales.sets_bought(core.db.engine.connect(), "LOT27", winner) == 1


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
