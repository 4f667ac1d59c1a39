"""machi config check: what is set (secrets masked), what production still lacks, and a refusal of weak values."""
from __future__ import annotations

import dataclasses

import click

from admin_cli.common import emit, table
from admin_cli.context import CliContext, pass_ctx
from admin_cli.main import cli
from config import Config, ConfigError, describe


@cli.group("config")
def config_group() -> None:
    """設定（環境変数）の確認。"""


def advice(config: Config) -> list[str]:
    """What production would want and does not refuse: said, not enforced."""
    out = []
    if config.database_url.startswith("sqlite"):
        out.append("DATABASE_URL: 本番は PostgreSQL を推奨します（postgresql://...）。")
    if not config.public_url.startswith("https://"):
        out.append("MACHI_PUBLIC_URL: 住民が開くアドレスは https:// にしてください。")
    if config.notice_mode == "separate":
        out.append("MACHI_NOTICES=separate: `machi notices` を別のプロセスとして動かしてください（deploy/machi-notices.service）。")
    return out


@config_group.command("check")
@click.option("--prod", "as_prod", is_flag=True, help="MACHI_ENV に関わらず本番（prod）として確かめます")
@pass_ctx
def check(ctx: CliContext, as_prod: bool) -> None:
    """設定を表示し（秘密の値は伏せます）、本番に足りないもの・弱い値を知らせます。問題があれば終了コード 1。"""
    try:
        config = ctx.config
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_prod and config.env != "prod":
        config = dataclasses.replace(config, env="prod")
    problems = config.problems()
    hints = advice(config) if config.env == "prod" else []
    rows = describe(config)
    data = {"env": config.env, "settings": {name: shown for name, shown, _src in rows},
            "problems": problems, "advice": hints, "ok": not problems}
    lines = table(rows, ["設定", "値", "どこから"])
    lines.append("")
    lines.append(f"MACHI_ENV={config.env} として確かめました。")
    lines += [f"✗ {p}" for p in problems] or ["✓ 問題はありません。"]
    lines += [f"△ {h}" for h in hints]
    emit(ctx, data, lines)
    if problems:
        raise click.exceptions.Exit(1)
