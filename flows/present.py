"""How money, points, dates and journal entries read in a chat, in Japanese and English.

One place for the wording, so a balance, a receipt and a history page say "1,200円" and
"2027年3月31日まで" the same way everywhere.
"""
from __future__ import annotations

from datetime import date, datetime

from flows.answers import format_date
from flows.i18n import norm_lang
from ledger.clock import to_jst

KIND_LABELS: dict[str, tuple[str, str]] = {
    "payment": ("お支払い", "Payment"),
    "refund": ("返金", "Refund"),
    "grant": ("給付金", "Benefit"),
    "issue": ("受け取り", "Received"),
    "sale": ("商品券の購入", "Vouchers bought"),
    "exchange": ("ポイント交換", "Points exchanged"),
    "expiry": ("期限切れ", "Expired"),
    "transfer": ("送金", "Transfer"),
    "correction": ("訂正", "Correction"),
    "payout": ("精算", "Payout"),
}


def en(lang: str | None) -> bool:
    return norm_lang(lang) == "en"


# The colour an amount of each kind is shown in. None is red: an amount in red reads as a debt.
KIND_COLOURS = {"prepaid": "#1E7B4F", "grant": "#5B3A8E", "point": "#8A4B00", "coupon": "#0B6472"}


def say(lang: str | None, ja: str, english: str) -> str:
    """The Japanese or the English wording."""
    return english if en(lang) else ja


def yen(amount: int, lang: str | None) -> str:
    return f"¥{amount:,}" if en(lang) else f"{amount:,}円"


def signed_yen(amount: int, lang: str | None) -> str:
    sign = "+" if amount > 0 else "−" if amount < 0 else ""
    return sign + yen(abs(amount), lang)


def points(amount: int, lang: str | None) -> str:
    return f"{amount:,} points" if en(lang) else f"{amount:,}ポイント"


def amount_of(kind: str, amount: int, lang: str | None) -> str:
    """Points are counted in points, everything else in yen."""
    return points(amount, lang) if kind == "point" else yen(amount, lang)


def history_value(kind: str, amount: int, only_points: bool, lang: str | None) -> str:
    """What one history line moved, as the chat and the LIFF history both show it: an exchange is
    told as such (its points out and yen in cancel out), points in points, the rest in yen."""
    if kind == "exchange" or amount == 0:
        return say(lang, "交換", "exchanged")
    if only_points:
        return ("+" if amount > 0 else "−") + points(abs(amount), lang)
    return signed_yen(amount, lang)


def day(value: date, lang: str | None) -> str:
    return format_date(value, norm_lang(lang))


def short_day(at: datetime, lang: str | None) -> str:
    """A journal time as a resident reads it: '4月12日 14:05' (Tokyo time)."""
    local = to_jst(at)
    if en(lang):
        return local.strftime("%b %-d, %H:%M")
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def until(value: date | None, lang: str | None) -> str:
    if value is None:
        return say(lang, "期限なし", "No expiry")
    return say(lang, f"{day(value, lang)}まで", f"until {day(value, lang)}")


def joined(parts: list[str], lang: str | None) -> str:
    """Names side by side: 「A・B」 in Japanese, "A · B" in English (the nakaguro is not English type)."""
    return say(lang, "・", " · ").join(p for p in parts if p)


def kind_label(kind: str, lang: str | None) -> str:
    ja, english = KIND_LABELS.get(kind, (kind, kind))
    return say(lang, ja, english)


def money_name(name: str, name_en: str, lang: str | None) -> str:
    return (name_en or name) if en(lang) else name
