"""Town grants (給付金) in the chat: what I can claim, and claiming one with a confirmation.

Push-type grants are credited by the town without asking (the resident gets a notice); claim-
type grants wait for the resident to accept. `offer_card` is the notice with the accept button
that the bot pushes to eligible residents; its button starts `grant_claim` for that program.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from flows.actions import action
from flows.context import ActionContext, ActionResult
from flows.errors import ActionError
from flows.inputs import postback_data
from flows.messages import Button, Card, Text
from flows.on_behalf import subject
from flows.present import KIND_COLOURS, day, money_name, say, until, yen
from flows.resident_actions import menu_replies
from flows.residents import current, db_of, not_registered, uow_of
from ledger.clock import last_valid_day
from ledger.models import GrantProgram, MoneyType
from ledger.services import grants
from town import proxies

GRANT_COLOUR = KIND_COLOURS["grant"]


@dataclass(frozen=True)
class GrantView:
    code: str
    name: str
    amount: int
    mode: str
    money_name: str
    validity_days: int | None
    ends_on: object  # date | None: the last day to claim
    state: str  # claimable / received / not_eligible / not_open / closed / automatic


def grant_view(conn: Connection, prog: GrantProgram, resident_id: int, now: datetime, lang: str) -> GrantView:
    mt = conn.execute(select(MoneyType.name, MoneyType.name_en, MoneyType.validity_days)
                      .where(MoneyType.id == prog.money_type_id)).one()
    state = grants.standing(conn, prog, resident_id, now)  # the ledger's one rule for who may receive it
    if state == "eligible":
        state = "claimable" if prog.mode == "claim" else "automatic"
    ends_on = last_valid_day(prog.ends_at) if prog.ends_at else None
    name = (prog.name_en or prog.name) if lang == "en" else prog.name
    return GrantView(prog.code, name, prog.amount, prog.mode, money_name(mt.name, mt.name_en, lang),
                     mt.validity_days, ends_on, state)


def offer_card(view: GrantView, lang: str, *, button: bool = True, whose: str | None = None,
               for_resident: int | None = None) -> Card:
    """A claimable grant; with its one button, 受け取る, when it is a notice. For a proxy, `whose` and
    `for_resident` name the person it is for (「田中 トメさんの…」) and the button claims it for them."""
    rows: list[tuple[str, str]] = []
    if view.ends_on:
        rows.append((say(lang, "受け取り期限", "Claim by"), day(view.ends_on, lang)))  # type: ignore[arg-type]
    if view.validity_days:
        rows.append((say(lang, "使える期間", "Valid for"),
                     say(lang, f"受け取りから{view.validity_days}日", f"{view.validity_days} days from receipt")))
    data = postback_data(flow="grant_claim", program=view.code,
                         **({"for": str(for_resident)} if for_resident is not None else {}))
    buttons = [Button.postback(say(lang, "受け取る", "Receive"), data)]
    title = say(lang, f"{whose}さんの{view.name}", f"{view.name} for {whose}") if whose else view.name
    return Card(title=title, amount=yen(view.amount, lang), rows=rows,
                body=say(lang, "下のボタンから受け取れます。", "Tap the button below to receive it.") if button else "",
                buttons=buttons if button else [], emphasis=GRANT_COLOUR,
                alt_text=say(lang, f"{title} {yen(view.amount, lang)}を受け取れます",
                             f"You can receive {title}: {yen(view.amount, lang)}"))


@action("list_grants")
def list_grants(ctx: ActionContext) -> ActionResult:
    me = current(ctx)
    if me is None:
        return not_registered(ctx)
    lang = ctx.lang
    with db_of(ctx).session() as s:
        progs = s.execute(select(GrantProgram).where(GrantProgram.active.is_(True)).order_by(GrantProgram.id)).scalars()
        views = [grant_view(s.connection(), p, me.id, ctx.now, lang) for p in progs]
    claimable = [v for v in views if v.state == "claimable"]
    received = [v for v in views if v.state == "received"]
    messages: list = [offer_card(v, lang) for v in claimable[:3]]
    if received:
        messages.append(Card(title=say(lang, "受け取った給付金", "Benefits received"),
                             rows=[(v.name, yen(v.amount, lang)) for v in received]))
    waiting = [v.name for v in views if v.state == "unverified"]
    if waiting:
        names = "、".join(f"「{n}」" for n in waiting)
        messages.append(Text(say(lang, f"{names}は、本人確認が済むと受け取れます。運転免許証などをお持ちのうえ、役場の窓口へお越しください。",
                                 f"{', '.join(waiting)}: you can receive it once your identity is confirmed. "
                                 "Please bring an ID to the town office.")))
    if not messages:
        return ActionResult(messages=[Text(say(lang, "いま受け取れる給付金はありません。新しい給付金があるときは、このトークでお知らせします。",
                                               "There are no benefits to receive now. We will tell you here when there are."),
                                           menu_replies(ctx))])
    return ActionResult(messages=messages)


def _program(ctx: ActionContext) -> GrantProgram:
    code = str(ctx.vars.get("program") or "")
    with db_of(ctx).session() as s:
        prog = s.execute(select(GrantProgram).where(GrantProgram.code == code)).scalar()
    if prog is None or not prog.active:
        raise ActionError("この給付金は見つかりません。", "This benefit was not found.")
    return prog


@action("grant_preview")
def grant_preview(ctx: ActionContext) -> ActionResult:
    """Before asking: already received, not eligible, not open, closed each get their own answer."""
    me = current(ctx)
    if me is None:
        return not_registered(ctx)
    prog = _program(ctx)
    lang = ctx.lang
    who = subject(ctx, me)
    with db_of(ctx).engine.connect() as conn:
        view = grant_view(conn, prog, who.resident_id, ctx.now, lang)
    refusals = {
        "received": (f"「{view.name}」は、すでに受け取っています。", f"You have already received {view.name}."),
        "not_eligible": (f"申し訳ありません。「{view.name}」の対象ではありません。くわしくは役場にお問い合わせください。",
                         f"Sorry, you are not eligible for {view.name}. Please ask the town office for details."),
        "not_open": (f"「{view.name}」の受け付けは、まだ始まっていません。", f"{view.name} is not open yet."),
        "closed": (f"「{view.name}」の受け付けは終了しました。", f"{view.name} has closed."),
        "unverified": (f"「{view.name}」は本人確認が済んでから受け取れます。運転免許証などをお持ちのうえ、役場の窓口へお越しください。",
                       f"{view.name} can be received once your identity is confirmed. Please bring an ID to the town office."),
        "automatic": (f"「{view.name}」は申し込みなしで、対象の方に町からお届けします。",
                      f"{view.name} is credited by the town to everyone eligible, with no application."),
    }
    if view.state in refusals:
        ja, english = refusals[view.state]
        raise ActionError(ja, english)
    grant = say(lang, f"{view.name}（{who.whose}さんの分）", f"{view.name} (for {who.whose})") if who.whose \
        else view.name
    return ActionResult(messages=[offer_card(view, lang, button=False, whose=who.whose)],
                        vars={"grant": grant, "amount_text": yen(view.amount, lang)})


@action("claim_grant")
def claim_grant(ctx: ActionContext) -> ActionResult:
    me = current(ctx)
    if me is None:
        return not_registered(ctx)
    prog = _program(ctx)
    who = subject(ctx, me)
    actor = f"proxy:{who.proxy_id}" if who.proxy_id is not None else f"line:{ctx.user_id}"
    res = grants.award(uow_of(ctx), program_code=prog.code, resident_id=who.resident_id, actor=actor)
    if who.proxy_id is not None:
        proxies.record(db_of(ctx), who.proxy_id, who.resident_id, "grant_claim", program=prog.code,
                       entry_id=res.entry_id)
    return ActionResult(vars={"amount_text": yen(res.amount, ctx.lang), "expires": until(res.expires_on, ctx.lang)})
