"""The ledger's domain events reach the people they concern as LINE pushes, through the fake LINE
server (every payload checked against the OpenAPI spec and the SDK's models after each test):
receipts to the payer and the shop's staff, grant notices, refunds, grant offers."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.town_presenter import LinePresenter
from ledger.events import DomainEvent, PaymentCompleted
from ledger.models import GrantProgram, Merchant, Resident
from ledger.services import grants, payments
from tests.bot.conftest import BAKER, CLERK, EMILY, HANAKO, ISAMU, KENTA, actions, texts
from town.grant_run import claim_notice


def resident_id(machi, line_user_id: str) -> int:
    with machi.db.session() as s:
        return s.execute(select(Resident.id).where(Resident.line_user_id == line_user_id)).scalar_one()


def shop_id(machi, code: str) -> int:
    with machi.db.session() as s:
        return s.execute(select(Merchant.id).where(Merchant.code == code)).scalar_one()


def words(line, user: str) -> str:
    return "\n".join(texts(line.store.messages_to(user)))


@pytest.fixture
def published(machi) -> list[DomainEvent]:
    seen: list[DomainEvent] = []
    machi.bus.subscribe(PaymentCompleted, seen.append)
    return seen


def test_a_payment_sends_a_receipt_to_the_payer_and_every_staff_member(bot, machi, line, published):
    payments.pay(machi.uow, resident_id=resident_id(machi, HANAKO), amount=1200, merchant_code="M001",
                 channel="mpm", idempotency_key="t-receipt-1")
    payer = words(line, HANAKO)
    assert "お支払いが完了しました" in payer and "1,200円" in payer and "こむぎベーカリー" in payer
    shop = words(line, BAKER)
    assert "お支払いを受け付けました" in shop and "1,200円" in shop and "QRコード（お店のQR）" in shop
    assert line.store.messages_to(CLERK) == []  # another shop's clerk hears nothing
    pushes = line.store.requests_to("/v2/bot/message/push")
    assert len(pushes) == 2 and all(r.headers.get("X-Line-Retry-Key") for r in pushes)
    # the same event told again (a retried publish) reaches nobody twice
    bot.notifier.payment(published[0], None)
    assert len(line.store.deliveries_to(HANAKO)) == 1 and len(line.store.deliveries_to(BAKER)) == 1


def test_receipts_speak_the_residents_language(machi, line):
    payments.pay(machi.uow, resident_id=resident_id(machi, EMILY), amount=500, merchant_code="M002",
                 channel="cpm", idempotency_key="t-receipt-en")
    assert "Payment complete" in words(line, EMILY)
    assert "お支払いを受け付けました" in words(line, CLERK)


def test_a_resident_who_blocked_the_account_gets_no_receipt_but_the_shop_does(phone, machi, line):
    phone(HANAKO).unfollow()
    payments.pay(machi.uow, resident_id=resident_id(machi, HANAKO), amount=300, merchant_code="M001",
                 channel="mpm", idempotency_key="t-receipt-blocked")
    assert line.store.messages_to(HANAKO) == []
    assert "300円" in words(line, BAKER)


def test_a_refund_is_told_to_both_sides(machi, line):
    paid = payments.pay(machi.uow, resident_id=resident_id(machi, HANAKO), amount=800, merchant_code="M001",
                        channel="mpm", idempotency_key="t-refund-pay")
    payments.refund(machi.uow, payment_entry_id=paid.entry_id, merchant_id=shop_id(machi, "M001"),
                    idempotency_key="t-refund")
    assert "返金されました" in words(line, HANAKO) and "返金しました" in words(line, BAKER)


def test_a_grant_awarded_by_staff_is_announced_with_a_balance_button(machi, line):
    grants.award(machi.uow, program_code="HEAT2026", resident_id=resident_id(machi, ISAMU), actor="staff")
    said = words(line, ISAMU)
    assert "給付金が届きました" in said and "10,000円" in said and "冬の暮らし応援券" in said
    assert "残高を見る" in [a.get("label") for a in actions(line.store.messages_to(ISAMU))]


def test_a_claim_type_grant_is_offered_once_to_those_eligible(bot, line):
    told = bot.notifier.offer_grant("HEAT2026")
    assert told >= 1
    assert "受け取る" in [a.get("label") for a in actions(line.store.messages_to(ISAMU))]
    assert line.store.messages_to(HANAKO) == [] and line.store.messages_to(KENTA) == []  # 34 / not registered
    assert all(len(r.json["to"]) <= 500 for r in line.store.requests_to("/v2/bot/message/multicast"))
    assert bot.notifier.offer_grant("HEAT2026") == 0  # run again: nobody is told twice
    with pytest.raises(ValueError):
        bot.notifier.offer_grant("BIRTH2026")  # push-type: credited, not offered


def test_receipts_follow_the_shop_staff_and_money_types_as_they_change(machi, line):
    """The notifier keeps money type names for a minute, but never a stale staff list: a clerk
    added to the shop hears the next payment, and a money type made since is named, not coded."""
    from ledger import registry
    from ledger.services import issuing

    payments.pay(machi.uow, resident_id=resident_id(machi, HANAKO), amount=100, merchant_code="M001",
                 channel="mpm", idempotency_key="t-staff-1")
    assert line.store.messages_to(CLERK) == []
    with machi.db.write() as s:
        registry.add_staff(s, "M001", CLERK, role="clerk", name="応援の店員")
        registry.create_money_type(s, code="SUMMER", name="夏まつり券", kind="coupon", validity_days=30)
    issuing.issue(machi.uow, resident_id=resident_id(machi, HANAKO), money_type="SUMMER", amount=200,
                  idempotency_key="t-staff-summer", reason="coupon")
    payments.pay(machi.uow, resident_id=resident_id(machi, HANAKO), amount=1000, merchant_code="M001",
                 channel="mpm", idempotency_key="t-staff-2")
    assert "1,000円" in words(line, CLERK) and "1,000円" in words(line, BAKER)
    assert "夏まつり券" in words(line, HANAKO) and "SUMMER" not in words(line, HANAKO)


def test_the_number_of_notice_threads_is_a_setting(monkeypatch):
    from bot.runtime import notice_workers
    from config import ConfigError, load_config

    monkeypatch.setenv("MACHI_NOTICE_WORKERS", "12")
    assert notice_workers(load_config(env="test")) == 12
    monkeypatch.setenv("MACHI_NOTICE_WORKERS", "")
    assert notice_workers(load_config(env="test")) == 4
    monkeypatch.setenv("MACHI_NOTICE_WORKERS", "many")
    with pytest.raises(ConfigError, match="MACHI_NOTICE_WORKERS"):
        load_config(env="test")
    for unusable in ("0", "-3"):
        monkeypatch.setenv("MACHI_NOTICE_WORKERS", unusable)
        with pytest.raises(ConfigError, match="MACHI_NOTICE_WORKERS"):
            load_config(env="test").check()


def test_the_claim_notice_staff_send_starts_the_claim_when_tapped(machi, phone, line):
    """`machi grant run` for a claim-type grant sends this card; its 受け取る must reach the bot's flow."""
    with machi.db.session() as s:
        card = claim_notice(s, s.execute(select(GrantProgram).where(GrantProgram.code == "HEAT2026")).scalar_one(),
                            LinePresenter(machi.config.liff_id))
    isamu = phone(ISAMU)
    isamu.last = [card]
    answer = "\n".join(texts(isamu.tap("受け取る")))
    assert "冬の暮らし応援券" in answer and "ご用件を下のボタンから" not in answer
