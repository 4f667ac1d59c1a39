"""The dashboard shows real figures from the ledger against the plan's targets."""
from __future__ import annotations

from sqlalchemy import func, select

from ledger.clock import jst_midnight_utc, today_jst, utcnow
from ledger.models import Entry, Resident
from town.demo_town import seed
from town.staff import VIEWER


def test_the_dashboard_shows_registrations_and_payments_from_the_ledger(core, browser, make_staff):
    seed(core)
    browser.sign_in(make_staff(VIEWER))
    body = browser.get("/console/").get_data(as_text=True)
    today = today_jst(utcnow())
    with core.db.session() as s:
        registered = s.execute(select(func.count()).select_from(Resident).where(
            Resident.registered_at.is_not(None), Resident.status == "active")).scalar_one()
        paid = dict(s.execute(select(Entry.kind, func.sum(Entry.amount)).where(
            Entry.kind.in_(("payment", "refund")),
            Entry.created_at >= jst_midnight_utc(today.replace(month=1, day=1)))
            .group_by(Entry.kind)).all())
    year = int(paid.get("payment", 0)) - int(paid.get("refund", 0))
    assert registered > 0 and year > 0
    assert f'<p class="big" id="registered">{registered:,} 人</p>' in body
    assert f'id="year-volume">{year:,}円' in body
    for target in ("1年目 400 人", "2年目 800 人", "3年目 1,200 人", "1年目 40百万円", "3年目 120百万円"):
        assert target in body
    assert f'<meter min="0" max="400" value="{registered}"' in body
