"""machi sale close / event close / grant close: 早期終了 (the rule lives in town/closing.py)."""
from __future__ import annotations

import click

from admin_cli.common import dry_run_option, emit, jst, yen
from admin_cli.context import CliContext, pass_ctx
from admin_cli.events_cmds import event
from admin_cli.grants_cmds import grant
from admin_cli.sales_cmds import sale
from town import closing

AFTER = {"offer": "これからの販売・申し込み", "event": "これからのチェックイン", "grant": "これからの受け取り・入金"}


def _close(ctx: CliContext, kind: str, code: str, reason: str, dry_run: bool) -> None:
    core = ctx.core()
    res = closing.close_early(core.db, kind=kind, code=code, now=core.uow.clock(), actor=ctx.actor, reason=reason,
                              dry_run=dry_run)
    amount = yen(res.received_amount) if kind != "event" else f"{res.received_amount:,}ポイント"
    emit(ctx, res.__dict__, [
        f"{'（試し実行）' if dry_run else ''}「{res.name}」（{res.code}）を今すぐ{'終了します' if dry_run else '終了しました'}"
        f"（予定の終了: {jst(res.ends_before) or '定めなし'}）。",
        f"{AFTER[kind]}はお断りします。すでに受け取った {res.received:,} 件（{amount}）はそのままです。"])


def _reason(fn):
    return click.option("--reason", default="", help="理由（操作記録に残ります。個人情報は書かないでください）")(fn)


@sale.command("close")
@click.argument("code")
@_reason
@dry_run_option
@pass_ctx
def close_offer(ctx: CliContext, code: str, reason: str, dry_run: bool) -> None:
    """商品券の販売（と申し込み）を今すぐ終了します。販売済みの分はそのままです。"""
    _close(ctx, "offer", code, reason, dry_run)


@event.command("close")
@click.argument("code")
@_reason
@dry_run_option
@pass_ctx
def close_event(ctx: CliContext, code: str, reason: str, dry_run: bool) -> None:
    """イベントの受付を今すぐ終了します。受け取り済みのポイントはそのままです。"""
    _close(ctx, "event", code, reason, dry_run)


@grant.command("close")
@click.argument("code")
@_reason
@dry_run_option
@pass_ctx
def close_grant(ctx: CliContext, code: str, reason: str, dry_run: bool) -> None:
    """給付事業の受付を今すぐ終了します。入金済みの給付はそのままです。"""
    _close(ctx, "grant", code, reason, dry_run)
