"""machi db upgrade / current / backup / restore / mark-restored."""
from __future__ import annotations

from pathlib import Path

import click

import schema
from admin_cli import backups
from admin_cli.common import emit
from admin_cli.context import CliContext, pass_ctx
from admin_cli.main import cli
from ledger import installation
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


@db.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_ctx
def backup_cmd(ctx: CliContext, file: Path) -> None:
    """データベース全体をファイルに保存します（動いたままで取れます）。

    SQLite はオンラインバックアップ、PostgreSQL は pg_dump -Fc です。
    同じ名前のファイルがあれば上書きせずに止まります。
    """
    size = backups.backup(ctx.config.database_url, file)
    emit(ctx, {"file": str(file), "bytes": size},
         [f"バックアップを保存しました: {file}（{size:,} バイト）",
          "封印のアンカーファイルはデータベースの外にあります。あわせて保管してください。"])


@db.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_ctx
def restore_cmd(ctx: CliContext, file: Path) -> None:
    """バックアップを、新しい空のデータベース（--database-url / DATABASE_URL）に戻します。

    空でないデータベースには戻しません。戻したデータベースには新しいインストールIDを付けます
    （LINE への再送キーが元のデータベースと重ならないように）。
    """
    url = ctx.config.database_url
    done = backups.restore(url, file)
    lines = [f"復元しました: {file} → スキーマ {done.revision or '（不明）'}"]
    if done.installation_id:
        lines.append(f"新しいインストールID: {done.installation_id}（元: {done.restored_from}）")
        _audit_restore(ctx, file, done)
    if done.revision != done.head:
        lines.append(f"このバックアップは古い版のものです。machi db upgrade を実行してください（最新: {done.head}）。")
    lines.append("確認: machi audit verify")
    emit(ctx, {"file": str(file), "revision": done.revision, "head": done.head,
               "installation_id": done.installation_id, "restored_from": done.restored_from}, lines)


@db.command("mark-restored")
@pass_ctx
def mark_restored(ctx: CliContext) -> None:
    """このデータベースを「別のデータベースの複製」として新しいインストールIDを付けます。

    machi db restore 以外の方法（スナップショット、ファイルのコピー）で戻したときに、
    サーバーを動かす前に実行してください。LINE への再送キーが元のものと重ならなくなります。
    """
    before = installation.current(ctx.core().db)
    after = installation.mark_restored(ctx.core().db)
    ctx.audit("db.mark_restored", {"from": str(before.installation_id), "to": str(after.installation_id)})
    emit(ctx, {"installation_id": str(after.installation_id), "restored_from": str(before.installation_id)},
         [f"新しいインストールIDを付けました: {after.installation_id}（元: {before.installation_id}）",
          "動いているサーバー・machi notices・machi scheduler は再起動してください。"])


def _audit_restore(ctx: CliContext, file: Path, done: backups.Restored) -> None:
    """Write the restore into the restored database's own audit log (when its schema is current)."""
    if done.revision != done.head:
        return
    ctx.audit("db.restore", {"file": file.name, "from": done.restored_from, "to": done.installation_id})
