"""Pseudonymised CSV for evidence-based policy work (EBPM): no names, no LINE ids, no birth dates.

A resident appears as `pid`, an HMAC-SHA256 of their id keyed with the export key derived from
MACHI_SECRET_KEY (`Config.derived_key("export")`): stable across
exports (so analysts can follow a person over time) but not reversible without the key. Ages are
ten-year bands, places are districts, times are days (payments keep the hour).
"""
from __future__ import annotations

import csv
import hashlib
import hmac
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from ledger.clock import to_jst
from ledger.models import Card, Entry, Merchant, Resident
from town.ages import age_band
from town.reports.period import Period

KINDS = ("payments", "residents", "grants")


def pseudonym(secret: bytes, resident_id: int | None) -> str:
    if resident_id is None:
        return ""
    return hmac.new(secret, f"resident:{resident_id}".encode(), hashlib.sha256).hexdigest()[:20]


def _people(conn: Connection) -> dict[int, tuple[str, date | None]]:
    return {r.id: (r.district, r.birth_date) for r in conn.execute(
        select(Resident.id, Resident.district, Resident.birth_date))}


def payments(conn: Connection, secret: bytes, start: date, end: date) -> Iterator[dict[str, Any]]:
    people = _people(conn)
    shops = {m.id: (m.code, m.category) for m in conn.execute(select(Merchant.id, Merchant.code, Merchant.category))}
    refunded = select(Entry.reverses_entry_id).where(Entry.kind == "refund", Entry.reverses_entry_id.is_not(None))
    q = (select(Entry.id, Entry.created_at, Entry.resident_id, Entry.merchant_id, Entry.amount, Entry.channel,
                Entry.id.in_(refunded).label("refunded"))
         .where(Entry.kind == "payment", Period(start, end).covers(Entry.created_at)).order_by(Entry.id))
    for row in conn.execution_options(yield_per=20_000).execute(q):
        district, birth = people.get(row.resident_id, ("", None))
        local = to_jst(row.created_at)
        code, category = shops.get(row.merchant_id, ("", ""))
        yield {"date": local.date().isoformat(), "hour": local.hour, "pid": pseudonym(secret, row.resident_id),
               "age_band": age_band(birth, local.date()), "district": district, "merchant": code,
               "merchant_category": category, "amount": row.amount, "channel": row.channel or "",
               "refunded": int(bool(row.refunded))}


def residents(conn: Connection, secret: bytes, start: date, end: date) -> Iterator[dict[str, Any]]:
    with_card = set(conn.execute(select(Card.resident_id).where(Card.status == "active")).scalars())
    q = select(Resident.id, Resident.birth_date, Resident.district, Resident.household_size, Resident.children,
               Resident.registered_at, Resident.verification, Resident.status, Resident.line_user_id.is_not(None)
               .label("line")).order_by(Resident.id)
    for r in conn.execution_options(yield_per=20_000).execute(q):
        yield {"pid": pseudonym(secret, r.id), "age_band": age_band(r.birth_date, end), "district": r.district,
               "household_size": r.household_size or "", "children": r.children,
               "registered_month": to_jst(r.registered_at).strftime("%Y-%m") if r.registered_at else "",
               "verification": r.verification, "status": r.status, "line": int(bool(r.line)),
               "card": int(r.id in with_card)}


def grants(conn: Connection, secret: bytes, start: date, end: date) -> Iterator[dict[str, Any]]:
    people = _people(conn)
    q = (select(Entry.created_at, Entry.resident_id, Entry.ref, Entry.amount)
         .where(Entry.kind == "grant", Period(start, end).covers(Entry.created_at)).order_by(Entry.id))
    for row in conn.execution_options(yield_per=20_000).execute(q):
        district, birth = people.get(row.resident_id, ("", None))
        day = to_jst(row.created_at).date()
        yield {"date": day.isoformat(), "pid": pseudonym(secret, row.resident_id),
               "age_band": age_band(birth, day), "district": district,
               "program": (row.ref or "").removeprefix("grant:"), "amount": row.amount}


def write(conn: Connection, kind: str, secret: bytes, start: date, end: date, path: Path) -> int:
    rows = {"payments": payments, "residents": residents, "grants": grants}[kind](conn, secret, start, end)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer: csv.DictWriter | None = None
        for row in rows:
            if writer is None:
                writer = csv.DictWriter(f, fieldnames=list(row), lineterminator="\r\n")
                writer.writeheader()
            writer.writerow(row)
            n += 1
    return n
