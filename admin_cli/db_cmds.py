"""machi db upgrade / current."""
from __future__ import annotations

from pathlib import Path

import click

import schema
from admin_cli.context import CliContext, pass_ctx
from admin_cli.main import cli
from ledger.db import make_engine


@cli.group()
def db() -> None:
    """データベース（マイグレーション）。"""


@db.command("upgrade")
@pass_ctx
def upgrade(ctx: CliContext) -> None:
    """最新のスキーマに更新します（何度実行しても安全）。"""
    url = ctx.config.database_url
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    schema.upgrade(url)
    click.echo(f"データベースを最新にしました（{schema.head_revision(url)}）。")


@db.command("current")
@pass_ctx
def current(ctx: CliContext) -> None:
    """今のスキーマのリビジョンを表示します。"""
    url = ctx.config.database_url
    engine = make_engine(url)
    rev, head = schema.current_revision(engine), schema.head_revision(url)
    engine.dispose()
    click.echo(f"現在: {rev or '（未作成）'} / 最新: {head}")
