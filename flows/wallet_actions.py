"""Balance and history: read-only views of a resident's wallet as cards.

Balance: one card with the total (and the pay button), then one card per money type with the
soonest expiry and where it can be spent. History: the latest entries with shop and money
type, newest first, with a "more" button that pages by entry id.
"""
from __future__ import annotations

from flows.actions import action
from flows.context import ActionContext, ActionResult
from flows.inputs import postback_data
from flows.messages import Button, Card, Carousel, Message, QuickReply, Text
from flows.on_behalf import principal_replies
from flows.present import (
    KIND_COLOURS,
    amount_of,
    history_value,
    joined,
    kind_label,
    money_name,
    say,
    short_day,
    until,
    yen,
)
from flows.resident_actions import menu_replies
from flows.residents import current, db_of, not_registered
from ledger import queries
from ledger.categories import label as category_label

HISTORY_PAGE = 8

@action("show_balance")
def show_balance(ctx: ActionContext) -> ActionResult:
    me = current(ctx)
    if me is None:
        return not_registered(ctx)
    return ActionResult(messages=balance_messages(ctx, me.account_id, more=principal_replies(ctx, me)))


def balance_messages(ctx: ActionContext, account_id: int, whose: str | None = None,
                     more: list[QuickReply] | None = None) -> list[Message]:
    """The balance carousel of a wallet; `whose` names someone else's (a proxy looking: 「田中 トメさんの」)."""
    with db_of(ctx).engine.connect() as conn:
        held = queries.balances(conn, account_id, ctx.now)
    lang = ctx.lang
    if not held:
        text = say(lang, "いまの残高は0円です。", "Your balance is ¥0.")
        if whose:
            text = say(lang, f"{whose}さんの残高は0円です。", f"{whose}'s balance is ¥0.")
        return [Text(text, [] if whose else [*(more or []), *menu_replies(ctx)][:13])]
    money = [b for b in held if b.kind != "point"]
    total = sum(b.amount for b in money)
    rows = [(money_name(b.name, b.name_en, lang), amount_of(b.kind, b.amount, lang)) for b in held]
    title = say(lang, "残高の合計", "Total balance")
    if whose:
        title = say(lang, f"{whose}さんの残高", f"Balance of {whose}")
    summary = Card(title=title, amount=yen(total, lang), rows=rows,
                   buttons=[] if whose else [Button.liff(say(lang, "支払う", "Pay"), "pay")],
                   alt_text=f"{title} {yen(total, lang)}")
    cards = [summary, *(_money_card(b, lang, own=not whose) for b in held)][:12]
    alt = summary.alt_text + "\n" + "\n".join(f"{k}: {v}" for k, v in rows)
    return [Carousel(cards, alt_text=alt[:400], quick_replies=[] if whose else [*_after_balance(lang), *(more or [])])]


def _money_card(b: queries.Balance, lang: str, *, own: bool = True) -> Card:
    name = money_name(b.name, b.name_en, lang)
    rows = []
    if b.next_expiry is not None:
        rows.append((say(lang, "いちばん近い期限", "Soonest expiry"),
                     f"{until(b.next_expiry, lang)}\n({amount_of(b.kind, b.expiring_amount, lang)})"))
    else:
        rows.append((say(lang, "有効期限", "Expiry"), until(None, lang)))
    if b.kind == "point":
        rows.append((say(lang, "使い方", "Use"), say(lang, "商品券に交換できます", "Exchange for vouchers")))
        buttons = [Button.postback(say(lang, "商品券に交換", "Exchange"), postback_data(flow="points_exchange"))] \
            if own else []
    else:
        where = category_label(b.accepted_category, "en" if lang == "en" else "ja") if b.accepted_category else \
            say(lang, "町内のすべての加盟店", "Every shop in town")
        rows.append((say(lang, "使えるお店", "Where"), where))
        buttons = []
    return Card(title=name, amount=amount_of(b.kind, b.amount, lang), rows=rows, buttons=buttons,
                emphasis=KIND_COLOURS.get(b.kind, "#1E7B4F"),
                alt_text=f"{name} {amount_of(b.kind, b.amount, lang)} {rows[0][1]}")


def _after_balance(lang: str) -> list[QuickReply]:
    return [QuickReply.postback(say(lang, "履歴", "History"), postback_data(flow="history")),
            QuickReply.postback(say(lang, "ポイント", "Points"), postback_data(flow="points")),
            QuickReply.postback(say(lang, "給付金", "Benefits"), postback_data(flow="grants"))]


@action("show_history")
def show_history(ctx: ActionContext) -> ActionResult:
    me = current(ctx)
    if me is None:
        return not_registered(ctx)
    return ActionResult(messages=history_messages(ctx, me.account_id))


def history_messages(ctx: ActionContext, account_id: int, whose: str | None = None) -> list[Message]:
    """One page of a wallet's history; `whose` names someone else's (a proxy looking)."""
    before = _int(ctx.vars.get("before"))
    lang = ctx.lang
    with db_of(ctx).engine.connect() as conn:
        items = queries.history(conn, account_id, limit=HISTORY_PAGE + 1, before_id=before)
    more = len(items) > HISTORY_PAGE
    items = items[:HISTORY_PAGE]
    if not items:
        text = say(lang, "これより前の記録はありません。" if before else "まだ記録はありません。",
                   "No earlier records." if before else "No records yet.")
        return [Text(text)]
    rows = [_history_row(item, lang) for item in items]
    buttons = [Button.postback(say(lang, "もっと前を見る", "Earlier"), postback_data(flow="history", before=items[-1].entry_id),
                               style="secondary")] if more and not whose else []
    title = say(lang, "これまでの記録", "History") if before is None else say(lang, "さらに前の記録", "Earlier history")
    if whose:
        title = say(lang, f"{whose}さんの記録", f"History of {whose}")
    page = Card(title=title, rows=rows, buttons=buttons,
                alt_text=(title + "\n" + "\n".join(f"{k.replace(chr(10), ' ')} {v}" for k, v in rows))[:400])
    return [page]


def _history_row(item: queries.HistoryItem, lang: str) -> tuple[str, str]:
    names = item.names(lang)
    where = " / ".join([item.merchant] if item.merchant else []) or (item.about(lang) if item.kind in ("grant", "issue") else "")
    detail = joined([where, joined(names, lang)], lang)
    label = f"{short_day(item.at, lang)} {kind_label(item.kind, lang)}"
    if item.refunded:
        label += say(lang, "（返金済み）", " (refunded)")
    value = history_value(item.kind, item.amount, item.only_points, lang)
    return (f"{label}\n{detail}" if detail else label, value)


def _int(value: object) -> int | None:
    try:
        return int(str(value)) if value not in (None, "") else None
    except ValueError:
        return None
