"""machi audit verify / log."""
from __future__ import annotations

import json

import click
from sqlalchemy import select

from admin_cli.common import JaIntRange, emit
from admin_cli.context import CliContext, pass_ctx
from admin_cli.main import cli
from ledger import anchors, invariants
from ledger.clock import fmt_jst
from ledger.models import AuditLog


@cli.group()
def audit() -> None:
    """監査（台帳の検証・操作記録）。"""


@audit.command("verify")
@pass_ctx
def verify(ctx: CliContext) -> None:
    """台帳の5つの不変条件と、仕訳・操作記録の封印（ハッシュチェーン）を検証します。

    封印はしません（封印は machi scheduler と machi audit seal の仕事です）。書き換え・削除された記録、
    消された封印、別の鍵での封印、アンカーとの食い違いがあれば、終了コード1で内容を表示します。
    """
    core = ctx.core()
    with core.db.session() as s:
        rep = invariants.check_all(s.connection(), sealer=core.sealer)
    if ctx.json_output:
        click.echo(json.dumps({"ok": rep.ok, "problems": rep.problems, "facts": rep.facts}, ensure_ascii=False))
    else:
        click.echo(invariants.format_report(rep))
    if not rep.ok:
        raise SystemExit(1)


@audit.command("seal")
@pass_ctx
def seal(ctx: CliContext) -> None:
    """まだ封印していない仕訳と操作記録を封印し、先頭の封印をアンカーファイルに書き足します。"""
    core = ctx.core()
    run = core.sealer.seal(core.db)
    emit(ctx, {"sealed": run.sealed, "anchor": run.anchor},
         [f"封印しました: 仕訳 {run.sealed['entries']:,} 件、操作記録 {run.sealed['audit']:,} 件",
          f"アンカー: {run.anchor}" if run.anchor else "アンカー: 変化なし（書き足していません）"])


@audit.command("anchors")
@click.option("--days", default=31, show_default=True, type=JaIntRange(1, 3660), help="直近の何日分")
@pass_ctx
def anchors_cmd(ctx: CliContext, days: int) -> None:
    """各日の最後のアンカー（月次報告・紙の控えに写す行）。"""
    log_ = ctx.core().sealer.anchors
    lines = anchors.daily(log_.read()[0])[-days:] if log_ is not None else []
    emit(ctx, [json.loads(a.to_line()) for a in lines],
         [f"{fmt_jst(a.at, with_time=False)}  {a.to_line()}" for a in lines] or ["アンカーはまだありません。"])


@audit.command("log")
@click.option("--limit", default=50, show_default=True, type=JaIntRange(1, 10_000))
@click.option("--action", default=None, help="この操作だけ（例: grant.run）")
@pass_ctx
def log(ctx: CliContext, limit: int, action: str | None) -> None:
    """職員の操作記録（誰が・いつ・何を・どの条件で）。"""
    with ctx.core().db.session() as s:
        q = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
        if action:
            q = q.where(AuditLog.action == action)
        rows = s.execute(q).scalars().all()
    if ctx.json_output:
        click.echo(json.dumps([{"at": r.at.isoformat(), "actor": r.actor, "action": r.action, "params": r.params,
                                "result": r.result} for r in rows], ensure_ascii=False))
        return
    for r in rows:
        click.echo(f"{fmt_jst(r.at)}  {r.actor:<20} {r.action:<18} {json.dumps(r.params, ensure_ascii=False)}  {r.result}")
