"""Whose wallet a resident's action is about: their own, or (with `for=<id>` in the postback) the
wallet of someone they are the recorded proxy of (town/proxies.py)."""
from __future__ import annotations

from dataclasses import dataclass

from flows.context import ActionContext
from flows.inputs import postback_data
from flows.messages import QuickReply
from flows.residents import Me, db_of
from town import proxies


@dataclass(frozen=True)
class Subject:
    resident_id: int
    account_id: int
    whose: str | None = None  # the principal's name when a proxy acts; None for oneself
    proxy_id: int | None = None


def subject(ctx: ActionContext, me: Me) -> Subject:
    """`me` for oneself; the principal named by `for` when `me` is their proxy (refused otherwise)."""
    wanted = ctx.vars.get("for")
    if wanted in (None, ""):
        return Subject(me.id, me.account_id)
    with db_of(ctx).engine.connect() as conn:
        p = proxies.principal(conn, me.id, wanted)  # NotAllowed: the engine says why
    return Subject(p.resident_id, p.account_id, p.name, me.id)


def principal_replies(ctx: ActionContext, me: Me) -> list[QuickReply]:
    """For a proxy: one quick reply per person they act for (「田中 トメさんの残高」)."""
    with db_of(ctx).engine.connect() as conn:
        found = proxies.acting_for(conn, me.id)
    return [QuickReply.postback(proxies.label(p.name, ctx.lang, "残高", "Balance")[:20],
                                postback_data(flow="proxy", **{"for": str(p.resident_id)})) for p in found[:4]]
