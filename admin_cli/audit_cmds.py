"""machi audit verify / log."""
from __future__ import annotations

import json

import click
from sqlalchemy import select

from admin_cli.common import JaIntRange
from admin_cli.context import CliContext, pass_ctx
from admin_cli.main import cli
from ledger import chain, invariants
from ledger.clock import fmt_jst
from ledger.models import AuditLog


@cli.group()
def audit() -> None:
    """監査（台帳の検証・操作記録）。"""


@audit.command("verify")
@pass_ctx
def verify(ctx: CliContext) -> None:
    """台帳の5つの不変条件を検証します。問題があれば終了コード1で内容を表示します。"""
    core = ctx.core()
    sealed = chain.seal(core.db)
    with core.db.session() as s:
        rep = invariants.check_all(s.connection())
    if ctx.json_output:
        click.echo(json.dumps({"ok": rep.ok, "problems": rep.problems, "facts": rep.facts, "newly_sealed": sealed},
                              ensure_ascii=False))
    else:
        click.echo(invariants.format_report(rep))
    if not rep.ok:
        raise SystemExit(1)


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
