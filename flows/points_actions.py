"""Community points: the points card, check-in at an event by its code, and exchanging points
into vouchers (500 points → 500 yen of 共通券 in the demo town) with a confirmation first."""
from __future__ import annotations

import uuid

import jaconv
from sqlalchemy import func, select

from flows.actions import action
from flows.context import ActionContext, ActionResult
from flows.errors import ActionError
from flows.inputs import postback_data
from flows.messages import Button, Card, Text
from flows.present import money_name, points, say, until, yen
from flows.residents import current, db_of, not_registered, uow_of
from ledger import queries
from ledger.errors import NotFound
from ledger.exchange_rules import rules_at
from ledger.models import Event, ExchangeRule, MoneyType
from ledger.services import checkins, transfers

POINT_COLOUR = "#8A4B00"


def _point_balances(ctx: ActionContext, account_id: int) -> list[queries.Balance]:
    with db_of(ctx).engine.connect() as conn:
        return [b for b in queries.balances(conn, account_id, ctx.now) if b.kind == "point"]


def _rule(ctx: ActionContext) -> tuple[ExchangeRule, MoneyType, MoneyType] | None:
    """The exchange offered for points (the first rule from a point money type)."""
    with db_of(ctx).session() as s:
        for rule in rules_at(s, ctx.now):
            src, dst = s.get(MoneyType, rule.from_type_id), s.get(MoneyType, rule.to_type_id)
            if src is not None and dst is not None and src.kind == "point" and src.active and dst.active:
                return rule, src, dst
    return None


@action("points_summary")
def points_summary(ctx: ActionContext) -> ActionResult:
    me = current(ctx)
    if me is None:
        return not_registered(ctx)
    lang = ctx.lang
    held = _point_balances(ctx, me.account_id)
    total = sum(b.amount for b in held)
    rows = [(say(lang, "いちばん近い期限", "Soonest expiry"), until(b.next_expiry, lang)) for b in held if b.next_expiry]
    found = _rule(ctx)
    buttons = [Button.postback(say(lang, "コードを入力", "Enter a code"), postback_data(flow="checkin")),
               Button.liff(say(lang, "QRコードを読む", "Scan a QR code"), "checkin", style="secondary")]
    if found is not None:
        rule, _src, dst = found
        to_name = money_name(dst.name, dst.name_en, lang)
        rows.append((say(lang, "交換", "Exchange"),
                     say(lang, f"{rule.from_units:,}ポイント → {to_name} {rule.to_units:,}円分",
                         f"{rule.from_units:,} points → {to_name} ¥{rule.to_units:,}")))
        if total >= rule.from_units:
            buttons.insert(0, Button.postback(say(lang, "商品券に交換", "Exchange"), postback_data(flow="points_exchange")))
    body = say(lang, "イベントで受け取ったコードを入力するか、会場のQRコードを読むとポイントがたまります。",
               "Collect points at events: enter the event's code, or scan its QR code.")
    card = Card(title=say(lang, "ポイント", "Points"), amount=points(total, lang), rows=rows, body=body,
                buttons=buttons, emphasis=POINT_COLOUR,
                alt_text=say(lang, f"ポイント {points(total, lang)}", f"Points: {points(total, lang)}"))
    return ActionResult(messages=[card], vars={"points": total})


def event_code(raw: str) -> str:
    """'ｋａｉｇａｎ ' / 'kaigan' → 'KAIGAN': full width, spaces and case forgiven."""
    return "".join(jaconv.z2h(raw or "", kana=False, ascii=True, digit=True).split()).upper()


@action("checkin_event")
def checkin_event(ctx: ActionContext) -> ActionResult:
    me = current(ctx)
    if me is None:
        return not_registered(ctx)
    code = event_code(str(ctx.answers.get("code", "")))
    try:
        res = checkins.check_in(uow_of(ctx), event_code=code, resident_id=me.id, actor=f"line:{ctx.user_id}")
    except NotFound as e:  # a typo: say so and ask again
        return ActionResult(messages=[Text(e.message_en if ctx.lang == "en" else e.message)], goto="code")
    with db_of(ctx).engine.connect() as conn:
        ev = conn.execute(select(Event.name, Event.name_en).where(func.upper(Event.code) == code)).first()
    name = (ev.name_en or ev.name if ctx.lang == "en" else ev.name) if ev is not None else code
    held = sum(b.amount for b in _point_balances(ctx, me.account_id))
    return ActionResult(vars={"event": name, "got": points(res.amount, ctx.lang), "total": points(held, ctx.lang),
                              "expires": until(res.expires_on, ctx.lang)})


@action("exchange_start")
def exchange_start(ctx: ActionContext) -> ActionResult:
    me = current(ctx)
    if me is None:
        return not_registered(ctx)
    found = _rule(ctx)
    if found is None:
        raise ActionError("いまはポイントの交換を受け付けていません。", "Points cannot be exchanged at the moment.")
    rule, src, dst = found
    have = sum(b.amount for b in _point_balances(ctx, me.account_id) if b.money_type == src.code)
    lang = ctx.lang
    if have < rule.from_units:
        raise ActionError(f"交換には{rule.from_units:,}ポイント必要です。いまのポイントは{have:,}ポイントです。",
                          f"You need {rule.from_units:,} points to exchange; you have {have:,}.")
    most = have // rule.from_units * rule.from_units
    return ActionResult(vars={"unit": rule.from_units, "unit2": 2 * rule.from_units, "have": have, "most": most,
                              "from_code": src.code, "to_code": dst.code, "to_name": money_name(dst.name, dst.name_en, lang)})


@action("exchange_quote")
def exchange_quote(ctx: ActionContext) -> ActionResult:
    """Whole units only, no more than held: otherwise say why and ask again."""
    amount, unit, most = int(ctx.answers["amount"]), int(ctx.vars["unit"]), int(ctx.vars["most"])
    lang = ctx.lang
    if amount % unit or amount > most:
        text = say(lang, f"{unit:,}ポイント単位で、{most:,}ポイントまでの数を入力してください。",
                   f"Please enter a multiple of {unit:,}, at most {most:,}.")
        return ActionResult(messages=[Text(text)], goto="amount")
    with db_of(ctx).session() as s:
        _rule_row, received = transfers.exchange_quote(s, ctx.vars["from_code"], ctx.vars["to_code"], amount,
                                                       ctx.now)
    return ActionResult(vars={"points": amount, "received": received, "received_text": yen(received, lang),
                              "key": f"line-exchange:{uuid.uuid4().hex}"})


@action("exchange_points")
def exchange_points(ctx: ActionContext) -> ActionResult:
    me = current(ctx)
    if me is None:
        return not_registered(ctx)
    v = ctx.vars
    res = transfers.exchange(uow_of(ctx), resident_id=me.id, from_type=v["from_code"], to_type=v["to_code"],
                             amount=int(v["points"]), idempotency_key=str(v["key"]))
    left = sum(b.amount for b in _point_balances(ctx, me.account_id) if b.money_type == v["from_code"])
    return ActionResult(vars={"received_text": yen(res.received, ctx.lang), "left": points(left, ctx.lang)})
