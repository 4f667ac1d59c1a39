"""machi expire: 有効期限切れの失効処理（いま実行）と期限前のお知らせ（30日前・7日前）。"""
from __future__ import annotations

from sqlalchemy import func, select

from admin_cli.common import dry_run_option, emit, yen
from admin_cli.context import CliContext, pass_ctx
from admin_cli.main import cli
from ledger.clock import jst_date
from ledger.models import Lot, MoneyType
from ledger.services import expiry
from town import reminders


@cli.group()
def expire() -> None:
    """失効: 有効期限を過ぎた残高を失効させます（通常は machi scheduler が毎日0時過ぎに実行）。"""


@expire.command("run")
@dry_run_option
@pass_ctx
def run(ctx: CliContext, dry_run: bool) -> None:
    """有効期限を過ぎた残高をいま失効させます（何度実行しても同じ）。"""
    core = ctx.core()
    now = core.uow.clock()
    if dry_run:
        with core.db.session() as s:
            rows = s.execute(select(MoneyType.code, func.count(), func.sum(Lot.remaining))
                             .join(MoneyType, MoneyType.id == Lot.money_type_id)
                             .where(Lot.expires_at <= now, Lot.remaining > 0).group_by(MoneyType.code)).all()
        by_type = {c: int(t) for c, _n, t in rows}
        emit(ctx, {"dry_run": True, "lots": sum(n for _c, n, _t in rows), "total": sum(by_type.values()),
                   "by_type": by_type},
             [f"（試し実行）失効する残高: {yen(sum(by_type.values()))}",
              *(f"  {c}: {yen(t)}" for c, t in by_type.items())])
        return
    res = expiry.expire(core.uow, actor=ctx.actor)
    ctx.audit("expire.run", {}, f"lots {res.lots} total {res.total}")
    emit(ctx, {"lots": res.lots, "total": res.total, "by_type": res.by_type},
         [f"失効させました: {res.lots:,} 件、{yen(res.total)}" if res.lots else "失効する残高はありませんでした。",
          *(f"  {c}: {yen(t)}" for c, t in res.by_type.items())])


@expire.command("remind")
@dry_run_option
@pass_ctx
def remind(ctx: CliContext, dry_run: bool) -> None:
    """有効期限の30日前・7日前のお知らせをいま送ります（同じ方に同じお知らせは一度だけ）。"""
    core = ctx.core()
    today = jst_date(core.uow.clock())
    rep = reminders.send(core.db, ctx.sender() if not dry_run else None, today,
                         presenter=ctx.presenter() if not dry_run else None, dry_run=dry_run)
    if not dry_run:
        ctx.audit("expire.remind", {"today": today}, f"sent {rep.sent} skipped {rep.skipped}")
    emit(ctx, {"dry_run": dry_run, "due_dates": rep.due_dates, "sent": rep.sent, "skipped": rep.skipped,
               "already": rep.already},
         f"{'（試し実行）' if dry_run else ''}期限前のお知らせ（期限日 {', '.join(map(str, rep.due_dates))}）: "
         f"送信 {rep.sent} 人、LINEで届かない {rep.skipped} 人、送信済み {rep.already} 人")
