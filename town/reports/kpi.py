"""The KPIs town staff report on: registered users over time, payment volume (by money type, shop,
district and age band), active users, average payment, grant uptake, points issued and redeemed,
satisfaction, and local circulation — the share of shop receipts that shops spend again at other
shops in town (shop → shop transfers over payments received).

Every figure is a GROUP BY in SQL over the period; Python only joins the small answers (a row per
day, shop, money type or resident), so a million payments take seconds.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, Select, false, func, select
from sqlalchemy.sql import ColumnElement

from ledger.models import Account, Entry, GrantProgram, Merchant, MoneyType, Posting, Resident
from ledger.segments import segment_query
from ledger.services import grants
from town.ages import AGE_BANDS, age_band
from town.reports.period import Period
from town.reports.sql import as_date, jst_day
from town.surveys import SurveyResponse


@dataclass
class Kpi:
    start: date
    end: date
    summary: dict[str, Any] = field(default_factory=dict)
    daily: list[dict[str, Any]] = field(default_factory=list)
    by_money_type: list[dict[str, Any]] = field(default_factory=list)
    by_shop: list[dict[str, Any]] = field(default_factory=list)
    by_district: list[dict[str, Any]] = field(default_factory=list)
    by_age_band: list[dict[str, Any]] = field(default_factory=list)
    grants: list[dict[str, Any]] = field(default_factory=list)
    points: list[dict[str, Any]] = field(default_factory=list)
    satisfaction: list[dict[str, Any]] = field(default_factory=list)


def compute(conn: Connection, start: date, end: date) -> Kpi:
    dialect = conn.dialect.name
    p = Period(start, end)
    lo = p.lo
    k = Kpi(start, end)
    in_period = p.covers(Entry.created_at)

    # registered users over time
    base = conn.execute(select(func.count()).select_from(Resident).where(Resident.registered_at < lo)).scalar_one()
    reg_day = jst_day(Resident.registered_at, dialect)
    new_by_day = {as_date(d): int(n) for d, n in conn.execute(
        select(reg_day, func.count()).where(p.covers(Resident.registered_at))
        .group_by(reg_day))}
    # payments and refunds per day and shop: one pass over the covering index ix_entries_kind_time_cover
    # gives the daily series, the shop table and the id range of the period's payments
    pay_day = jst_day(Entry.created_at, dialect)
    per_day: dict[date, dict[str, int]] = defaultdict(lambda: {"payments": 0, "amount": 0, "refunds": 0, "refunded": 0})
    per_shop: dict[int | None, list[int]] = defaultdict(lambda: [0, 0])
    first_id: int | None = None
    last_id: int | None = None
    for kind, mid, d, n, total, lo_id, hi_id in conn.execute(
            select(Entry.kind, Entry.merchant_id, pay_day, func.count(), func.sum(Entry.amount), func.min(Entry.id),
                   func.max(Entry.id))
            .where(Entry.kind.in_(("payment", "refund")), in_period).group_by(Entry.kind, Entry.merchant_id, pay_day)):
        cell = per_day[as_date(d)]
        if kind == "payment":
            cell["payments"] += int(n)
            cell["amount"] += int(total or 0)
            per_shop[mid][0] += int(n)
            per_shop[mid][1] += int(total or 0)
            first_id = lo_id if first_id is None else min(first_id, lo_id)
            last_id = hi_id if last_id is None else max(last_id, hi_id)
        else:
            cell["refunds"] += int(n)
            cell["refunded"] += int(total or 0)
    registered = base
    for i in range((end - start).days + 1):
        d = start + timedelta(days=i)
        registered += new_by_day.get(d, 0)
        k.daily.append({"date": d, "registered_total": registered, "new_registrations": new_by_day.get(d, 0),
                        **per_day.get(d, {"payments": 0, "amount": 0, "refunds": 0, "refunded": 0})})
    payments = sum(r["payments"] for r in k.daily)
    amount = sum(r["amount"] for r in k.daily)
    refunded = sum(r["refunded"] for r in k.daily)

    # by money type: what shops received, per money type (the shop's legs of payment entries)
    names = {mt.id: (mt.code, mt.name, mt.kind) for mt in conn.execute(select(MoneyType.id, MoneyType.code,
                                                                               MoneyType.name, MoneyType.kind))}
    for mt_id, total in conn.execute(_shop_legs_by_money_type(dialect, in_period, first_id, last_id)):
        code, name, kind = names[mt_id]
        k.by_money_type.append({"money_type": code, "name": name, "kind": kind, "amount": int(total),
                                "share": _ratio(int(total), amount)})
    k.by_money_type.sort(key=lambda r: -r["amount"])

    # by shop
    shops = {m.id: (m.code, m.name, m.category) for m in conn.execute(
        select(Merchant.id, Merchant.code, Merchant.name, Merchant.category))}
    for mid, (n, total) in sorted(per_shop.items(), key=lambda x: (x[0] is not None, x[0] or 0)):  # ties: by id
        code, name, category = shops.get(mid, ("?", "?", ""))
        k.by_shop.append({"merchant": code, "name": name, "category": category, "payments": n,
                          "amount": total, "share": _ratio(total, amount)})
    k.by_shop.sort(key=lambda r: -r["amount"])

    # by resident → district and age band (age at the end of the period), active users
    per_resident = conn.execute(select(Entry.resident_id, func.count(), func.sum(Entry.amount))
                                .where(Entry.kind == "payment", in_period).group_by(Entry.resident_id)).all()
    people = {r.id: (r.district, r.birth_date) for r in conn.execute(
        select(Resident.id, Resident.district, Resident.birth_date))}
    by_d: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    by_a: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for rid, n, total in per_resident:
        district, birth = people.get(rid, ("不明", None))
        for bucket in (by_d[district or "不明"], by_a[age_band(birth, end)]):
            bucket[0] += 1
            bucket[1] += int(n)
            bucket[2] += int(total)
    residents_by_d: dict[str, int] = defaultdict(int)
    for district, _birth in people.values():
        residents_by_d[district or "不明"] += 1
    k.by_district = [{"district": d, "active_users": v[0], "residents": residents_by_d.get(d, 0), "payments": v[1],
                      "amount": v[2], "share": _ratio(v[2], amount)} for d, v in sorted(by_d.items(), key=lambda x: -x[1][2])]
    order = [label for _lo, _hi, label in AGE_BANDS] + ["不明"]
    k.by_age_band = [{"age_band": a, "active_users": by_a[a][0], "payments": by_a[a][1], "amount": by_a[a][2],
                      "share": _ratio(by_a[a][2], amount)} for a in order if a in by_a]

    # grant uptake: who received it, of who is eligible or received
    received = dict(conn.execute(select(Entry.ref, func.count()).where(Entry.kind == "grant", p.by_end(Entry.created_at))
                                 .group_by(Entry.ref)).all())
    # a Core connection returns columns, not ORM objects, so the program's fields are selected one by one
    for prog in conn.execute(select(GrantProgram.code, GrantProgram.name, GrantProgram.mode, GrantProgram.amount,
                                    GrantProgram.segment_id, GrantProgram.requires_verification)
                             .order_by(GrantProgram.id)).all():
        got = int(received.get(f"grant:{prog.code}", 0))
        # who was eligible and had not received it by the period's end: the grants service's rules
        not_yet = conn.execute(select(func.count()).select_from(
            segment_query(grants.eligibility(conn, prog), end).where(~grants.received(prog.code, p.hi))
            .order_by(None).subquery())).scalar_one()
        k.grants.append({"program": prog.code, "name": prog.name, "mode": prog.mode, "received": got,
                         "eligible_not_received": int(not_yet), "uptake": _ratio(got, got + int(not_yet)),
                         "issued": got * prog.amount})

    # points issued and redeemed in the period (points are few entries: issue, grant, exchange, expiry)
    point_ids = [i for i, (_c, _n, kind) in names.items() if kind == "point"]
    if point_ids:
        pts: dict[tuple[int, str], dict[str, int]] = defaultdict(lambda: {"issued": 0, "redeemed": 0, "expired": 0})
        for mt_id, kind, total in conn.execute(
                select(Posting.money_type_id, Entry.kind, func.sum(Posting.amount))
                .join(Entry, Entry.id == Posting.entry_id).join(Account, Account.id == Posting.account_id)
                .where(Entry.kind.in_(("issue", "grant", "exchange", "expiry", "correction")), in_period,
                       Posting.money_type_id.in_(point_ids), Account.kind == "resident")
                .group_by(Posting.money_type_id, Entry.kind)):
            cell = pts[(mt_id, names[mt_id][0])]
            if kind in ("issue", "grant") or (kind == "correction" and total > 0):
                cell["issued"] += int(total)
            elif kind == "exchange":
                cell["redeemed"] += -int(total)
            elif kind == "expiry":
                cell["expired"] += -int(total)
        k.points = [{"money_type": code, **v} for (_i, code), v in sorted(pts.items())]

    # satisfaction
    for survey, n, mean in conn.execute(
            select(SurveyResponse.survey_id, func.count(), func.avg(SurveyResponse.score))
            .where(SurveyResponse.score.is_not(None), p.covers(SurveyResponse.created_at))
            .group_by(SurveyResponse.survey_id)):
        k.satisfaction.append({"survey": survey, "responses": int(n), "mean": round(float(mean), 2)})

    # local circulation: shop → shop transfers (money spent again in town) over receipts
    shop_accounts = select(Account.id).where(Account.kind == "merchant")
    recirculated = conn.execute(
        select(func.coalesce(func.sum(-Posting.amount), 0)).join(Entry, Entry.id == Posting.entry_id)
        .where(Entry.kind == "transfer", in_period, Posting.amount < 0, Posting.account_id.in_(shop_accounts))
    ).scalar_one()
    active = len(per_resident)
    grant_total = sum(g["issued"] for g in k.grants)
    k.summary = {
        "period": f"{start.isoformat()}〜{end.isoformat()}", "registered_users": registered,
        "new_registrations": registered - base, "payments": payments, "payment_volume": amount,
        "refunded": refunded, "net_volume": amount - refunded, "active_users": active,
        "average_payment": round(amount / payments) if payments else 0,
        "payments_per_active_user": round(payments / active, 2) if active else 0,
        "grants_issued_total": grant_total,
        "points_issued": sum(p["issued"] for p in k.points), "points_redeemed": sum(p["redeemed"] for p in k.points),
        "satisfaction_mean": _weighted_mean(k.satisfaction), "shop_to_shop": int(recirculated),
        "local_circulation": _ratio(int(recirculated), amount - refunded),
    }
    return k


def _shop_legs_by_money_type(dialect: str, in_period: ColumnElement[bool], first_id: int | None,
                              last_id: int | None) -> Select:
    """What shops received per money type: the positive legs of the period's payments.

    On SQLite a join driven by entries looks each payment's postings up one by one (a million index
    searches); walking the postings of the period's entry-id range in order and checking each entry by
    its primary key is several times faster. PostgreSQL plans the plain join well (hash join).
    """
    base = select(Posting.money_type_id, func.sum(Posting.amount)).where(Posting.amount > 0)
    if dialect != "sqlite":
        return (base.join(Entry, Entry.id == Posting.entry_id).where(Entry.kind == "payment", in_period)
                .group_by(Posting.money_type_id))
    if first_id is None or last_id is None:
        return base.where(false()).group_by(Posting.money_type_id)
    is_payment = select(Entry.id).where(Entry.id == Posting.entry_id, Entry.kind == "payment", in_period).exists()
    return (base.where(Posting.entry_id.between(first_id, last_id), is_payment)
            .group_by(Posting.money_type_id))


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _weighted_mean(rows: list[dict[str, Any]]) -> float | None:
    n = sum(r["responses"] for r in rows)
    return round(sum(r["mean"] * r["responses"] for r in rows) / n, 2) if n else None
