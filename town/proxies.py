"""Proxies (代理人): a family member recorded at the counter (`machi resident proxy`) who sees an elder's
wallet in their own chat, receives the elder's notices and accepts claim-type grants for them.

Every act of a proxy is written to the audit log as done by the proxy for the elder (`record`).
No money leaves the elder's wallet through a proxy: there is no paying-for path.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import aliased

from ledger.db import Database
from ledger.errors import NotAllowed
from ledger.models import AuditLog, Resident, ResidentProxy


@dataclass(frozen=True)
class Principal:
    """The person a proxy acts for."""

    resident_id: int
    name: str
    account_id: int


@dataclass(frozen=True)
class ProxyContact:
    """A proxy who can be told, in their own language."""

    resident_id: int
    line_user_id: str
    language: str


def acting_for(conn: Connection, proxy_resident_id: int) -> list[Principal]:
    """The active residents this (active) proxy may see and act for, by id."""
    me = aliased(Resident)
    rows = conn.execute(
        select(Resident.id, Resident.name, Resident.account_id)
        .join(ResidentProxy, ResidentProxy.resident_id == Resident.id)
        .join(me, me.id == ResidentProxy.proxy_resident_id)
        .where(ResidentProxy.proxy_resident_id == proxy_resident_id, Resident.status == "active",
               me.status == "active")
        .order_by(Resident.id)).all()
    return [Principal(*r) for r in rows]


def principal(conn: Connection, proxy_resident_id: int, resident_id: Any) -> Principal:
    """The resident `resident_id` if this proxy may act for them; NotAllowed otherwise."""
    for p in acting_for(conn, proxy_resident_id):
        if str(p.resident_id) == str(resident_id):
            return p
    raise NotAllowed("この方の代理人としては登録されていません。役場の窓口にお問い合わせください。",
                     message_en="You are not registered as this person's proxy. Please ask the town office.")


def contacts(conn: Connection, resident_ids: Iterable[int]) -> dict[int, list[ProxyContact]]:
    """The reachable, active proxies of each resident, to be told what the resident is told."""
    ids = list(resident_ids)
    if not ids:
        return {}
    rows = conn.execute(
        select(ResidentProxy.resident_id, Resident.id, Resident.line_user_id, Resident.language)
        .join(Resident, Resident.id == ResidentProxy.proxy_resident_id)
        .where(ResidentProxy.resident_id.in_(ids), Resident.status == "active", Resident.reachable.is_(True),
               Resident.line_user_id.is_not(None))
        .order_by(ResidentProxy.resident_id, Resident.id)).all()
    out: dict[int, list[ProxyContact]] = defaultdict(list)
    for rid, pid, uid, lang in rows:
        out[rid].append(ProxyContact(pid, uid, "en" if lang == "en" else "ja"))
    return dict(out)


def names(conn: Connection, resident_ids: Iterable[int]) -> dict[int, str]:
    ids = list(resident_ids)
    return dict(conn.execute(select(Resident.id, Resident.name).where(Resident.id.in_(ids))).all()) if ids else {}


def record(db: Database, proxy_resident_id: int, resident_id: int, act: str, **params: Any) -> None:
    """Write down that the proxy did `act` for the resident (view, grant_claim)."""
    with db.write() as s:
        s.add(AuditLog(actor=f"proxy:{proxy_resident_id}", action=f"proxy.{act}", result="done",
                       params={"resident_id": resident_id, "proxy_resident_id": proxy_resident_id, **params}))


def label(name: str, lang: str, ja: str, en: str) -> str:
    """「田中 トメさんの残高」 / "Balance of 田中 トメ"."""
    return f"{name}さんの{ja}" if lang != "en" else f"{en} of {name}"
