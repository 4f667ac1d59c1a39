"""Paying at shops and refunds, as a resident and a clerk would notice them."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from ledger import errors
from ledger.clock import today_jst
from ledger.models import Entry, Lot
from ledger.services import payments, sales


def _entries(town) -> int:
    with town.db.session() as s:
        return s.execute(select(func.count()).select_from(Entry)).scalar_one()


def pay(town, amount, shop=None, key=None, **kw):
    return payments.pay(town.uow, resident_id=kw.pop("resident", town.alice), merchant_id=shop or town.small,
                        amount=amount, idempotency_key=key or f"k-{amount}-{_entries(town)}", **kw)


def test_small_shop_spends_shop_only_certificates_first(town):
    sales.sell(town.uow, resident_id=town.alice, offer_code="SET", sets=1, idempotency_key="buy")
    res = pay(town, 8_000)
    assert res.breakdown == {"LOCAL": 6_500, "COMMON": 1_500}
    assert town.balance(town.alice, "LOCAL") == 0 and town.balance(town.alice, "COMMON") == 5_000


def test_soonest_expiring_lot_is_drawn_first(town):
    town.give(town.alice, "COMMON", 1_000)
    town.give(town.alice, "GRANT", 1_000)  # grant expires in 30 days, common in 2099
    res = pay(town, 1_200, shop=town.large)
    assert res.breakdown == {"GRANT": 1_000, "COMMON": 200}


def test_large_store_refuses_shop_only_certificates_and_says_why(town):
    sales.sell(town.uow, resident_id=town.alice, offer_code="SET", sets=1, idempotency_key="buy")
    before = _entries(town)
    with pytest.raises(errors.InsufficientFunds) as exc:
        pay(town, 7_000, shop=town.large)
    assert "6,500円" in exc.value.message and "専用券" in exc.value.message and "使えません" in exc.value.message
    assert _entries(town) == before
    assert town.balance(town.alice) == 13_000


@pytest.mark.parametrize("amount", [0, -100, 1.5, True, "100", None])
def test_bad_amounts_are_refused(town, amount):
    town.give(town.alice, "COMMON", 1_000)
    with pytest.raises(errors.InvalidAmount):
        pay(town, amount)
    assert town.balance(town.alice) == 1_000


def test_payment_limit(town):
    town.give(town.alice, "COMMON", 100_000)
    with pytest.raises(errors.OverPaymentLimit) as exc:
        pay(town, 50_001)
    assert "50,000円まで" in exc.value.message
    assert pay(town, 50_000).amount == 50_000


def test_points_cannot_pay_at_a_shop(town):
    town.give(town.alice, "PT", 1_000)
    with pytest.raises(errors.InsufficientFunds):
        pay(town, 500)


def test_suspended_resident_and_unknown_shop_are_refused(town):
    town.give(town.alice, "COMMON", 1_000)
    with pytest.raises(errors.NotFound):
        payments.pay(town.uow, resident_id=town.alice, merchant_code="NOPE", amount=100, idempotency_key="x")
    from ledger.models import Resident

    with town.db.write() as s:
        s.get(Resident, town.alice).status = "suspended"
    with pytest.raises(errors.AccountInactive):
        pay(town, 100)


def test_replay_returns_the_first_result_and_reuse_with_other_amount_is_refused(town):
    town.give(town.alice, "COMMON", 1_000)
    first = pay(town, 300, key="same")
    again = pay(town, 300, key="same")
    assert again.entry_id == first.entry_id and again.replayed
    assert town.balance(town.alice) == 700
    with pytest.raises(errors.IdempotencyConflict):
        pay(town, 400, key="same")
    assert town.balance(town.alice) == 700


def test_a_customer_qr_pays_once(town):
    town.give(town.alice, "COMMON", 1_000)
    pay(town, 100, nonce="tok-1")
    with pytest.raises(errors.TokenUsed):
        pay(town, 100, nonce="tok-1")
    assert town.balance(town.alice) == 900


def test_refund_goes_back_into_the_same_lots_once(town):
    sales.sell(town.uow, resident_id=town.alice, offer_code="SET", sets=1, idempotency_key="buy")
    p = pay(town, 8_000)
    r = payments.refund(town.uow, payment_entry_id=p.entry_id, merchant_id=town.small, idempotency_key="rf")
    assert r.amount == 8_000
    assert town.balance(town.alice, "LOCAL") == 6_500 and town.balance(town.alice, "COMMON") == 6_500
    with town.db.session() as s:
        assert s.execute(select(func.count()).select_from(Lot).where(Lot.account_id != 0, Lot.amount == 6_500)
                         ).scalar_one() >= 2
    with pytest.raises(errors.AlreadyDone):
        payments.refund(town.uow, payment_entry_id=p.entry_id, merchant_id=town.small, idempotency_key="rf2")


def test_refund_only_by_the_shop_paid_and_inside_the_window(town):
    town.give(town.alice, "COMMON", 1_000)
    p = pay(town, 500)
    with pytest.raises(errors.NotFound):
        payments.refund(town.uow, payment_entry_id=p.entry_id, merchant_id=town.large, idempotency_key="r1")
    later = town.at(datetime.utcnow() + timedelta(days=31))
    with pytest.raises(errors.RefundNotAllowed) as exc:
        payments.refund(later, payment_entry_id=p.entry_id, merchant_id=town.small, idempotency_key="r2")
    assert "30日" in exc.value.message


def test_refund_of_money_that_expired_meanwhile_gets_a_grace_period(town):
    town.give(town.alice, "GRANT", 1_000)  # valid 30 days
    p = pay(town, 600, shop=town.large)
    later = datetime.utcnow() + timedelta(days=29, hours=23)
    after_expiry = town.at(later + timedelta(days=2))
    after_expiry.policy = replace(after_expiry.policy, refund_window_days=60)
    payments.refund(after_expiry, payment_entry_id=p.entry_id, merchant_id=town.large, idempotency_key="r")
    with town.db.session() as s:
        lot = s.execute(select(Lot).where(Lot.amount == 600, Lot.account_id != 0).order_by(Lot.id.desc())).scalars().first()
    assert lot.remaining == 600
    assert lot.expires_at > later + timedelta(days=14)


def test_refund_after_payout_is_refused_with_advice(town):
    from ledger.services import payouts

    town.give(town.alice, "COMMON", 1_000)
    p = payments.pay(town.at(datetime.utcnow() - timedelta(days=1)), resident_id=town.alice, merchant_id=town.small,
                     amount=500, idempotency_key="yesterday")
    today = today_jst()
    payouts.run_payouts(town.uow, today - timedelta(days=1), today - timedelta(days=1), today + timedelta(days=5))
    with pytest.raises(errors.RefundNotAllowed) as exc:
        payments.refund(town.uow, payment_entry_id=p.entry_id, merchant_id=town.small, idempotency_key="r")
    assert "精算済み" in exc.value.message
    assert town.balance(town.alice) == 500


def test_payment_publishes_an_event_after_commit(town):
    town.give(town.alice, "COMMON", 1_000)
    pay(town, 250)
    done = [e for e in town.events if type(e).__name__ == "PaymentCompleted"]
    assert done and done[-1].amount == 250 and done[-1].merchant_id == town.small
