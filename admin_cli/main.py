"""`machi`: the town staff's command. Every subcommand module registers itself on `cli`."""
from __future__ import annotations

import click
from sqlalchemy.exc import IntegrityError

from admin_cli import usage_ja
from admin_cli.context import CliContext
from config import ConfigError
from ledger.errors import LedgerError

# What staff read when the database refused a write the command's own check had let through: the same
# thing made at the same moment from another terminal (a unique key), or a rule the database keeps.
DUPLICATE = "同じものがすでに登録されています（同時に別の操作で登録されたようです）。一覧で確かめてください。何も変更していません。"
REFUSED = "データベースの決まりに合わないため、変更しませんでした。入力を確かめてください。"


class MachiGroup(click.Group):
    """Turns a ledger refusal, a database refusal or a configuration problem into a clear Japanese message and
    exit code 1, never a traceback; click's own usage errors are said in Japanese too (admin_cli/usage_ja.py)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except LedgerError as exc:
            raise usage_ja.JaError(exc.message) from exc
        except IntegrityError as exc:
            raise usage_ja.JaError(DUPLICATE if _is_duplicate(exc) else REFUSED) from exc
        except ConfigError as exc:
            raise usage_ja.JaError(str(exc)) from exc
        except (usage_ja.JaUsageError, usage_ja.JaError):
            raise
        except click.UsageError as exc:  # a missing option, an unknown command...: said in Japanese
            raise usage_ja.japanese(exc) from exc
        except click.ClickException as exc:
            raise usage_ja.JaError(exc.format_message()) from exc

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except usage_ja.JaUsageError:
            raise
        except click.UsageError as exc:  # the top-level options themselves
            raise usage_ja.japanese(exc) from exc


def _is_duplicate(exc: IntegrityError) -> bool:
    """A unique key refused the row (PostgreSQL's unique_violation, SQLite's UNIQUE constraint)."""
    return getattr(exc.orig, "sqlstate", None) == "23505" or "UNIQUE" in str(exc.orig)


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
        closing_cmds,
        config_cmds,
        counter_cmds,
        db_cmds,
        demo_cmds,
        events_cmds,
        exchange_cmds,
        expire_cmds,
        grants_cmds,
        life_events_cmds,
        merchants_cmds,
        money_types_cmds,
        notices_cmds,
        payouts_cmds,
        postal_cmds,
        relink_cmds,
        reports_cmds,
        residents_cmds,
        richmenu_cmds,
        sales_cmds,
        scheduler_cmds,
        segments_cmds,
        server_cmds,
        staff_cmds,
        winners_cmds,
    )


_register()

if __name__ == "__main__":
    cli()
