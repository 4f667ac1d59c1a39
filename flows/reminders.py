"""The expiry reminder as a channel-neutral card: what ends on a day, how much, and the way to use it.

The scheduler sends it 30 and 7 days before money ends (`town/reminders.py`), one card per
resident per day, naming every money type that ends then. The buttons save an older resident from
finding the menu: pay at a shop, or exchange points for vouchers.
"""
from __future__ import annotations

from datetime import date

from flows.inputs import postback_data
from flows.messages import Button, Card
from flows.present import day, points, say, yen


def expiry_card(items: list[tuple[str, str, int]], due: date, days_left: int, lang: str | None,
                whose: str | None = None) -> Card:
    """`items`: (money type name as the resident reads it, its kind, amount), for money ending on `due`.
    `whose` names the person when the card goes to their proxy: labelled, and with no pay button."""
    rows = [(name, points(amount, lang) if kind == "point" else yen(amount, lang)) for name, kind, amount in items]
    when = say(lang, f"{day(due, lang)}まで（あと{days_left}日）", f"until {day(due, lang)} ({days_left} days left)")
    buttons = [Button.liff(say(lang, "支払う", "Pay"), "pay")] if not whose else []
    if any(kind == "point" for _name, kind, _amount in items) and not whose:
        buttons.append(Button.postback(say(lang, "商品券に交換", "Exchange"), postback_data(flow="points_exchange"),
                                       style="secondary"))
    listed = say(lang, "、", ", ").join(f"{name} {shown}" for name, shown in rows)
    title = say(lang, "まもなく有効期限です", "Expiring soon")
    if whose:
        title = say(lang, f"{whose}さんの残高が、まもなく有効期限です", f"Expiring soon (for {whose})")
    return Card(title=title,
                amount=rows[0][1] if len(rows) == 1 else "",
                rows=[*rows, (say(lang, "使える期限", "Use it"), when)],
                body=say(lang, "期限を過ぎると使えなくなります。お早めにお使いください。",
                         "After that date it can no longer be used."),
                buttons=buttons,
                alt_text=say(lang, f"{listed}は{day(due, lang)}までです（あと{days_left}日）",
                             f"{listed} expires on {day(due, lang)} ({days_left} days left)"))
