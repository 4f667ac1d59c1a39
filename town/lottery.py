"""抽選: when applications for a certificate offer ask for more sets than it has, winners are drawn.

Fair and checkable: the applications are taken in id order and shuffled by `random.Random(seed)`;
each applicant in that order wins when their sets still fit. The seed (random unless given) is
recorded with the draw, so anyone can run it again and get the same winners (`verify`).
Winners get a purchase window (until the end of a day, Tokyo time); everyone is told by LINE through
announcements keyed to the draw, so running the command again resumes the notices, never redraws.
Only residents still active on the day of the draw take part: an application from someone who has
moved out, died or whose wallet is stopped is marked `void` (対象外) then, so the draw can be checked
again later from the seed and the applications on record, whatever happens to the residents after.
"""
from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select, update

from ledger.clock import end_of_jst_day, fmt_jst, jst_date, last_valid_day
from ledger.db import Database
from ledger.errors import InvalidInput, NotAllowed, NotFound
from ledger.models import Resident, SaleApplication, SaleDraw, SaleOffer
from town import announce, line_messages
from town.sender import Sender


@dataclass(frozen=True)
class DrawResult:
    offer: str
    seed: str
    applicants: int
    requested_sets: int
    capacity: int | None
    winners: list[int]  # application ids, in draw order
    losers: list[int]
    purchase_until: date | None
    already_drawn: bool = False
    void: list[int] = field(default_factory=list)  # applications of residents no longer active


VOID = "void"  # the applicant was no longer an active resident on the day of the draw


def draw_order(app_ids: list[int], seed: str) -> list[int]:
    """The applications in the order the seed gives them; the same seed always gives the same order."""
    order = sorted(app_ids)
    random.Random(seed).shuffle(order)
    return order


def allocate(apps: dict[int, int], seed: str, capacity: int | None) -> tuple[list[int], list[int]]:
    """(winners, losers): in draw order, an application wins while its sets fit what is left."""
    if capacity is None or sum(apps.values()) <= capacity:
        return sorted(apps), []
    left = capacity
    won, lost = [], []
    for app_id in draw_order(list(apps), seed):
        if apps[app_id] <= left:
            won.append(app_id)
            left -= apps[app_id]
        else:
            lost.append(app_id)
    return won, lost


def _offer(s, code: str) -> SaleOffer:
    offer = s.execute(select(SaleOffer).where(SaleOffer.code == code)).scalar()
    if offer is None:
        raise NotFound(f"商品券「{code}」はありません。`machi sale offers` で確かめてください。")
    return offer


