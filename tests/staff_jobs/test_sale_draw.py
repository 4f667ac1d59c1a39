"""抽選販売 end to end: residents apply (the chat's ledger service), staff draw with a recorded seed, winners
and the others are told on LINE once each (the fake LINE server counts), and winners can then buy."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from ledger.errors import NotAllowed
from ledger.models import SaleApplication
from ledger.services import sales
from tests.staff_jobs.conftest import machi


def test_draw_tells_winners_and_the_others_once_and_only_winners_buy(town, line_env, fake_line, core):
    res = machi("sale", "offer-add", "--code", "LOT27", "--name", "抽選商品券", "--price", "10000",
                "--component", "PREM=13000", "--lottery", "--total-sets", "2", "--limit", "1")
    assert res.exit_code == 0, res.output
    applicants = town.residents[:5]  # 5 applications for 2 sets
    for rid in applicants:
        sales.apply(core.uow, resident_id=rid, offer_code="LOT27", sets=1)

    drawn = machi("sale", "draw", "LOT27", "--seed", "tomamae-2026", "--purchase-days", "7")
    assert drawn.exit_code == 0, drawn.output
    with core.db.session() as s:
        status = dict(s.execute(select(SaleApplication.resident_id, SaleApplication.status)).all())
    winners = [r for r in applicants if status[r] == "won"]
    losers = [r for r in applicants if status[r] == "lost"]
    assert len(winners) == 2 and len(losers) == 3
    for rid in winners:
        assert len(fake_line.deliveries(town.line_ids[rid], "当選のお知らせ")) == 1
    for rid in losers:
        assert len(fake_line.deliveries(town.line_ids[rid], "落選")) == 1
    for rid in town.residents[5:9]:  # residents who did not apply hear nothing
        assert fake_line.deliveries(town.line_ids[rid]) == []

    again = machi("sale", "draw", "LOT27")  # running it again never redraws and never sends twice
    assert again.exit_code == 0, again.output
    with core.db.session() as s:
        assert dict(s.execute(select(SaleApplication.resident_id, SaleApplication.status)).all()) == status
    assert all(len(fake_line.deliveries(town.line_ids[r])) == 1 for r in applicants)

    sales.sell(core.uow, resident_id=winners[0], offer_code="LOT27", sets=1, idempotency_key="counter-1")
    with pytest.raises(NotAllowed):
        sales.sell(core.uow, resident_id=losers[0], offer_code="LOT27", sets=1, idempotency_key="counter-2")
