"""Running a grant program (給付事業) over its segment.

Push-type (プッシュ型): every eligible resident who has not yet received it is credited, 500 per
transaction through `ledger.services.grants.award_many`, whose idempotency key (program, resident)
makes a crashed run safe to run again: it simply finishes who is left. The notice is the same for
everyone, so it goes out as an announcement (one per language) whose chunks are appended batch by
batch right after the credit and multicast with their own retry keys. A re-run first appends whoever
was credited but never written into a chunk (a crash between the two), then sends what is pending:
nobody credited is left untold, nobody is told twice.
Claim-type (申請型): the segment is told with an accept button (an announcement, resumable the same way);
the resident's tap reaches the ledger through the bot.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update

from ledger.clock import fmt_jst, jst_date, last_valid_day, utcnow
from ledger.errors import NotFound, OutsideWindow
from ledger.events import MoneyIssued
from ledger.models import Entry, GrantProgram, MoneyType, Resident
from ledger.segments import segment_query
from ledger.services import grants
from ledger.services.grants import award_many
from town import announce, line_messages
from town.core import TownCore
from town.models import AnnouncementChunk, GrantRun
from town.presenter import GrantOffer, Presenter
from town.sender import Sender

BATCH = 500
PG_WORKERS = 3


@dataclass(frozen=True)
class GrantPlan:
    code: str
    name: str
    mode: str
    amount: int
    money_type: str
    eligible: int      # residents the segment selects now
    already: int       # of those, who already received it
    to_award: int      # who a run would credit (before the budget)
    budget_cap: int | None
    spent: int
    fits_budget: int   # of `to_award`, how many the remaining budget covers
    open_now: bool
    window: str

    @property
    def total(self) -> int:
        return min(self.to_award, self.fits_budget) * self.amount


@dataclass(frozen=True)
class GrantRunReport:
    run_id: int
    awarded: int
    total: int
    refused: dict[str, int]
    budget_exhausted: bool
    resumed_from: int | None  # an earlier run of this program that had stopped half-way
    notified: int = 0         # residents the notice was sent to in this run
    notice_failed: bool = False  # LINE did not take every notice; a re-run sends the rest


def _program(s, code: str) -> GrantProgram:
    prog = s.execute(select(GrantProgram).where(GrantProgram.code == code)).scalar()
    if prog is None:
        raise NotFound(f"給付事業「{code}」はありません。`machi grant list` で確かめてください。")
    return prog


def _criteria(s, prog: GrantProgram) -> dict:
    """Who is eligible (ledger/services/grants.py decides: the segment, and 本人確認 when required)."""
    return grants.eligibility(s.connection(), prog)


def _candidates(code: str, criteria: dict, today: date):
    """Who is eligible and has not received it (the rules of ledger/services/grants.py)."""
    return segment_query(criteria, today).where(~grants.received(code))


def _window_text(prog: GrantProgram) -> str:
    if not prog.starts_at and not prog.ends_at:
        return "期間の定めなし"
    return f"{fmt_jst(prog.starts_at) or '—'} 〜 {fmt_jst(prog.ends_at) or '—'}"


def plan(db, code: str, now: datetime | None = None) -> GrantPlan:
    """What a run would do now, without doing it (the dry run)."""
    now = now or utcnow()
    today = jst_date(now)
    with db.session() as s:
        prog = _program(s, code)
        criteria = _criteria(s, prog)
        conn = s.connection()
        eligible = conn.execute(select(func.count()).select_from(
            segment_query(criteria, today).order_by(None).subquery())).scalar_one()
        to_award = conn.execute(select(func.count()).select_from(
            _candidates(code, criteria, today).order_by(None).subquery())).scalar_one()
        spent = conn.execute(select(func.coalesce(func.sum(Entry.amount), 0))
                             .where(Entry.ref == f"grant:{code}")).scalar_one()
        mt = s.get(MoneyType, prog.money_type_id)
        fits = to_award if prog.budget_cap is None else max(0, (prog.budget_cap - spent) // prog.amount)
        open_now = not ((prog.starts_at and now < prog.starts_at) or (prog.ends_at and now >= prog.ends_at))
        return GrantPlan(prog.code, prog.name, prog.mode, prog.amount, mt.code, eligible, eligible - to_award,
                         to_award, prog.budget_cap, int(spent), min(fits, to_award), bool(open_now) and prog.active,
                         _window_text(prog))


class _Notices:
    """The notice of a push-type grant, written down per batch and multicast, crash-safe (see above)."""

    def __init__(self, core: TownCore, code: str, actor: str) -> None:
        self.db, self.code = core.db, code
        with self.db.session() as s:
            prog = _program(s, code)
            mt = s.get(MoneyType, prog.money_type_id)
            names = {"ja": prog.name, "en": prog.name_en or prog.name}
            money = {"ja": mt.name, "en": mt.name_en or mt.name}
            if mt.valid_until:
                valid = {"ja": f"有効期限 {mt.valid_until:%Y年%-m月%-d日}まで", "en": f"Valid until {mt.valid_until:%Y-%m-%d}"}
            elif mt.validity_days:
                valid = {"ja": f"受け取った日から{mt.validity_days}日間使えます",
                         "en": f"Valid for {mt.validity_days} days from today"}
            else:
                valid = {"ja": "", "en": ""}
        self.ann: dict[str, int] = {}
        for lang in ("ja", "en"):
            msg = line_messages.grant_issued(names[lang], prog.amount, money[lang], valid[lang], lang)
            self.ann[lang] = announce.create(self.db, title=f"{prog.name}の入金のお知らせ（{lang}）",
                                             messages=line_messages.check([msg]), criteria={},
                                             kind="grant_notice", ref=f"grant_notice:{code}:{lang}", actor=actor)

    def add(self, resident_ids: list[int], *, catch_up: bool = False) -> None:
        """Write the notice for these credited residents into new chunks (reachable ones; others counted)."""
        if not resident_ids:
            return
        by_lang: dict[str, list[str]] = {"ja": [], "en": []}
        unreachable = 0
        done = (announce.covered(self.db, self.ann["ja"]) | announce.covered(self.db, self.ann["en"])) if catch_up else set()
        with self.db.session() as s:
            for i in range(0, len(resident_ids), 1000):
                rows = s.execute(select(Resident.line_user_id, Resident.language, Resident.reachable, Resident.status)
                                 .where(Resident.id.in_(resident_ids[i:i + 1000])).order_by(Resident.id)).all()
                for uid, lang, reachable, status in rows:
                    if not uid or not reachable or status != "active":
                        unreachable += 1
                    elif uid not in done:
                        by_lang["en" if lang == "en" else "ja"].append(uid)
        for lang, ids in by_lang.items():
            if ids or (lang == "ja" and unreachable and not catch_up):
                announce.append_recipients(self.db, self.ann[lang], ids,
                                           skipped=0 if catch_up or lang != "ja" else unreachable)

    def catch_up(self) -> None:
        """Who an interrupted run credited but never wrote a notice for."""
        with self.db.session() as s:
            ids = list(s.execute(select(Entry.resident_id).where(Entry.ref == f"grant:{self.code}",
                                                                  Entry.resident_id.is_not(None))
                                 .order_by(Entry.resident_id)).scalars())
        self.add(ids, catch_up=True)

    def send(self, sender: Sender, *, finish: bool = False) -> int:
        sent = 0
        for ann_id in self.ann.values():
            rep = announce.send_pending(self.db, sender, ann_id, finish=finish)
            sent += rep.sent_now
        return sent


def run_push(core: TownCore, code: str, *, actor: str, sender: Sender | None = None, batch: int = BATCH,
             on_total: Callable[[int], None] | None = None,
             on_progress: Callable[[int], None] | None = None) -> GrantRunReport:
    """Credit everyone eligible who has not received it, with the notice; stop when the budget runs out."""
    db = core.db
    p = plan(db, code, core.uow.clock())
    if p.mode != "push":
        raise OutsideWindow(f"「{p.name}」は申請型です。`machi grant run` は受け取りボタン付きのお知らせを送ります。")
    if not p.open_now:
        raise OutsideWindow(f"「{p.name}」は受付期間外か停止中です（{p.window}）。")
    with db.write() as s:
        stale = s.execute(select(GrantRun.id).where(GrantRun.program_code == code, GrantRun.status == "running")
                          .order_by(GrantRun.id.desc())).scalars().first()
        s.execute(update(GrantRun).where(GrantRun.program_code == code, GrantRun.status == "running")
                  .values(status="interrupted"))
        run = GrantRun(program_code=code, status="running", candidates=p.to_award, already=p.already, actor=actor)
        s.add(run)
        s.flush()
        run_id = run.id
    if on_total:
        on_total(p.to_award)
    today = jst_date(core.uow.clock())
    with db.session() as s:
        criteria = _criteria(s, _program(s, code))
    notices = _Notices(core, code, actor) if sender is not None else None
    # the run tells residents by multicast itself; without a sender, the notice relay tells each one
    uow = core.uow.telling_itself(MoneyIssued) if notices is not None else core.uow
    notice_failed = False
    chunks_sent = 0

    def tell() -> None:
        nonlocal notice_failed, chunks_sent
        if notices is None or notice_failed:
            return
        try:
            chunks_sent += notices.send(sender)
        except announce.DeliveryFailed:
            notice_failed = True  # credits go on; the pending chunks wait for the re-run

    if notices is not None:
        notices.catch_up()
        tell()
    awarded = total = 0
    refused: dict[str, int] = {}
    exhausted = False
    last_id = 0
    workers = 1 if db.sqlite else PG_WORKERS  # SQLite has one writer; PostgreSQL overlaps the round trips

    def settle(res: Any, asked: int) -> None:
        nonlocal awarded, total, exhausted
        if notices is not None:
            notices.add([r.resident_id for r in res.awarded if not r.replayed])
            tell()
        awarded += len(res.awarded)
        total += sum(r.amount for r in res.awarded)
        for err in res.refused.values():
            refused[err.code] = refused.get(err.code, 0) + 1
        exhausted = exhausted or res.budget_exhausted
        with db.write() as s:
            s.execute(update(GrantRun).where(GrantRun.id == run_id).values(
                awarded=GrantRun.awarded + len(res.awarded), total=GrantRun.total + sum(r.amount for r in res.awarded),
                refused=GrantRun.refused + len(res.refused)))
        if on_progress:
            on_progress(asked)

    try:
        with ThreadPoolExecutor(workers, thread_name_prefix="grant-run") as pool:
            in_flight: deque[tuple[Future, int]] = deque()
            more = True
            while more or in_flight:
                if more and not exhausted and len(in_flight) < workers:
                    # Walk the segment in id order and leave out, within each batch only, who already
                    # received it: an anti-join over the whole town per batch would grow with every batch.
                    with db.session() as s:
                        page = list(s.execute(segment_query(criteria, today).where(Resident.id > last_id)
                                              .order_by(None).order_by(Resident.id).limit(batch)).scalars())
                        received = set(s.execute(select(Entry.resident_id).where(
                            Entry.resident_id.in_(page), Entry.ref == f"grant:{code}")).scalars()) if page else set()
                    if not page:
                        more = False
                        continue
                    last_id = page[-1]
                    ids = [r for r in page if r not in received]
                    if ids:
                        in_flight.append((pool.submit(award_many, uow, program_code=code, resident_ids=ids,
                                                      actor=actor), len(ids)))
                    continue
                if not in_flight:
                    break
                future, asked = in_flight.popleft()
                settle(future.result(), asked)
        if notices is not None and not notice_failed:
            try:
                chunks_sent += notices.send(sender, finish=True)
            except announce.DeliveryFailed:
                notice_failed = True
    except BaseException:
        with db.write() as s:
            s.execute(update(GrantRun).where(GrantRun.id == run_id).values(status="failed", finished_at=utcnow()))
        raise
    with db.write() as s:
        s.execute(update(GrantRun).where(GrantRun.id == run_id).values(
            status="budget" if exhausted else "done", finished_at=utcnow()))
    notified = 0
    if notices is not None:
        with db.session() as s:
            notified = sum(len(r) for r in s.execute(
                select(AnnouncementChunk.recipients).where(AnnouncementChunk.announcement_id.in_(list(notices.ann.values())),
                                                           AnnouncementChunk.status == "sent")).scalars())
    return GrantRunReport(run_id, awarded, total, refused, exhausted, stale, notified, notice_failed)


def claim_notice(s: Any, prog: GrantProgram, presenter: Presenter) -> dict[str, Any]:
    """The chat's own offer card (drawn by the channel's presenter), so its 受け取る button starts the claim."""
    mt = s.get(MoneyType, prog.money_type_id)
    offer = GrantOffer(prog.code, prog.name, prog.amount, prog.mode, mt.name, mt.validity_days,
                       last_valid_day(prog.ends_at) if prog.ends_at else None)
    return presenter.grant_offer(offer, "ja")


def announce_claim(core: TownCore, sender: Sender, code: str, *, actor: str, presenter: Presenter,
                   again: bool = False,
                   on_total: Callable[[int], None] | None = None,
                   on_chunk: Callable[[int], None] | None = None) -> announce.DeliveryReport:
    """Tell the segment (who has not yet received it) with a 受け取る button; resumable like any announcement."""
    now = core.uow.clock()
    with core.db.session() as s:
        prog = _program(s, code)
        if prog.mode != "claim":
            raise OutsideWindow(f"「{prog.name}」はプッシュ型です（申請なしで入金します）。")
        if not prog.active or (prog.ends_at and now >= prog.ends_at):
            raise OutsideWindow(f"「{prog.name}」は受付を終えています。")
        criteria = _criteria(s, prog)
        message = claim_notice(s, prog, presenter)
        name, segment_id = prog.name, prog.segment_id
    ref = f"grant_claim:{code}" + (f":{now:%Y%m%d%H%M%S}" if again else "")
    ann_id = announce.create(core.db, title=f"{name}のご案内", messages=line_messages.check([message]),
                             criteria=criteria, segment_id=segment_id, kind="grant_claim", ref=ref,
                             exclude_grant=code, actor=actor, now=now)
    return announce.deliver(core.db, sender, ann_id, on_total=on_total, on_chunk=on_chunk)
