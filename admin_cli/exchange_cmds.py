"""machi exchange-rule: ポイント交換のルール（変更日つき） (kept by town/exchange_rules.py)."""
from __future__ import annotations

from datetime import datetime

import click

from admin_cli.common import JST_DATETIME, JaIntRange, dry_run_option, emit, jst, table
from admin_cli.context import CliContext, pass_ctx
from admin_cli.main import cli
from town import exchange_rules


@cli.group("exchange-rule")
def exchange_rule() -> None:
    """ポイント交換のルール: 一覧・変更（変更日より前の交換は元のルールのまま）。"""


@exchange_rule.command("set")
@click.option("--from", "from_code", required=True, help="交換するポイントの券種コード（例: VOL）")
@click.option("--to", "to_code", required=True, help="交換先の券種コード（例: PREM）")
@click.option("--points", type=JaIntRange(1, 10_000_000), required=True, help="何ポイントで")
@click.option("--yen", "to_units", type=JaIntRange(1, 10_000_000), required=True, help="何円分になるか")
@click.option("--effective", type=JST_DATETIME, default=None, help="変更日時（日本時間。省略時は今すぐ）")
@dry_run_option
@pass_ctx
def set_(ctx: CliContext, from_code: str, to_code: str, points: int, to_units: int, effective: datetime | None,
         dry_run: bool) -> None:
    """交換ルールを変えます（新しく作るときも）。変更日時より前の交換は元のルールのままです。"""
    core = ctx.core()
    now = core.uow.clock()
    res = exchange_rules.change_rule(core.db, from_code=from_code, to_code=to_code, from_units=points,
                                     to_units=to_units, effective_from=effective or now, now=now, actor=ctx.actor,
                                     dry_run=dry_run)
    before = f"{res.before.from_units:,}ポイント→{res.before.to_units:,}円" if res.before else "なし"
    emit(ctx, {"from": res.from_type, "to": res.to_type, "before": res.before.__dict__ if res.before else None,
               "after": res.after.__dict__, "dry_run": dry_run},
         f"{'（試し実行）' if dry_run else ''}{res.from_type}→{res.to_type} の交換ルールを"
         f"{jst(effective) + ' から' if effective else '今から'} {points:,}ポイント→{to_units:,}円 に"
         f"{'変更します' if dry_run else '変更しました'}（これまで: {before}）。")


@exchange_rule.command("list")
@pass_ctx
def list_(ctx: CliContext) -> None:
    """交換ルールの一覧（過去・現在・予定）。"""
    core = ctx.core()
    rules = exchange_rules.list_rules(core.db, now=core.uow.clock())
    emit(ctx, [r.__dict__ for r in rules], table(
        [(r.from_type, r.to_type, f"{r.from_units:,}", f"{r.to_units:,}", jst(r.effective_from) or "当初から",
          "適用中" if r.in_effect else "") for r in rules],
        ["交換元", "交換先", "ポイント", "円", "適用開始", ""]))
