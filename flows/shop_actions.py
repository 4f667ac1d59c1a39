"""The shop menu's chat answers for shop staff: today's sales and the latest payouts (精算).

The till itself (scan, charge, refund) is a LIFF page; these are the quick looks a shop owner
wants without opening it.
"""
from __future__ import annotations

from sqlalchemy import func, select

from flows.actions import action
from flows.context import ActionContext, ActionResult
from flows.messages import Button, Card, Text
from flows.present import day, say, yen
from flows.residents import db_of
from ledger import registry
from ledger.clock import jst_midnight_utc, today_jst
from ledger.models import Entry, Payout, PayoutBatch

MAX_SHOPS = 5


def _shops(ctx: ActionContext) -> list[tuple[int, str]]:
    with db_of(ctx).session() as s:
        return [(m.id, m.name) for m, _role in registry.staff_roles(s, ctx.user_id)][:MAX_SHOPS]


def _not_staff(ctx: ActionContext) -> ActionResult:
    return ActionResult(messages=[Text(say(ctx.lang, "これはお店の方向けの機能です。お店の登録は役場（商工会）にお問い合わせください。",
                                           "This is for shop staff. To register a shop, please contact the town office."))],
                        end=True)


@action("shop_sales")
def shop_sales(ctx: ActionContext) -> ActionResult:
    shops = _shops(ctx)
    if not shops:
        return _not_staff(ctx)
    lang = ctx.lang
    since = jst_midnight_utc(today_jst(ctx.now))
    cards = []
    with db_of(ctx).engine.connect() as conn:
        for shop_id, name in shops:
            totals = {kind: (n, amount) for kind, n, amount in conn.execute(
                select(Entry.kind, func.count(), func.coalesce(func.sum(Entry.amount), 0))
                .where(Entry.merchant_id == shop_id, Entry.created_at >= since, Entry.kind.in_(("payment", "refund")))
                .group_by(Entry.kind))}
            paid_n, paid = totals.get("payment", (0, 0))
            refund_n, refunded = totals.get("refund", (0, 0))
            cards.append(Card(
                title=say(lang, f"{name} 今日の売上", f"{name}: today"), amount=yen(int(paid) - int(refunded), lang),
                rows=[(say(lang, "お支払い", "Payments"), say(lang, f"{paid_n}件 {yen(int(paid), lang)}",
                                                              f"{paid_n}, {yen(int(paid), lang)}")),
                      (say(lang, "返金", "Refunds"), say(lang, f"{refund_n}件 {yen(int(refunded), lang)}",
                                                          f"{refund_n}, {yen(int(refunded), lang)}"))],
                buttons=[Button.liff(say(lang, "レジを開く", "Open the till"), "till")]))
    return ActionResult(messages=cards[:5])


@action("shop_payouts")
def shop_payouts(ctx: ActionContext) -> ActionResult:
    shops = _shops(ctx)
    if not shops:
        return _not_staff(ctx)
    lang = ctx.lang
    cards = []
    with db_of(ctx).engine.connect() as conn:
        for shop_id, name in shops:
            rows = conn.execute(
                select(Payout.net, Payout.status, PayoutBatch.period_start, PayoutBatch.period_end,
                       PayoutBatch.transfer_date)
                .join(PayoutBatch, PayoutBatch.id == Payout.batch_id)
                .where(Payout.merchant_id == shop_id).order_by(PayoutBatch.period_end.desc()).limit(3)).all()
            if not rows:
                cards.append(Card(title=say(lang, f"{name} 精算", f"{name}: payouts"),
                                  body=say(lang, "まだ精算はありません。", "No payouts yet.")))
                continue
            latest = rows[0]
            status = say(lang, "振込済み", "paid") if latest.status == "paid" else \
                say(lang, f"{day(latest.transfer_date, lang)}に振込予定", f"to be paid on {day(latest.transfer_date, lang)}")
            cards.append(Card(
                title=say(lang, f"{name} 精算", f"{name}: payouts"), amount=yen(int(latest.net), lang),
                rows=[(f"{day(r.period_start, lang)}〜{day(r.period_end, lang)}", yen(int(r.net), lang)) for r in rows],
                body=status))
    return ActionResult(messages=cards[:5])
