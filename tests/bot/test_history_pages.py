"""履歴 in the chat, page after page: a resident with more than one page of records taps
「もっと前を見る」 and sees the earlier ones (it used to fail with 「うまく処理できませんでした」)."""
from __future__ import annotations

from ledger.services import payments
from tests.bot.conftest import HANAKO, actions
from tests.bot.test_notifications import resident_id


def test_history_pages_back_to_the_first_record(machi, phone):
    hanako = phone(HANAKO)
    payer = resident_id(machi, HANAKO)
    for n in range(12):
        payments.pay(machi.uow, resident_id=payer, amount=100 + n, merchant_code="M001", channel="mpm",
                     idempotency_key=f"t-history-{n}")
    hanako.say("履歴")
    assert "これまでの記録" in hanako.text()
    hanako.tap("もっと前を見る")
    earlier = hanako.text()
    assert "さらに前の記録" in earlier and "うまく処理できません" not in earlier
    pages = 1
    while "もっと前を見る" in [a.get("label") for a in actions(hanako.last)]:
        hanako.tap("もっと前を見る")
        pages += 1
        assert "うまく処理できません" not in hanako.text() and pages < 20
    assert pages >= 2 and "これより前の記録はありません" not in hanako.text()
