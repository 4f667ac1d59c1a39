"""Issue #13 (15): every lottery offer open for applications can be applied for in the chat, not only the
first one (played through the real webhook path, as in test_whole_conversation)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ledger.clock import utcnow
from ledger.models import Resident, SaleApplication, SaleOffer
from tests.bot.conftest import actions

HANAKO = "U00000000000000000000000000000001"


def test_each_open_lottery_offer_is_offered_and_the_one_chosen_is_applied_for(machi, phone):
    with machi.db.write() as s:
        s.add(SaleOffer(code="LOT2", name="子育て世帯向け商品券（抽選）", price=5_000, components={"PREM": 6_000},
                        per_resident_limit=1, total_sets=50, lottery=True, starts_at=utcnow() - timedelta(days=1),
                        ends_at=utcnow() + timedelta(days=10)))
    hanako = phone(HANAKO)
    hanako.say("商品券の申し込み")
    shown = hanako.text().replace(" ", "")  # a long title is set on two lines at its space
    assert "申し込む商品券を選んでください" in shown
    assert "プレミアム商品券第2弾（抽選）" in shown and "子育て世帯向け商品券（抽選）" in shown
    buttons = [a["data"] for a in actions(hanako.last) if a.get("label") == "申し込む"]
    assert len(buttons) == 2 and any("offer=LOT2" in b for b in buttons)
    hanako.postback(next(b for b in buttons if "offer=LOT2" in b))
    assert "子育て世帯向け商品券（抽選）" in hanako.text() and "何セット申し込みますか" in hanako.text()
    hanako.say("1")
    hanako.tap("はい")
    assert "申し込みました（1セット）" in hanako.text()
    with machi.db.session() as s:
        me = s.execute(select(Resident.id).where(Resident.line_user_id == HANAKO)).scalar_one()
        applied = s.execute(select(SaleOffer.code).join(SaleApplication, SaleApplication.offer_id == SaleOffer.id)
                            .where(SaleApplication.resident_id == me)).scalars().all()
    assert applied == ["LOT2"]
