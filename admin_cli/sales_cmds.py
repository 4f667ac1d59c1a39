"""machi sale: プレミアム付商品券 — offers, a sale at the counter, applications and the lottery."""
from __future__ import annotations

from datetime import datetime

import click
from sqlalchemy import func, select

from admin_cli.common import (
    JST_DATETIME,
    JaIntRange,
    dry_run_option,
    emit,
    find_money_type,
    find_resident,
    table,
    yen,
)
from admin_cli.context import CliContext, pass_ctx
from admin_cli.grants_cmds import check_code
from admin_cli.main import cli
from ledger.errors import AlreadyDone, InvalidInput, NotFound
from ledger.models import SaleApplication, SaleDraw, SaleOffer
from ledger.services import sales
from town import lottery

APPLICATION_JA = {"applied": "申し込み（抽選前）", "won": "当選", "lost": "落選", "bought": "購入済み",
                  "void": "対象外（抽選の日に転出・利用停止など）"}


@cli.group()
def sale() -> None:
    """プレミアム付商品券の販売: 商品の登録・窓口での販売・申し込みの状況・抽選（当選者へ通知し購入期間を開始）。"""


def _offer(s, code: str) -> SaleOffer:
    offer = s.execute(select(SaleOffer).where(SaleOffer.code == code)).scalar()
    if offer is None:
        raise NotFound(f"商品券「{code}」はありません。`machi sale offers` で確かめてください。")
    return offer


@sale.command("offer-add")
@click.option("--code", required=True, help="商品コード（例: PREM2027）")
@click.option("--name", required=True, help="名称（例: とままえプレミアム商品券2027）")
@click.option("--name-en", default="", help="英語で表示する方への名称（なければ日本語のまま）")
@click.option("--price", required=True, type=int, help="1セットの販売価格（円）")
@click.option("--component", "components", multiple=True, required=True,
              help="1セットに入る券種と額面（例: PREM=6500 を券種ごとに）")
@click.option("--limit", "per_resident", default=5, show_default=True, type=JaIntRange(1, 100),
              help="お一人あたりの上限セット数")
@click.option("--total-sets", type=int, default=None, help="販売する総セット数")
@click.option("--lottery", "is_lottery", is_flag=True, help="抽選販売（LINEで申し込み → machi sale draw）")
@click.option("--starts", type=JST_DATETIME, default=None, help="販売開始（日本時間）")
@click.option("--ends", type=JST_DATETIME, default=None, help="販売終了（日本時間）")
@dry_run_option
@pass_ctx
def offer_add(ctx: CliContext, code: str, name: str, name_en: str, price: int, components: tuple[str, ...], per_resident: int,
              total_sets: int | None, is_lottery: bool, starts: datetime | None, ends: datetime | None,
              dry_run: bool) -> None:
    """販売する商品券（セット）を登録します。プレミアム分（額面−価格）は町の負担です。"""
    code = check_code(code, "商品")
    if price <= 0:
        raise InvalidInput("販売価格は1円以上にしてください。")
    if total_sets is not None and total_sets <= 0:
        raise InvalidInput("総セット数は1以上にしてください。")
    if is_lottery and total_sets is None:
        raise InvalidInput("抽選販売には総セット数（--total-sets）が必要です。")
    if starts and ends and ends <= starts:
        raise InvalidInput("販売終了は販売開始より後にしてください。")
    parsed: dict[str, int] = {}
    for c in components:
        mt_code, _, amount = c.partition("=")
        if not amount.strip().isdigit() or int(amount) <= 0:
            raise InvalidInput(f"「{c}」が読めません。券種コード=額面（例: PREM=6500）で指定してください。")
        parsed[mt_code.strip()] = int(amount)
    with ctx.core().db.write() as s:
        if s.execute(select(SaleOffer.id).where(SaleOffer.code == code)).first():
            raise AlreadyDone(f"商品コード「{code}」はすでにあります。")
        for mt_code in parsed:
            if find_money_type(s, mt_code).kind != "prepaid":
                raise InvalidInput(f"券種「{mt_code}」は前払式（prepaid）ではありません。販売できるのは前払式の券種です。")
        sales.check_offer_terms(price, parsed)
        if not dry_run:
            s.add(SaleOffer(code=code, name=name, name_en=name_en.strip(), price=price, components=parsed, per_resident_limit=per_resident,
                            total_sets=total_sets, lottery=is_lottery, starts_at=starts, ends_at=ends))
    face = sum(parsed.values())
    params = {"code": code, "price": price, "components": parsed, "limit": per_resident, "total_sets": total_sets,
              "lottery": is_lottery}
    if not dry_run:
        ctx.audit("sale.offer_add", params, "added")
    emit(ctx, {**params, "dry_run": dry_run},
         f"{'（試し実行）' if dry_run else ''}「{name}」: {yen(price)}で額面 {yen(face)}（プレミアム {yen(face - price)}、"
         f"{'抽選' if is_lottery else '先着'}）を{'登録します' if dry_run else '登録しました'}。")


