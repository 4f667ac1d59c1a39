"""machi demo seed."""
from __future__ import annotations

import click

from admin_cli.context import CliContext, pass_ctx
from admin_cli.main import cli
from ledger.cards import format_number
from town.demo_town import (
    DEMO_ADMIN_LOGIN,
    DEMO_ADMIN_PASSWORD,
    DEMO_ADMIN_TOTP,
    PERSONAS,
    has_residents,
    seed,
)


@cli.group()
def demo() -> None:
    """デモの町（開発・説明用）。"""


@demo.command("seed")
@click.option("--if-empty", is_flag=True, help="すでに住民がいれば何もしません（make run 用）")
@pass_ctx
def seed_cmd(ctx: CliContext, if_empty: bool) -> None:
    """空のデータベースにデモの町（苫前町の縮小版）を作ります。"""
    core = ctx.core()
    if if_empty and has_residents(core):
        click.echo("デモの町はすでにあります。")
        return
    info = seed(core)
    click.echo(f"デモの町を作りました: 住民 {info['residents']} 人、店舗 8 店。")
    for p in PERSONAS:
        click.echo(f"  {p.line_user_id}  {p.name}")
    click.echo(f"  カード {format_number(str(info['card_number']))}（暗証番号 {info['card_pin']}）  田中 トメ")
    if info["console_admin"]:
        click.echo(f"  管理画面 {ctx.config.public_url}/console/  ログイン名 {DEMO_ADMIN_LOGIN}  "
                   f"パスワード {DEMO_ADMIN_PASSWORD}（開発用のデモのみ）")
        click.echo(f"    二段階認証のキー {DEMO_ADMIN_TOTP}（認証アプリに手で登録。デモ専用の固定キー）")
