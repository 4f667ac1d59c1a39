"""プレミアム付商品券の抽選申し込み: when an offer has more buyers than sets, residents apply in the chat
and staff draw the winners (`machi sale draw`); winners buy at the counter. Nothing is paid here."""
from __future__ import annotations

from flows.actions import action
from flows.context import ActionContext, ActionResult
from flows.errors import ActionError
from flows.inputs import postback_data
from flows.messages import Button, Card, Text
from flows.present import day, say, yen
from flows.residents import current, db_of, not_registered, uow_of
from ledger.clock import last_valid_day
from ledger.services import sales

MAX_CARDS = 4  # with the line above them, within LINE's 5 messages a reply


def _offer_card(offer, lang: str) -> Card:
    name = say(lang, offer.name, offer.name_en or offer.name)
    face = sum(int(v) for v in offer.components.values())
    rows = [(say(lang, "1セット", "One set"), say(lang, f"{offer.price:,}円で{face:,}円分", f"¥{face:,} for ¥{offer.price:,}")),
            (say(lang, "お一人", "Per person"), say(lang, f"{offer.per_resident_limit}セットまで",
                                                    f"up to {offer.per_resident_limit} sets"))]
    if offer.ends_at:
        rows.append((say(lang, "締め切り", "Closes"), day(last_valid_day(offer.ends_at), lang)))
    body = say(lang, "申し込みが多いときは抽選です。当選した方にLINEでお知らせし、役場の窓口で購入できます。",
               "If there are more applications than sets, winners are drawn. Winners are told on LINE "
               "and buy at the town office.")
    return Card(title=name, amount=yen(face, lang), rows=rows, body=body,
                buttons=[Button.postback(say(lang, "申し込む", "Apply"),
                                         postback_data(flow="sale_application", offer=offer.code))],
                alt_text=say(lang, f"{name} 申し込み受付中", f"{name}: applications open"))


@action("sale_offer")
def sale_offer(ctx: ActionContext) -> ActionResult:
    """The offers open for applications: one → its card and on to the sets; several → a card for each
    (its 申し込む button starts this flow again for that offer) and the flow ends; none → say so."""
    me = current(ctx)
    if me is None:
        return not_registered(ctx)
    with db_of(ctx).engine.connect() as conn:
        offers = sales.open_for_application(conn, ctx.now)
    if not offers:
        raise ActionError("いま申し込みを受け付けている商品券はありません。",
                          "No vouchers are taking applications at the moment.")
    lang = ctx.lang
    chosen = [o for o in offers if o.code == ctx.vars.get("offer")]
    if not chosen and len(offers) > 1:
        cards = [_offer_card(o, lang) for o in offers[:MAX_CARDS]]
        return ActionResult(messages=[Text(say(lang, "申し込む商品券を選んでください。", "Choose the vouchers to apply for.")),
                                      *cards], end=True)
    offer = (chosen or offers)[0]
    return ActionResult(messages=[_offer_card(offer, lang)],
                        vars={"offer": offer.code, "offer_name": say(lang, offer.name, offer.name_en or offer.name),
                              "limit": offer.per_resident_limit, "price": offer.price})


@action("sale_sets")
def sale_sets(ctx: ActionContext) -> ActionResult:
    """Within the offer's limit, or say why and ask again; then what it would cost if drawn."""
    sets, limit = int(ctx.answers["sets"]), int(ctx.vars["limit"])
    lang = ctx.lang
    if sets > limit:
        return ActionResult(messages=[Text(say(lang, f"お一人{limit}セットまでです。", f"Up to {limit} sets per person."))],
                            goto="sets")
    return ActionResult(vars={"cost": yen(sets * int(ctx.vars["price"]), lang)})


@action("sale_apply")
def sale_apply(ctx: ActionContext) -> ActionResult:
    me = current(ctx)
    if me is None:
        return not_registered(ctx)
    res = sales.apply(uow_of(ctx), resident_id=me.id, offer_code=str(ctx.vars["offer"]), sets=int(ctx.answers["sets"]))
    return ActionResult(vars={"sets": res.sets, "cost": yen(res.price, ctx.lang)})
