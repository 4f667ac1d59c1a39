"""machi grant credit: 窓口で一人に給付 (the rules live in ledger/services/grants.py, via town/counter_grants.py)."""
from __future__ import annotations

import click

from admin_cli.common import dry_run_option, emit, find_resident, yen
from admin_cli.context import CliContext, pass_ctx
from admin_cli.grants_cmds import grant
from town import counter_grants


@grant.command("credit")
@click.argument("code")
@click.argument("ref")
@dry_run_option
@pass_ctx
def credit(ctx: CliContext, code: str, ref: str, dry_run: bool) -> None:
    """窓口で一人に給付します（プッシュ型の入金もれ、申請型をLINEなし・カードのみの方に）。

    対象者の条件・受付期間・予算・1人1回はLINEでの受け取りと同じです。REF は番号・LINEユーザーID・カード番号。
    """
    core = ctx.core()
    with core.db.session() as s:
        rid = find_resident(s, ref).id
    res = counter_grants.credit(core.uow, program_code=code, resident_id=rid, actor=ctx.actor, dry_run=dry_run)
    until = f"（{res.expires_on} まで有効）" if res.expires_on else ""
    emit(ctx, {**res.__dict__, "expires_on": res.expires_on},
         f"{'（試し実行）' if dry_run else ''}番号 {rid} の方に「{res.name}」{yen(res.amount)}を"
         f"{'入金します' if dry_run else '入金しました'}{until}。")
