"""Grants, event points, certificate sales, transfers, exchange, expiry, payouts and corrections."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from ledger import errors, registry
from ledger.clock import today_jst
from ledger.models import Entry, Payout, Resident, SaleApplication, SaleDraw, SaleOffer
from ledger.services import checkins, corrections, expiry, grants, payments, payouts, sales, transfers


def test_grant_credits_an_eligible_resident_once(town):
    res = grants.award(town.uow, program_code="BABY", resident_id=town.alice)
    assert res.amount == 30_000 and town.balance(town.alice, "GRANT") == 30_000
    with pytest.raises(errors.AlreadyDone) as exc:
        grants.award(town.uow, program_code="BABY", resident_id=town.alice)
    assert "すでに受け取って" in exc.value.message
    assert town.balance(town.alice, "GRANT") == 30_000


def test_grant_refuses_the_ineligible_and_respects_the_budget(town):
    with pytest.raises(errors.NotEligible):
        grants.award(town.uow, program_code="BABY", resident_id=town.bob)
    with town.db.write() as s:
        s.execute(update(Resident).values(children=2))
        extra = [registry.create_resident(s, line_user_id=f"U{i:032d}", children=1, verification="counter")
                 for i in range(2)]
        ids = [r.id for r in extra]
    grants.award(town.uow, program_code="BABY", resident_id=town.alice)
    grants.award(town.uow, program_code="BABY", resident_id=town.bob)
    with pytest.raises(errors.BudgetExhausted):
        grants.award(town.uow, program_code="BABY", resident_id=ids[0])


def test_check_in_once_inside_the_window_and_capacity(town):
    res = checkins.check_in(town.uow, event_code="beach", resident_id=town.alice)
    assert res.amount == 500 and town.balance(town.alice, "PT") == 500
    with pytest.raises(errors.AlreadyDone):
        checkins.check_in(town.uow, event_code="BEACH", resident_id=town.alice)
    with pytest.raises(errors.OutsideWindow) as exc:  # capacity 1
        checkins.check_in(town.uow, event_code="BEACH", resident_id=town.bob)
    assert "定員" in exc.value.message
    with pytest.raises(errors.NotFound):
        checkins.check_in(town.uow, event_code="NOPE", resident_id=town.bob)
    late = town.at(datetime.utcnow() + timedelta(days=1))
    with pytest.raises(errors.OutsideWindow):
        checkins.check_in(late, event_code="BEACH", resident_id=town.bob)


def test_sale_gives_the_premium_and_keeps_the_price(town):
    res = sales.sell(town.uow, resident_id=town.alice, offer_code="SET", sets=2, idempotency_key="b")
    assert res.price == 20_000 and res.face == {"COMMON": 13_000, "LOCAL": 13_000}
    assert town.balance(town.alice) == 26_000
    with pytest.raises(errors.NotAllowed) as exc:
        sales.sell(town.uow, resident_id=town.alice, offer_code="SET", sets=1, idempotency_key="c")
    assert "2セットまで" in exc.value.message


def test_lottery_offer_sells_only_to_winners(town):
    with town.db.write() as s:
        s.execute(update(SaleOffer).values(lottery=True))
        offer_id = s.execute(select(SaleOffer.id)).scalar_one()
        s.add(SaleApplication(offer_id=offer_id, resident_id=town.alice, sets=1, status="won"))
    with pytest.raises(errors.NotAllowed):
        sales.sell(town.uow, resident_id=town.bob, offer_code="SET", sets=1, idempotency_key="b")
    sales.sell(town.uow, resident_id=town.alice, offer_code="SET", sets=1, idempotency_key="a")


def test_wallet_balance_limit(town):
    town.give(town.alice, "COMMON", 199_000)
    with pytest.raises(errors.OverBalanceLimit):
        town.give(town.alice, "COMMON", 2_000)
    assert town.balance(town.alice) == 199_000


def test_transfer_only_where_the_money_type_allows(town):
    town.give(town.alice, "GIFT", 1_000)
    town.give(town.alice, "COMMON", 1_000)
    transfers.transfer(town.uow, from_wallet=f"resident:{town.alice}", to_wallet=f"resident:{town.bob}",
                       money_type="GIFT", amount=400, idempotency_key="t1")
    assert town.balance(town.bob, "GIFT") == 400
    with pytest.raises(errors.NotAllowed):
        transfers.transfer(town.uow, from_wallet=f"resident:{town.alice}", to_wallet=f"resident:{town.bob}",
                           money_type="COMMON", amount=100, idempotency_key="t2")
    with pytest.raises(errors.NotAllowed):
        transfers.transfer(town.uow, from_wallet=f"resident:{town.alice}", to_wallet="merchant:S1",
                           money_type="GIFT", amount=100, idempotency_key="t3")


def test_shops_pass_money_on_to_other_shops(town):
    town.give(town.alice, "COMMON", 1_000)
    payments.pay(town.uow, resident_id=town.alice, merchant_id=town.small, amount=800, idempotency_key="p")
    transfers.transfer(town.uow, from_wallet="merchant:S1", to_wallet="merchant:S2", money_type="COMMON",
                       amount=500, idempotency_key="t")
    with pytest.raises(errors.InsufficientFunds):
        transfers.transfer(town.uow, from_wallet="merchant:S1", to_wallet="merchant:S2", money_type="COMMON",
                           amount=301, idempotency_key="t2")


def test_points_exchange_in_whole_units(town):
    town.give(town.alice, "PT", 1_200)
    with pytest.raises(errors.InvalidInput) as exc:
        transfers.exchange(town.uow, resident_id=town.alice, from_type="PT", to_type="COMMON", amount=700,
                           idempotency_key="x0")
    assert "500ポイント単位" in exc.value.message
    res = transfers.exchange(town.uow, resident_id=town.alice, from_type="PT", to_type="COMMON", amount=1_000,
                             idempotency_key="x1")
    assert res.received == 1_000
    assert town.balance(town.alice, "PT") == 200 and town.balance(town.alice, "COMMON") == 1_000
    with pytest.raises(errors.InsufficientFunds):
        transfers.exchange(town.uow, resident_id=town.alice, from_type="PT", to_type="COMMON", amount=500,
                           idempotency_key="x2")


def test_expiry_moves_expired_money_out_and_shows_in_history(town):
    from ledger.queries import history

    town.give(town.alice, "GRANT", 3_000)
    town.give(town.alice, "COMMON", 1_000)
    later = town.at(datetime.utcnow() + timedelta(days=31))
    res = expiry.expire(later)
    assert res.by_type == {"GRANT": 3_000} and res.lots == 1
    assert town.balance(town.alice) == 1_000
    assert expiry.expire(later).lots == 0  # running twice expires nothing twice
    with town.db.session() as s:
        acc = s.get(Resident, town.alice).account_id
        kinds = [h.kind for h in history(s.connection(), acc)]
    assert kinds[0] == "expiry"


def test_expiring_on_lists_what_ends_that_day(town):
    town.give(town.alice, "GRANT", 3_000)
    with town.db.session() as s:
        due = expiry.expiring_on(s.connection(), today_jst() + timedelta(days=29))
    assert [(d.resident_id, d.money_type, d.amount) for d in due] == [(town.alice, "GRANT", 3_000)]


def test_payout_pays_receipts_less_fee_and_reruns_safely(town):
    town.give(town.alice, "COMMON", 20_000)
    yesterday = town.at(datetime.utcnow() - timedelta(days=1))
    payments.pay(yesterday, resident_id=town.alice, merchant_id=town.small, amount=10_000, idempotency_key="p1")
    p2 = payments.pay(yesterday, resident_id=town.alice, merchant_id=town.small, amount=3_000, idempotency_key="p2")
    payments.refund(yesterday, payment_entry_id=p2.entry_id, merchant_id=town.small, idempotency_key="r2")
    payments.pay(town.uow, resident_id=town.alice, merchant_id=town.small, amount=700, idempotency_key="today")
    today = today_jst()
    run = payouts.run_payouts(town.uow, today - timedelta(days=2), today - timedelta(days=1), today + timedelta(days=3))
    assert run.created == 1
    with town.db.session() as s:
        po = s.execute(select(Payout)).scalar_one()
    assert (po.gross, po.refunds, po.fee, po.net) == (13_000, 3_000, 150, 9_850)
    again = payouts.run_payouts(town.uow, today - timedelta(days=2), today - timedelta(days=1), today + timedelta(days=3))
    assert again.created == 0 and again.total_net == 9_850
    assert payouts.mark_paid(town.uow, run.batch_id) == 1
    with pytest.raises(errors.InvalidInput):
        payouts.run_payouts(town.uow, today, today - timedelta(days=1), today + timedelta(days=3))
    with pytest.raises(errors.InvalidInput) as exc:  # a period that has not ended yet
        payouts.run_payouts(town.uow, today - timedelta(days=1), today, today + timedelta(days=3))
    assert "終わった期間" in exc.value.message
    assert town.balance(town.alice) == 20_000 - 10_000 - 700


def test_corrections_are_new_entries_with_a_reason(town):
    town.give(town.alice, "COMMON", 1_000)
    with pytest.raises(errors.InvalidInput):
        corrections.correct(town.uow, wallet=f"resident:{town.alice}", money_type="COMMON", amount=-100,
                            reason=" ", actor="staff", idempotency_key="c0")
    corrections.correct(town.uow, wallet=f"resident:{town.alice}", money_type="COMMON", amount=-100,
                        reason="二重入金の訂正", actor="staff:tanaka", idempotency_key="c1")
    assert town.balance(town.alice) == 900
    with town.db.session() as s:
        e = s.execute(select(Entry).where(Entry.kind == "correction")).scalar_one()
    assert e.memo == "二重入金の訂正" and e.actor == "staff:tanaka"


def test_lottery_applications_once_within_the_limit_and_period(town):
    with town.db.write() as s:
        s.execute(update(SaleOffer).values(lottery=True))
    res = sales.apply(town.uow, resident_id=town.alice, offer_code="SET", sets=2)
    assert (res.sets, res.price, res.face) == (2, 20_000, 26_000)
    assert town.balance(town.alice) == 0  # nothing is paid until drawn
    with pytest.raises(errors.AlreadyDone) as exc:
        sales.apply(town.uow, resident_id=town.alice, offer_code="SET", sets=1)
    assert "すでに2セットで申し込んでいます" in exc.value.message
    with pytest.raises(errors.InvalidInput):
        sales.apply(town.uow, resident_id=town.bob, offer_code="SET", sets=3)  # over the 2-set limit
    with pytest.raises(errors.InvalidInput):
        sales.apply(town.uow, resident_id=town.bob, offer_code="SET", sets=0)
    with town.db.write() as s:
        offer_id = s.execute(select(SaleOffer.id)).scalar_one()
        s.add(SaleDraw(offer_id=offer_id, seed="x", winners=1))
    with pytest.raises(errors.OutsideWindow):
        sales.apply(town.uow, resident_id=town.bob, offer_code="SET", sets=1)
    with town.db.session() as s:
        assert s.execute(select(func.count()).select_from(SaleApplication)).scalar_one() == 1


def test_an_offer_without_lottery_takes_no_applications(town):
    with pytest.raises(errors.NotAllowed) as exc:
        sales.apply(town.uow, resident_id=town.alice, offer_code="SET", sets=1)
    assert "窓口" in exc.value.message
