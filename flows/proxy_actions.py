"""代理で見る: a recorded proxy sees the wallet of the person they act for — balance, latest history and
the claim-type grants waiting for them (each with a 受け取る button that claims it for that person).
Every look is written to the audit log as done by the proxy for that person."""
from __future__ import annotations

from sqlalchemy import select

from flows.actions import action
from flows.context import ActionContext, ActionResult
from flows.grant_actions import grant_view, offer_card
from flows.inputs import postback_data
from flows.messages import Message, QuickReply, Text
from flows.present import say
from flows.residents import current, db_of, not_registered
from flows.wallet_actions import balance_messages, history_messages
from ledger.models import GrantProgram
from town import proxies

GRANTS_SHOWN = 2


@action("proxy_show")
def proxy_show(ctx: ActionContext) -> ActionResult:
    me = current(ctx)
    if me is None:
        return not_registered(ctx)
    lang = ctx.lang
    with db_of(ctx).engine.connect() as conn:
        principals = proxies.acting_for(conn, me.id)
    if not principals:
        return ActionResult(messages=[Text(say(
            lang, "代理で見られる方は登録されていません。ご家族の代理人になるには、役場の窓口でお申し出ください。",
            "You are not registered as anyone's proxy. Ask at the town office to become a family member's proxy."))])
    wanted = ctx.vars.get("for")
    if wanted in (None, "") and len(principals) > 1:
        chips = [QuickReply.postback(proxies.label(p.name, lang, "残高", "Balance")[:20],
                                     postback_data(flow="proxy", **{"for": str(p.resident_id)}))
                 for p in principals[:13]]
        return ActionResult(messages=[Text(say(lang, "どなたの分を見ますか？", "Whose wallet?"), chips)])
    with db_of(ctx).engine.connect() as conn:
        p = principals[0] if wanted in (None, "") else proxies.principal(conn, me.id, wanted)
    proxies.record(db_of(ctx), me.id, p.resident_id, "view")
    messages: list[Message] = [*balance_messages(ctx, p.account_id, whose=p.name),
                               *history_messages(ctx, p.account_id, whose=p.name)]
    messages += _claimable(ctx, p)
    return ActionResult(messages=messages[:5])


def _claimable(ctx: ActionContext, p: proxies.Principal) -> list[Message]:
    """The claim-type grants open to the person, with buttons that claim them for that person."""
    with db_of(ctx).session() as s:
        progs = s.execute(select(GrantProgram).where(GrantProgram.active.is_(True), GrantProgram.mode == "claim")
                          .order_by(GrantProgram.id)).scalars().all()
        views = [grant_view(s.connection(), prog, p.resident_id, ctx.now, ctx.lang) for prog in progs]
    return [offer_card(v, ctx.lang, whose=p.name, for_resident=p.resident_id)
            for v in views if v.state == "claimable"][:GRANTS_SHOWN]