@sale.command("offers")
@pass_ctx
def offers(ctx: CliContext) -> None:
    """商品券の一覧（販売済みセット・申し込み）。"""
    with ctx.core().db.session() as s:
        rows = s.execute(select(SaleOffer).order_by(SaleOffer.id)).scalars().all()
        conn = s.connection()
        applied = dict(s.execute(select(SaleApplication.offer_id, func.count()).group_by(SaleApplication.offer_id)).all())
        data = [{"code": o.code, "name": o.name, "price": o.price, "face": sum(int(v) for v in o.components.values()),
                 "components": o.components, "limit": o.per_resident_limit, "total_sets": o.total_sets,
                 "lottery": o.lottery, "sold_sets": sales.sets_bought(conn, o.code),
                 "applications": int(applied.get(o.id, 0)), "starts_at": o.starts_at, "ends_at": o.ends_at}
                for o in rows]
    emit(ctx, data, table([(d["code"], d["name"], yen(d["price"]), yen(d["face"]), "抽選" if d["lottery"] else "先着",
                            f"{d['sold_sets']}/{d['total_sets'] or '—'}", d["applications"]) for d in data],
                          ["コード", "名称", "価格", "額面", "方式", "販売/総数", "申込"]))


@sale.command("record")
@click.option("--resident", "resident_ref", required=True, help="購入者（番号・LINEユーザーID・カード番号）")
@click.option("--offer", "offer_code", required=True, help="商品コード")
@click.option("--sets", type=int, default=1, show_default=True, help="セット数")
@click.option("--receipt", required=True,
              help="窓口の受付番号（同じ番号で再実行しても二重に販売されません）")
@dry_run_option
@pass_ctx
def record(ctx: CliContext, resident_ref: str, offer_code: str, sets: int, receipt: str, dry_run: bool) -> None:
    """窓口での販売を記録します（代金を受け取ってから）。額面分がお財布に入ります。"""
    if sets <= 0:
        raise InvalidInput("セット数は1以上にしてください。")
    if not receipt.strip() or len(receipt) > 60:
        raise InvalidInput("受付番号は1〜60文字です。")
    core = ctx.core()
    with core.db.session() as s:
        rid = find_resident(s, resident_ref).id
        offer = _offer(s, offer_code)
        bought = sales.sets_bought(s.connection(), offer.code, rid)
    res = sales.sell(core.uow, resident_id=rid, offer_code=offer.code, sets=sets,
                     idempotency_key=f"counter:{offer.code}:{receipt.strip()}", actor=ctx.actor, channel="counter",
                     dry_run=dry_run)
    if dry_run:
        emit(ctx, {"dry_run": True, "resident_id": rid, "price": res.price, "face": res.face,
                   "already_bought": bought},
             f"（試し実行）番号 {rid} の方に「{offer.name}」{sets}セットを販売できます: 代金 {yen(res.price)}、"
             f"額面 {yen(sum(res.face.values()))}（購入済み {bought} セット／上限 {offer.per_resident_limit}）。")
        return
    if not res.replayed:
        ctx.audit("sale.record", {"resident_id": rid, "offer": offer.code, "sets": sets, "receipt": receipt},
                  f"entry {res.entry_id}")
    emit(ctx, {"entry_id": res.entry_id, "resident_id": rid, "price": res.price, "face": res.face,
               "replayed": res.replayed},
         f"{'この受付番号の販売はすでに記録済みです: ' if res.replayed else ''}番号 {rid} の方に「{offer.name}」{sets}セット"
         f"（代金 {yen(res.price)}、額面 {yen(sum(res.face.values()))}）を販売しました。")


