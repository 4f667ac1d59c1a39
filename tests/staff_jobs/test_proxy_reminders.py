"""Expiry reminders reach a resident's proxy too, labelled with whose money it is and with no pay
button — also for the card-only elder, who cannot be told herself."""
from __future__ import annotations

from ledger.models import ResidentProxy
from ledger.services import issuing
from town import scheduler

from .conftest import flex_actions, flex_texts
from .test_scheduler import runtime  # noqa: F401 - the scheduler's runtime fixture


def test_the_card_only_elders_reminder_goes_to_her_proxy(town, runtime, core, fake_line):  # noqa: F811
    elder, helper = town.residents[9], town.residents[0]
    with core.db.write() as s:
        s.add(ResidentProxy(resident_id=elder, proxy_resident_id=helper, relation="孫"))
    issuing.issue(core.uow, resident_id=elder, money_type="PT", amount=500, idempotency_key="elder-points")
    assert scheduler.job_remind() == {"sent": 0, "skipped": 1, "already": 0}  # she has no LINE
    cards = [m for d in fake_line.store.deliveries_to(town.line_ids[helper]) for m in d.messages]
    assert len(cards) == 1
    said = "\n".join(flex_texts(cards[0]["contents"]))
    assert "さんの残高が、まもなく有効期限です" in said and "500ポイント" in said and "あと30日" in said
    assert "支払う" not in [a["label"] for a in flex_actions(cards[0]["contents"])]
    scheduler.job_remind()  # the same day again: nothing more
    assert len(fake_line.store.deliveries_to(town.line_ids[helper])) == 1
