"""Residents LINE cannot reach (card-only, or who blocked the account), listed with what to tell them
by post: for an announcement, an expiry reminder or a grant. Announcements and reminders only count
them; this gives the counter a mail-merge list (CSV) of name, address facts we hold and the message.
Making the list is recorded in the audit log (it holds names)."""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, datetime

from sqlalchemy import exists, or_, select

from ledger.clock import jst_date
from ledger.db import Database
from ledger.errors import InvalidInput, NotFound
from ledger.models import Card, Entry, GrantProgram, MoneyType, Resident, Segment
from ledger.queries import last_valid_day
from ledger.segments import segment_query
from ledger.services.expiry import expiring_on
from town.models import Announcement
from town.staff_tx import staff_write

PURPOSES = ("announcement", "reminder", "grant")
CSV_HEADER = ["番号", "氏名", "フリガナ", "地区", "世帯番号", "電話", "カード", "理由", "お知らせ内容"]


@dataclass(frozen=True)
class PostalRecipient:
    resident_id: int
    name: str
    kana: str
    district: str
    household_code: str
    phone: str
    card: bool
    reason: str
    message: str


@dataclass(frozen=True)
class PostalList:
    purpose: str
    subject: str
    recipients: list[PostalRecipient]


def _unreachable():
    return or_(Resident.line_user_id.is_(None), Resident.reachable.is_(False))


def _rows(s, ids_query, message_of) -> list[PostalRecipient]:
    carded = exists().where(Card.resident_id == Resident.id, Card.status == "active")
    rows = s.execute(select(Resident, carded.label("card"))
                     .where(Resident.id.in_(ids_query), _unreachable()).order_by(Resident.id)).all()
    return [PostalRecipient(r.id, r.name, r.name_kana, r.district, r.household_code or "", r.phone or "", bool(card),
                            "LINE未登録（カードのみ）" if r.line_user_id is None else "LINEブロック中",
                            message_of(r.id)) for r, card in rows]


def _message_text(messages: list[dict]) -> str:
    parts = [m.get("text") if m.get("type") == "text" else m.get("altText", "") for m in messages or []]
    return " / ".join(p for p in parts if p)


def _announcement(s, ann_id: int, today: date) -> PostalList:
    ann = s.get(Announcement, ann_id)
    if ann is None:
        raise NotFound(f"お知らせ {ann_id} はありません。`machi announce list` で確かめてください。")
    if ann.kind == "grant_notice":
        raise InvalidInput("入金のお知らせは給付事業で指定してください（machi postal grant <事業コード>）。")
    q = segment_query(ann.criteria or {}, today)
    if ann.exclude_grant:
        q = q.where(~exists().where(Entry.resident_id == Resident.id, Entry.ref == f"grant:{ann.exclude_grant}"))
    text = f"{ann.title}: {_message_text(ann.messages)}"
    return PostalList("announcement", f"お知らせ {ann.id}「{ann.title}」", _rows(s, q.order_by(None), lambda _r: text))


def _reminder(s, due: date) -> PostalList:
    names = dict(s.execute(select(MoneyType.code, MoneyType.name)).all())
    per: dict[int, list[str]] = defaultdict(list)
    for it in expiring_on(s.connection(), due):
        per[it.resident_id].append(f"{names.get(it.money_type, it.money_type)} {it.amount:,}円")
    tell = {rid: f"{'、'.join(items)} の有効期限は {due:%Y年%-m月%-d日} です。期限を過ぎると使えなくなりますので、"
                 "お早めにお使いください。" for rid, items in per.items()}
    return PostalList("reminder", f"{due:%Y-%m-%d} に期限が来る残高のお知らせ",
                      _rows(s, select(Resident.id).where(Resident.id.in_(list(per))), lambda r: tell[r]))


def _grant(s, code: str, today: date) -> PostalList:
    prog = s.execute(select(GrantProgram).where(GrantProgram.code == code.strip().upper())).scalar()
    if prog is None:
        raise NotFound(f"給付事業「{code}」はありません。`machi grant list` で確かめてください。")
    mt = s.get(MoneyType, prog.money_type_id)
    received = exists().where(Entry.resident_id == Resident.id, Entry.ref == f"grant:{prog.code}")
    if prog.mode == "push":
        q = select(Resident.id).where(received)
        text = (f"「{prog.name}」{prog.amount:,}円分（{mt.name}）をお財布に入金しました。"
                "カードで町内のお店でお使いいただけます。")
    else:
        criteria = (s.execute(select(Segment.criteria).where(Segment.id == prog.segment_id)).scalar() or {}
                    ) if prog.segment_id else {}
        q = segment_query(criteria, today).where(~received).order_by(None)
        until = f"{last_valid_day(prog.ends_at):%Y年%-m月%-d日}まで" if prog.ends_at else ""
        text = (f"「{prog.name}」{prog.amount:,}円分（{mt.name}）を受け取れます。本人確認書類かカードをお持ちのうえ、"
                f"役場の窓口でお受け取りください{('（' + until + '）') if until else ''}。")
    return PostalList("grant", f"給付事業「{prog.name}」（{prog.code}）", _rows(s, q, lambda _r: text))


def postal_list(db: Database, *, purpose: str, ref: str | int | date, now: datetime, actor: str) -> PostalList:
    """`ref`: the announcement number, the reminder's due date, or the grant's code."""
    if purpose not in PURPOSES:
        raise InvalidInput(f"対象は {', '.join(PURPOSES)} のいずれかです。")
    today = jst_date(now)

    def work(s) -> tuple[PostalList, dict, str]:
        if purpose == "announcement":
            out = _announcement(s, int(ref), today)
        elif purpose == "reminder":
            out = _reminder(s, ref if isinstance(ref, date) else date.fromisoformat(str(ref)))
        else:
            out = _grant(s, str(ref), today)
        return out, {"purpose": purpose, "ref": str(ref), "rows": len(out.recipients)}, "postal list made"

    return staff_write(db, actor=actor, action="postal.list", dry_run=False, work=work)


def to_csv(lst: PostalList) -> str:
    """For mail merge (差し込み印刷): a header row, one resident a row; the face writes it with a BOM for Excel."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_HEADER)
    for r in lst.recipients:
        d = asdict(r)
        w.writerow([d["resident_id"], d["name"], d["kana"], d["district"], d["household_code"], d["phone"],
                    "あり" if d["card"] else "なし", d["reason"], d["message"]])
    return buf.getvalue()
