"""machi resident relink: スマホを替えた・なくした住民のお財布を新しいLINEアカウントへ引き継ぎます（窓口）."""
from __future__ import annotations

import logging

import click

from admin_cli.common import dry_run_option, emit, find_resident
from admin_cli.context import CliContext, pass_ctx
from admin_cli.residents_cmds import resident
from admin_cli.richmenu_cmds import line_client
from bot.richmenu import MenuLinker
from flows.state import DbStateStore
from town import relink as relinking

log = logging.getLogger(__name__)


@resident.command("relink")
@click.argument("ref")
@click.option("--line-id", "line_id", required=True, help="新しいLINEユーザーID（U と32桁の英数字）")
@dry_run_option
@pass_ctx
def relink(ctx: CliContext, ref: str, line_id: str, dry_run: bool) -> None:
    """お財布を新しいLINEアカウントへ移します。残高と履歴はそのまま、前のLINEではすぐ使えなくなります。"""
    core = ctx.core()
    with core.db.session() as s:
        rid = find_resident(s, ref).id
    done = relinking.relink(core.db, rid, line_id, actor=ctx.actor, via="counter", dry_run=dry_run)
    if dry_run:
        emit(ctx, {"resident_id": rid, "dry_run": True},
             f"（試し実行）番号 {rid} の方のお財布を新しいLINEアカウントへ引き継ぎます"
             f"{'（前のLINEは使えなくなります）' if done.old_line_user_id else ''}。")
        return
    menus = after_relink(ctx, done)
    emit(ctx, {"resident_id": rid, "relinked": True, "menus_switched": menus},
         [f"番号 {rid} の方のお財布を新しいLINEアカウントへ引き継ぎました。残高と履歴はそのままです。",
          "前のLINEアカウントでは、もう残高の確認やお支払いはできません。"]
         + ([] if menus else ["（メニューの切り替えはLINEにつながらなかったため、次の `machi richmenu deploy` で行われます）"]))


def after_relink(ctx: CliContext, done: relinking.Relinked) -> bool:
    """The old account's conversation is forgotten; both accounts get their menus. False if LINE failed."""
    core = ctx.core()
    if done.old_line_user_id:
        DbStateStore(core.db).forget(done.old_line_user_id)
    try:
        with line_client(ctx, timeout=10.0, retries=2) as client:
            linker = MenuLinker(core.db, client)
            linker.link_user(done.new_line_user_id)
            if done.old_line_user_id:
                linker.link_user(done.old_line_user_id)
    except Exception:  # noqa: BLE001 - the wallet has moved; a menu left behind is fixed by the next deploy
        log.warning("rich menu switch after relink failed", exc_info=False)
        return False
    return True
