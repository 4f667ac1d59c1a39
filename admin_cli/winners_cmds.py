"""machi sale winners: 抽選の当選者と購入状況 (read by town/winners.py)."""
from __future__ import annotations

import click

from admin_cli.common import emit, table
from admin_cli.context import CliContext, pass_ctx
from admin_cli.sales_cmds import sale
from town import winners as winners_svc


@sale.command("winners")
@click.argument("offer_code")
@click.option("--not-bought", is_flag=True, help="まだ購入していない当選者だけを表示します")
@pass_ctx
def winners(ctx: CliContext, offer_code: str, not_bought: bool) -> None:
    """抽選の当選者の一覧（購入済みか、購入期限、LINEで連絡できるか）。"""
    res = winners_svc.winners(ctx.core().db, offer_code, actor=ctx.actor)
    rows = [w for w in res.winners if not (not_bought and w.bought)]
    data = {"offer": res.offer, "name": res.name, "drawn": res.drawn, "bought": res.bought,
            "winners": [w.__dict__ for w in rows]}
    if not res.drawn:
        emit(ctx, data, f"「{res.name}」の抽選はまだ行われていません（machi sale draw {res.offer}）。")
        return
    emit(ctx, data, [f"「{res.name}」の当選者 {len(res.winners):,} 人（購入済み {res.bought:,} 人）", *table(
        [(w.resident_id, w.name, w.district, w.sets_won, w.sets_bought, "購入済み" if w.bought else "未購入",
          w.purchase_until or "", "○" if w.line else "郵送・電話") for w in rows],
        ["番号", "氏名", "地区", "当選", "購入", "状況", "購入期限", "LINE"])])
