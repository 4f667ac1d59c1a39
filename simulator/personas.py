"""Who can be played in the simulator: the demo town's personas, as the database knows them now.

The stable LINE ids are the ones the README lists (`machi demo seed` creates them); what a
persona *is* right now (registered? which shops? English?) is read from the ledger's tables on
every call, so registering in the chat turns 鈴木 健太 from a guest into a resident. Residents
without a smartphone appear as card holders: they stand at a shop counter with a plastic card.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.models import Card, Event, Merchant, MerchantStaff, Resident


@dataclass(frozen=True)
class KnownPersona:
    user_id: str
    name: str  # the LINE display name
    note: str  # who they are, for the picker
    role: str  # resident / guest / shop / staff: how the demo means them
    language: str = "ja"


def _uid(body: str) -> str:
    return "U" + body.rjust(32, "0")


HANAKO = KnownPersona(_uid("0001"), "佐藤 花子", "34歳・出産したばかり", "resident")
ISAMU = KnownPersona(_uid("0002"), "高橋 勇", "72歳・ボランティア常連", "resident")
EMILY = KnownPersona(_uid("0003"), "Emily Walker", "29歳・英語表示", "resident", "en")
KENTA = KnownPersona(_uid("f0901"), "鈴木 健太", "未登録・これから登録", "guest")
BAKER = KnownPersona(_uid("b0001"), "小麦 太郎", "こむぎベーカリー 店主", "shop")
ACOOP = KnownPersona(_uid("b0002"), "店員 さくら", "Aコープ苫前店 店員", "shop")
STAFF = KnownPersona(_uid("c0001"), "役場 産業振興課", "町役場の職員", "staff")
KNOWN: tuple[KnownPersona, ...] = (HANAKO, ISAMU, EMILY, KENTA, BAKER, ACOOP, STAFF)
DEFAULT_LEFT, DEFAULT_RIGHT = HANAKO.user_id, ACOOP.user_id  # a resident and a clerk
MAX_OTHERS = 200  # other residents listed in the picker (a city of a million is not a dropdown)


@dataclass
class Persona:
    """A LINE user of the demo, or a card holder (no LINE id)."""

    id: str
    name: str
    note: str
    role: str
    language: str = "ja"
    registered: bool = False
    resident_id: int | None = None
    shops: list[dict[str, str]] = field(default_factory=list)
    card: dict[str, str] | None = None
    known: bool = False

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def list_personas(session: Session, *, demo_pin: str = "1234") -> list[Persona]:
    """Known personas first, then other LINE users of the town, then card holders."""
    residents = {r.line_user_id: r for r in session.execute(
        select(Resident).where(Resident.line_user_id.is_not(None)).order_by(Resident.id).limit(MAX_OTHERS + 50)
    ).scalars()}
    known_ids = {p.user_id for p in KNOWN}
    residents.update({r.line_user_id: r for r in session.execute(
        select(Resident).where(Resident.line_user_id.in_(known_ids))).scalars()})
    staff = _staff_roles(session)
    out = [_persona(p.user_id, residents.get(p.user_id), staff.get(p.user_id, []), p) for p in KNOWN]
    others = [uid for uid in [*residents, *staff] if uid not in known_ids]
    out += [_persona(uid, residents.get(uid), staff.get(uid, []), None)
            for uid in list(dict.fromkeys(others))[:MAX_OTHERS]]
    return out + _card_holders(session, demo_pin)


def _staff_roles(session: Session) -> dict[str, list[dict[str, str]]]:
    rows = session.execute(
        select(MerchantStaff.line_user_id, MerchantStaff.role, MerchantStaff.name, Merchant.code, Merchant.name)
        .join(Merchant, Merchant.id == MerchantStaff.merchant_id)
        .where(Merchant.active.is_(True)).order_by(Merchant.code))
    out: dict[str, list[dict[str, str]]] = {}
    for user_id, role, staff_name, code, shop_name in rows:
        out.setdefault(user_id, []).append({"code": code, "name": shop_name, "role": role, "staff_name": staff_name})
    return out


def _persona(user_id: str, resident: Resident | None, shops: list[dict[str, str]],
             known: KnownPersona | None) -> Persona:
    registered = resident is not None and resident.status == "active"
    if known is not None:
        name, note, language = known.name, known.note, known.language
    elif resident is not None:
        name, note, language = resident.name, f"{resident.district}の住民".lstrip("の"), resident.language
    else:
        staff_name = next((s["staff_name"] for s in shops if s["staff_name"]), "")
        name = staff_name or f"{shops[0]['name']}の方"
        note, language = f"{shops[0]['name']} {'店主' if shops[0]['role'] == 'owner' else '店員'}", "ja"
    if resident is not None:
        language = resident.language or language
    role = "resident" if registered else ("shop" if shops else (known.role if known else "guest"))
    if known is not None and known.role == "staff":
        role = "staff"
    return Persona(id=user_id, name=name, note=note, role=role, language=language, registered=registered,
                   resident_id=resident.id if resident is not None else None,
                   shops=[{k: v for k, v in s.items() if k != "staff_name"} for s in shops], known=known is not None)


def _card_holders(session: Session, demo_pin: str) -> list[Persona]:
    """Residents without LINE who hold an active card: they pay at the counter."""
    rows = session.execute(
        select(Resident, Card.number).join(Card, Card.resident_id == Resident.id)
        .where(Resident.line_user_id.is_(None), Card.status == "active").order_by(Resident.id).limit(10))
    return [Persona(id=f"card:{number}", name=r.name, note="スマホなし・カードで支払う", role="card",
                    registered=True, resident_id=r.id, card={"number": number, "pin": demo_pin})
            for r, number in rows]


def scan_choices(session: Session, personas: list[Persona]) -> dict[str, list[dict[str, str]]]:
    """What a scanner can read besides another phone's screen: posters and cards at the counter."""
    shops = session.execute(select(Merchant.code, Merchant.name).where(Merchant.active.is_(True))
                            .order_by(Merchant.code).limit(100))
    events = session.execute(select(Event.code, Event.name).order_by(Event.id.desc()).limit(20))
    return {
        "cards": [{"label": f"{p.name}さんのカード", "value": p.card["number"], "hint": f"暗証番号 {p.card['pin']}"}
                  for p in personas if p.card],
        "shops": [{"label": f"{name}（ポスター）", "value": f"MWS.{code}", "hint": code} for code, name in shops],
        "events": [{"label": f"{name}（受付のQR）", "value": f"MWE.{code}", "hint": code} for code, name in events],
    }