def draw(db: Database, code: str, *, now: datetime, purchase_days: int, actor: str, seed: str | None = None,
         dry_run: bool = False, force: bool = False) -> DrawResult:
    """Draw once. Refused while applications are still open (before the offer's `ends_at`) unless `force`:
    a draw closes applications, and residents were told they could apply until the deadline."""
    if purchase_days < 1:
        raise InvalidInput("購入期間は1日以上にしてください。")
    with db.write() as s:
        offer = _offer(s, code)
        # PostgreSQL: wait for applications being made (they hold the offer FOR SHARE), keep new ones out
        s.execute(select(SaleOffer.id).where(SaleOffer.id == offer.id).with_for_update())
        if not offer.lottery:
            raise NotAllowed(f"「{offer.name}」は抽選販売ではありません（先着で販売中）。")
        done = s.execute(select(SaleDraw).where(SaleDraw.offer_id == offer.id)).scalar()
        rows = s.execute(select(SaleApplication.id, SaleApplication.sets, SaleApplication.status, Resident.status)
                         .join(Resident, Resident.id == SaleApplication.resident_id)
                         .where(SaleApplication.offer_id == offer.id)).all()
        if done is not None:
            apps = {r[0]: r[1] for r in rows if r[2] != VOID}
            won = list(s.execute(select(SaleApplication.id).where(SaleApplication.offer_id == offer.id,
                                                                  SaleApplication.status.in_(("won", "bought")))
                                 .order_by(SaleApplication.id)).scalars())
            until = s.execute(select(func.max(SaleApplication.purchase_until))
                              .where(SaleApplication.offer_id == offer.id)).scalar()
            return DrawResult(code, done.seed, len(apps), sum(apps.values()), offer.total_sets, won,
                              sorted(set(apps) - set(won)), last_valid_day(until) if until else None,
                              already_drawn=True, void=sorted(r[0] for r in rows if r[2] == VOID))
        if offer.ends_at and now < offer.ends_at and not force:
            raise NotAllowed(f"「{offer.name}」はまだ申し込みの受付中です（締切 {fmt_jst(offer.ends_at)}）。"
                             "締切の後に抽選してください。受付を締め切って今すぐ抽選するときは --force を付けます。")
        if not rows:
            raise NotAllowed(f"「{offer.name}」への申し込みはまだありません。")
        apps = {r[0]: r[1] for r in rows if r[3] == "active"}
        void = sorted(r[0] for r in rows if r[3] != "active")
        seed = seed or secrets.token_hex(16)
        capacity = offer.total_sets  # a lottery offer sells only to winners, so all of it is drawn
        won, lost = allocate(apps, seed, capacity)
        last_day = jst_date(now) + timedelta(days=purchase_days - 1)
        if not dry_run:
            s.execute(update(SaleApplication).where(SaleApplication.id.in_(won)).values(
                status="won", decided_at=now, purchase_until=end_of_jst_day(last_day)))
            if lost:
                s.execute(update(SaleApplication).where(SaleApplication.id.in_(lost)).values(
                    status="lost", decided_at=now))
            if void:
                s.execute(update(SaleApplication).where(SaleApplication.id.in_(void)).values(
                    status=VOID, decided_at=now))
            s.add(SaleDraw(offer_id=offer.id, seed=seed, winners=len(won), drawn_at=now, actor=actor))
        return DrawResult(code, seed, len(apps), sum(apps.values()), capacity, won, lost, last_day, void=void)


def verify(db: Database, code: str) -> tuple[bool, DrawResult]:
    """Run the recorded draw again from its seed: True when it gives exactly the winners on record."""
    with db.session() as s:
        offer = _offer(s, code)
        done = s.execute(select(SaleDraw).where(SaleDraw.offer_id == offer.id)).scalar()
        if done is None:
            raise NotFound(f"「{offer.name}」の抽選はまだ行われていません。")
        apps = dict(s.execute(select(SaleApplication.id, SaleApplication.sets)
                              .where(SaleApplication.offer_id == offer.id, SaleApplication.status != VOID)).all())
        recorded = set(s.execute(select(SaleApplication.id).where(
            SaleApplication.offer_id == offer.id, SaleApplication.status.in_(("won", "bought")))).scalars())
        capacity = offer.total_sets
        won, lost = allocate(apps, done.seed, capacity)
    return set(won) == recorded, DrawResult(code, done.seed, len(apps), sum(apps.values()), capacity, won, lost, None)


def notify(db: Database, sender: Sender, code: str, *, actor: str) -> list[announce.DeliveryReport]:
    """Tell winners (with their purchase deadline) and the others; resumable like any announcement."""
    with db.session() as s:
        offer = _offer(s, code)
        rows = s.execute(select(SaleApplication.resident_id, SaleApplication.status, SaleApplication.sets,
                                SaleApplication.purchase_until)
                         .where(SaleApplication.offer_id == offer.id)).all()
        name = offer.name
    reports = []
    by_sets: dict[tuple[int, date], list[int]] = {}
    losers = []
    for r in rows:
        if r.status in ("won", "bought"):
            by_sets.setdefault((r.sets, last_valid_day(r.purchase_until) if r.purchase_until else None),
                               []).append(r.resident_id)
        elif r.status == "lost":
            losers.append(r.resident_id)
    groups = [(f"lottery:{code}:won:{sets}", f"{name} 当選（{sets}セット）", ids,
               line_messages.lottery_won(name, sets, until)) for (sets, until), ids in sorted(by_sets.items())]
    if losers:
        groups.append((f"lottery:{code}:lost", f"{name} 落選", losers, line_messages.lottery_lost(name)))
    for ref, title, ids, message in groups:
        ann_id = announce.create(db, title=title, messages=line_messages.check([message]),
                                 criteria={"resident_ids": sorted(ids)}, kind="lottery", ref=ref, actor=actor)
        reports.append(announce.deliver(db, sender, ann_id))
    return reports