@sale.command("applications")
@click.argument("offer_code")
@pass_ctx
def applications(ctx: CliContext, offer_code: str) -> None:
    """抽選販売の申し込み状況（人数・セット数・当選/落選/購入済み）。"""
    with ctx.core().db.session() as s:
        offer = _offer(s, offer_code)
        rows = s.execute(select(SaleApplication.status, func.count(), func.sum(SaleApplication.sets))
                         .where(SaleApplication.offer_id == offer.id).group_by(SaleApplication.status)).all()
        drawn = s.execute(select(SaleDraw).where(SaleDraw.offer_id == offer.id)).scalar()
    data = {"offer": offer.code, "total_sets": offer.total_sets,
            "by_status": {st: {"people": int(n), "sets": int(t or 0)} for st, n, t in rows},
            "drawn": drawn is not None, "seed": drawn.seed if drawn else None}
    requested = sum(v["sets"] for v in data["by_status"].values())
    emit(ctx, data, [f"「{offer.name}」 総数 {offer.total_sets or '—'} セット、申し込み {requested} セット"
                     + ("（申し込みが上回っています: 抽選になります）" if offer.total_sets and requested > offer.total_sets else ""),
                     *(f"  {APPLICATION_JA.get(st, st)}: {v['people']} 人 {v['sets']} セット"
                       for st, v in data["by_status"].items()),
                     f"  抽選: {'実施済み（seed ' + drawn.seed + '）' if drawn else '未実施'}"])


@sale.command("draw")
@click.argument("offer_code")
@click.option("--seed", default=None, help="乱数の種（省略すると無作為に作り、記録します）")
@click.option("--purchase-days", default=14, show_default=True, type=int, help="当選者の購入期間（今日から何日間）")
@click.option("--no-notify", is_flag=True, help="LINEでの当選・落選のお知らせを送らない")
@click.option("--force", is_flag=True, help="申し込みの締切前でも受付を締め切って抽選する")
@dry_run_option
@pass_ctx
def draw(ctx: CliContext, offer_code: str, seed: str | None, purchase_days: int, no_notify: bool,
         force: bool, dry_run: bool) -> None:
    """抽選します。乱数の種を記録するので、誰でも同じ結果を確かめられます（machi sale verify-draw）。

    当選者には購入期限つきでLINEでお知らせし、購入期間が始まります。もう一度実行すると、
    抽選はやり直さず、届いていないお知らせだけを送ります。
    """
    core = ctx.core()
    res = lottery.draw(core.db, offer_code, now=core.uow.clock(), purchase_days=purchase_days, actor=ctx.actor,
                       seed=seed, dry_run=dry_run, force=force)
    verb = "抽選は実施済みです" if res.already_drawn else ("抽選します" if dry_run else "抽選しました")
    head = (f"{'（試し実行）' if dry_run else ''}{verb}"
            f"（seed {res.seed}）: 申し込み {res.applicants} 人・{res.requested_sets} セット、総数 {res.capacity or '—'} セット")
    lines = [head, f"  当選 {len(res.winners)} 人、落選 {len(res.losers)} 人"
             + (f"、購入期限 {res.purchase_until}" if res.purchase_until else "")]
    if res.void:
        lines.append(f"  対象外 {len(res.void)} 人（抽選の日に転出・死亡・利用停止の方。抽選に入れず、お知らせもしません）")
    data = {"dry_run": dry_run, "seed": res.seed, "winners": len(res.winners), "losers": len(res.losers),
            "void": len(res.void),
            "already_drawn": res.already_drawn, "purchase_until": res.purchase_until, "notices": []}
    if not dry_run:
        if not res.already_drawn:
            ctx.audit("sale.draw", {"offer": offer_code, "seed": res.seed, "purchase_days": purchase_days},
                      f"won {len(res.winners)} lost {len(res.losers)}")
        if not no_notify:
            reports = lottery.notify(core.db, ctx.sender(), offer_code, actor=ctx.actor)
            data["notices"] = [r.__dict__ for r in reports]
            lines.append(f"  LINEでお知らせしました: {sum(r.recipients for r in reports)} 人"
                         f"（LINEで届かない {sum(r.skipped for r in reports)} 人は郵送などでお知らせください）")
    emit(ctx, data, lines)


@sale.command("verify-draw")
@click.argument("offer_code")
@pass_ctx
def verify_draw(ctx: CliContext, offer_code: str) -> None:
    """記録された乱数の種で抽選をやり直し、記録どおりの当選者になるか確かめます。"""
    ok, res = lottery.verify(ctx.core().db, offer_code)
    emit(ctx, {"ok": ok, "seed": res.seed, "winners": len(res.winners)},
         f"{'一致しました' if ok else '一致しません（記録が変更されています）'}: seed {res.seed}、当選 {len(res.winners)} 人")
    if not ok:
        raise SystemExit(1)
