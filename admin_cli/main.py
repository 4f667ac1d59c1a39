"""`machi`: the town staff's command. Every subcommand module registers itself on `cli`."""
from __future__ import annotations

import click

from admin_cli.context import CliContext
from ledger.errors import LedgerError


class MachiGroup(click.Group):
    """Turns a ledger refusal into a clear Japanese message and exit code 1, never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except LedgerError as exc:
            raise click.ClickException(exc.message) from exc


@click.group(cls=MachiGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--database-url", envvar="DATABASE_URL", default=None, help="SQLAlchemy URL（既定: instance/machi.db）")
@click.option("--json", "json_output", is_flag=True, help="結果をJSONで出力します（スクリプト向け）")
@click.pass_context
def cli(ctx: click.Context, database_url: str | None, json_output: bool) -> None:
    """まちウォレット 管理コマンド（役場・商工会の職員向け）。"""
    ctx.obj = CliContext(database_url=database_url, json_output=json_output)


def _register() -> None:
    from admin_cli import (  # noqa: F401
        announce_cmds,
        audit_cmds,
        cards_cmds,
        db_cmds,
        demo_cmds,
        events_cmds,
        expire_cmds,
        grants_cmds,
        merchants_cmds,
        money_types_cmds,
        notices_cmds,
        payouts_cmds,
        reports_cmds,
        residents_cmds,
        richmenu_cmds,
        sales_cmds,
        scheduler_cmds,
        segments_cmds,
        server_cmds,
        staff_cmds,
    )


_register()

if __name__ == "__main__":
    cli()
