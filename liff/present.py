"""Ledger results shaped as the JSON the pages show: names in the person's language, times in Tokyo."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, select

from flows.present import history_value, joined
from ledger.categories import label
from ledger.clock import to_jst
from ledger.models import MoneyType
from ledger.queries import Balance, HistoryItem
from ledger.services.payments import PaymentResult


@dataclass(frozen=True)
class MoneyTypeInfo:
    code: str
    name: str
    name_en: str
    kind: str
    spendable: bool
    accepted_category: str | None


class MoneyTypeNames:
    """Money type names and flags, read at most once a minute: they almost never change."""

    def __init__(self, engine: Engine, ttl: float = 60.0) -> None:
        self._engine, self._ttl = engine, ttl
        self._loaded_at = 0.0
        self._by_code: dict[str, MoneyTypeInfo] = {}
        self._lock = threading.Lock()

    def get(self, code: str) -> MoneyTypeInfo:
        found = self._all().get(code)
        if found is None:
            self._loaded_at = 0.0  # a new money type: read again
            found = self._all().get(code) or MoneyTypeInfo(code, code, code, "", True, None)
        return found

    def _all(self) -> dict[str, MoneyTypeInfo]:
        if time.monotonic() - self._loaded_at > self._ttl:
            with self._lock, self._engine.connect() as conn:
                rows = conn.execute(select(MoneyType.code, MoneyType.name, MoneyType.name_en, MoneyType.kind,
                                           MoneyType.spendable, MoneyType.accepted_category)).all()
                self._by_code = {r.code: MoneyTypeInfo(r.code, r.name, r.name_en or r.name, r.kind,
                                                       bool(r.spendable), r.accepted_category) for r in rows}
                self._loaded_at = time.monotonic()
        return self._by_code


def name_of(info: MoneyTypeInfo, lang: str) -> str:
    return info.name_en if lang == "en" else info.name


def jst_iso(dt: datetime | None) -> str | None:
    return to_jst(dt).isoformat(timespec="seconds") if dt else None


def jst_label(dt: datetime | None, lang: str = "ja") -> str:
    if dt is None:
        return ""
    local = to_jst(dt)
    if lang == "en":
        return local.strftime("%b %-d, %Y %H:%M")
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def day_label(day: date | None, lang: str = "ja") -> str:
    if day is None:
        return ""
    return day.strftime("%b %-d, %Y") if lang == "en" else f"{day.year}年{day.month}月{day.day}日"


def balance_json(b: Balance, info: MoneyTypeInfo, lang: str) -> dict[str, Any]:
    restricted = b.accepted_category
    note = ""
    if restricted:
        note = (f"Only at {label(restricted, 'en')}" if lang == "en"
                else f"{label(restricted)}だけで使えます（専用券）")
    elif not info.spendable:
        note = "Points: exchange them for vouchers in the chat" if lang == "en" else "ポイントはトークで商品券に交換できます"
    return {
        "money_type": b.money_type, "name": b.name_en if lang == "en" else b.name, "kind": b.kind,
        "amount": b.amount, "spendable": info.spendable, "accepted_category": restricted, "note": note,
        "next_expiry": b.next_expiry.isoformat() if b.next_expiry else None,
        "next_expiry_label": day_label(b.next_expiry, lang), "expiring_amount": b.expiring_amount,
    }


CHANNEL_LABELS = {"cpm": ("お客様のQR", "Customer QR"), "mpm": ("お店のQR", "Shop QR"), "card": ("カード", "Card")}


def payment_json(res: PaymentResult, names: MoneyTypeNames, lang: str) -> dict[str, Any]:
    return {
        "id": res.entry_id, "kind": res.kind, "amount": res.amount, "channel": res.channel,
        "channel_label": CHANNEL_LABELS.get(res.channel, ("", ""))[1 if lang == "en" else 0],
        "merchant": {"id": res.merchant_id, "name": res.merchant_name},
        "at": jst_iso(res.created_at), "at_label": jst_label(res.created_at, lang),
        "breakdown": [{"money_type": code, "name": name_of(names.get(code), lang), "amount": amount}
                      for code, amount in sorted(res.breakdown.items())],
        "replayed": res.replayed,
    }


_KIND_LABELS = {
    "payment": ("お支払い", "Payment"), "refund": ("返金", "Refund"), "issue": ("受け取り", "Received"),
    "sale": ("商品券の購入", "Vouchers bought"), "transfer": ("送金", "Transfer"), "exchange": ("ポイント交換", "Exchange"),
    "expiry": ("有効期限切れ", "Expired"), "payout": ("精算", "Payout"), "correction": ("訂正", "Correction"),
}


def history_json(item: HistoryItem, lang: str) -> dict[str, Any]:
    """`title` is who or what (the shop, the grant or event); `kind_label` says what happened."""
    ja, en = _KIND_LABELS.get(item.kind, (item.kind, item.kind))
    kind_label = en if lang == "en" else ja
    title = joined(item.names(lang), lang) or kind_label
    if item.merchant and item.kind in ("payment", "refund"):
        title = item.merchant
    elif item.memo and item.kind in ("issue", "correction"):
        title = item.about(lang)
    return {"id": item.entry_id, "kind": item.kind, "kind_label": kind_label, "title": title, "amount": item.amount,
            "value_label": history_value(item.kind, item.amount, item.only_points, lang),
            "money_types": item.names(lang), "at": jst_iso(item.at), "at_label": jst_label(item.at, lang),
            "refunded": item.refunded}
