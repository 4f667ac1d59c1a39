"""Expiry reminders: 30 and 7 days before money ends, one message per resident per due date.

Each reminder is written down (reminder_log, unique per resident, due date and lead time) before it is
pushed with a retry key made of the same three, and marked sent after; a crash in between sends it
again with the same key, which LINE ignores. Residents without LINE or who blocked the account are
logged as skipped. A day the scheduler was down is caught up the next time (up to a week back).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select, update

from ledger.clock import utcnow
from ledger.db import Database
from ledger.models import MoneyType, Resident
from ledger.services.expiry import expiring_on
from town import proxies, settings
from town.models import ReminderLog
from town.presenter import Presenter
from town.sender import Sender

LEADS = (30, 7)
CATCH_UP_DAYS = 7
LAST_DAY = "reminders.last_day"


@dataclass(frozen=True)
class ReminderReport:
    due_dates: list[date]
    sent: int
    skipped: int
    already: int


def run_days(today: date, last_day: date | None) -> list[date]:
    """The days whose reminders are owed: today, and any missed since the last run (at most a week)."""
    start = today if last_day is None else max(last_day + timedelta(days=1), today - timedelta(days=CATCH_UP_DAYS - 1))
    return [start + timedelta(days=i) for i in range((today - start).days + 1)]


def send(db: Database, sender: Sender | None, today: date, *, presenter: Presenter | None,
         dry_run: bool = False) -> ReminderReport:
    """`sender` and `presenter` (how the reminder looks) may be None only for a dry run."""
    last = settings.get(db, LAST_DAY)
    days = run_days(today, date.fromisoformat(last) if last else None)
    targets = sorted({(d + timedelta(days=lead), lead) for d in days for lead in LEADS if d + timedelta(days=lead) > today})
    sent = skipped = already = 0
    with db.session() as s:
        names = {mt.code: (mt.name, mt.name_en or mt.name, mt.kind) for mt in s.execute(select(MoneyType)).scalars()}
    for due, lead in targets:
        with db.session() as s:
            items = expiring_on(s.connection(), due)
            per: dict[int, list] = defaultdict(list)
            for it in items:
                per[it.resident_id].append(it)
            reach = dict(s.execute(select(Resident.id, Resident.reachable)
                                   .where(Resident.id.in_(list(per)))).all()) if per else {}
            logged = set(s.execute(select(ReminderLog.resident_id).where(
                ReminderLog.due_date == due, ReminderLog.days_before == lead,
                ReminderLog.status != "pending")).scalars())
            helpers = proxies.contacts(s.connection(), list(per))
            whose = proxies.names(s.connection(), list(helpers))
        for rid, its in per.items():
            if rid in logged:
                already += 1
                continue
            user, lang = its[0].line_user_id, its[0].language
            reachable = bool(user) and reach.get(rid, False)
            if dry_run:
                sent += reachable
                skipped += not reachable
                continue
            _log(db, rid, due, lead, sum(i.amount for i in its))
            for h in helpers.get(rid, []):  # the resident's proxies are told too, card-only elders' included
                shown = [(names[i.money_type][1 if h.language == "en" else 0], names[i.money_type][2], i.amount)
                         for i in its]
                sender.push(h.line_user_id, [presenter.expiry_notice(shown, due, (due - today).days, h.language,
                                                                     whose=whose[rid])],
                            f"reminder:{rid}:{due.isoformat()}:{lead}:proxy:{h.resident_id}")
            if not reachable:
                _mark(db, rid, due, lead, "skipped")
                skipped += 1
                continue
            listed = [(names[i.money_type][1 if lang == "en" else 0], names[i.money_type][2], i.amount) for i in its]
            message = presenter.expiry_notice(listed, due, (due - today).days, lang)
            sender.push(user, [message], f"reminder:{rid}:{due.isoformat()}:{lead}")
            _mark(db, rid, due, lead, "sent")
            sent += 1
    if not dry_run:
        settings.put(db, LAST_DAY, today.isoformat(), "scheduler")
    return ReminderReport(sorted({d for d, _ in targets}), sent, skipped, already)


def _log(db: Database, rid: int, due: date, lead: int, amount: int) -> None:
    with db.write() as s:
        found = s.execute(select(ReminderLog.id).where(ReminderLog.resident_id == rid, ReminderLog.due_date == due,
                                                       ReminderLog.days_before == lead)).first()
        if found is None:
            s.add(ReminderLog(resident_id=rid, due_date=due, days_before=lead, amount=amount, status="pending",
                              created_at=utcnow()))


def _mark(db: Database, rid: int, due: date, lead: int, status: str) -> None:
    with db.write() as s:
        s.execute(update(ReminderLog).where(ReminderLog.resident_id == rid, ReminderLog.due_date == due,
                                            ReminderLog.days_before == lead).values(status=status, sent_at=utcnow()))
