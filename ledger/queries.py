"""Read-only views of the ledger: balances by money type, history. No locks, no writes."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Connection, and_, func, or_, select

from ledger.clock import last_valid_day, utcnow
from ledger.models import District, Entry, Event, GrantProgram, Lot, Merchant, MoneyType, Posting, SaleOffer


@dataclass(frozen=True)
class Balance:
    money_type: str
    name: str
    name_en: str
    kind: str
    amount: int
    accepted_category: str | None
    next_expiry: date | None
    expiring_amount: int


def balances(conn: Connection, account_id: int, now: datetime | None = None) -> list[Balance]:
    """Per money type: what is held, and how much of it ends first (and when)."""
    now = now or utcnow()
    rows = conn.execute(
        select(MoneyType.code, MoneyType.name, MoneyType.name_en, MoneyType.kind, MoneyType.accepted_category,
               Lot.remaining, Lot.expires_at)
        .join(MoneyType, MoneyType.id == Lot.money_type_id)
        .where(Lot.account_id == account_id, Lot.remaining > 0, or_(Lot.expires_at.is_(None), Lot.expires_at > now))
        .order_by(MoneyType.id, Lot.expires_at)
    ).all()
    out: dict[str, dict] = {}
    for r in rows:
        b = out.setdefault(r.code, {"money_type": r.code, "name": r.name, "name_en": r.name_en, "kind": r.kind,
                                    "amount": 0, "accepted_category": r.accepted_category, "next_expiry": None,
                                    "expiring_amount": 0})
        b["amount"] += r.remaining
        if r.expires_at is not None:
            day = last_valid_day(r.expires_at)
            if b["next_expiry"] is None or day < b["next_expiry"]:
                b["next_expiry"], b["expiring_amount"] = day, r.remaining
            elif day == b["next_expiry"]:
                b["expiring_amount"] += r.remaining
    return [Balance(**b) for b in out.values()]


@dataclass(frozen=True)
class HistoryItem:
    entry_id: int
    kind: str
    at: datetime
    amount: int  # signed: + into this wallet, − out of it
    money_types: list[str]
    merchant: str | None
    memo: str
    refunded: bool
    only_points: bool = False  # every posting of this wallet in the entry is in points, so it is told in points
    money_types_en: list[str] = field(default_factory=list)  # the same names as an English reader sees them
    memo_en: str = ""  # the grant, event or offer an entry came from, in English where it has a name

    def names(self, lang: str) -> list[str]:
        return self.money_types_en if lang == "en" and self.money_types_en else self.money_types

    def about(self, lang: str) -> str:
        return (self.memo_en or self.memo) if lang == "en" else self.memo


def history(conn: Connection, account_id: int, *, limit: int = 10, before_id: int | None = None) -> list[HistoryItem]:
    """Newest first, paged by entry id."""
    q = (select(Entry.id, Entry.kind, Entry.created_at, Entry.memo, Entry.ref, Merchant.name.label("merchant"),
                func.sum(Posting.amount).label("amount"))
         .join(Posting, Posting.entry_id == Entry.id)
         .outerjoin(Merchant, Merchant.id == Entry.merchant_id)
         .where(Posting.account_id == account_id)
         .group_by(Entry.id, Entry.kind, Entry.created_at, Entry.memo, Entry.ref, Merchant.name)
         .order_by(Entry.id.desc()).limit(limit))
    if before_id is not None:
        q = q.where(Entry.id < before_id)
    rows = conn.execute(q).all()
    if not rows:
        return []
    ids = [r.id for r in rows]
    types: dict[int, list[tuple[str, str]]] = {}
    kinds: dict[int, set[str]] = {}
    for eid, name, name_en, kind in conn.execute(
        select(Posting.entry_id, MoneyType.name, MoneyType.name_en, MoneyType.kind)
        .join(MoneyType, MoneyType.id == Posting.money_type_id)
        .where(Posting.entry_id.in_(ids), Posting.account_id == account_id).distinct()
    ).all():
        types.setdefault(eid, []).append((name, name_en or name))
        kinds.setdefault(eid, set()).add(kind)
    refunded = set(conn.execute(select(Entry.reverses_entry_id).where(
        and_(Entry.reverses_entry_id.in_(ids)))).scalars())
    english = _english_sources(conn, {r.ref for r in rows if r.ref})
    out = []
    for r in rows:
        named = sorted(types.get(r.id, []))
        out.append(HistoryItem(r.id, r.kind, r.created_at, int(r.amount), [n for n, _ in named], r.merchant,
                               r.memo, r.id in refunded, kinds.get(r.id) == {"point"},
                               [e for _, e in named], english.get(r.ref or "", "")))
    return out


def _english_sources(conn: Connection, refs: set[str]) -> dict[str, str]:
    """The English names of the grants, events and offers entries point at (`grant:CODE`, `event:ID`,
    `sale:CODE`); those without one are left out, and the Japanese memo stands."""
    wanted: dict[str, set[str]] = {}
    for ref in refs:
        prefix, _, key = ref.partition(":")
        wanted.setdefault(prefix, set()).add(key)
    found: dict[str, str] = {}
    sources = (("grant", GrantProgram.code, GrantProgram.name_en), ("sale", SaleOffer.code, SaleOffer.name_en),
               ("event", Event.id, Event.name_en))
    for prefix, key_col, name_col in sources:
        keys = wanted.get(prefix)
        if not keys:
            continue
        if prefix == "event":
            keys = {k for k in keys if k.isdigit()}
            lookup = [int(k) for k in keys]
        else:
            lookup = list(keys)
        for key, name in conn.execute(select(key_col, name_col).where(key_col.in_(lookup))).all():
            if name:
                found[f"{prefix}:{key}"] = name
    return found


def district_name(conn: Connection, name: str, lang: str) -> str:
    """A district as the resident reads it: its English name for an English reader, where the town gave one."""
    if lang != "en" or not name:
        return name
    return conn.execute(select(District.name_en).where(District.name == name)).scalar() or name
