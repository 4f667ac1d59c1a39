"""machi richmenu: the LINE rich menus — deploy them, link users to theirs, show what is deployed.

`deploy` draws every menu (guest, resident, shop, resident with shop tab; Japanese and English),
creates them on LINE with their images, points the tab aliases and the default (guest) menu at
them, moves registered residents and shop staff to their menus in bulk (≤500 a request) and only
then deletes the older menus, so nobody is left on a half-built menu. The ids are kept in the
database, so the bot links a resident's menu the moment they register.
"""
from __future__ import annotations

from collections.abc import Sequence

import click

from admin_cli.common import LINE_ID, dry_run_option, emit, table
from admin_cli.context import CliContext, pass_ctx
from admin_cli.main import cli
from bot.line_client import LineApiError, LineClient
from bot.richmenu import MenuLinker
from rich_menus.definitions import LANGS, MENUS, menu_key
from rich_menus.deploy import deploy as deploy_menus
from rich_menus.deploy import relink


@cli.group("richmenu")
def richmenu() -> None:
    """リッチメニュー（LINEのトーク画面下のメニュー）の登録と切り替え。"""


def line_client(ctx: CliContext, *, timeout: float = 20.0, retries: int = 3) -> LineClient:
    config = ctx.config
    return LineClient(config.line_api_host, config.line_channel_access_token, timeout=timeout, max_retries=retries)


def _line_failed(exc: LineApiError) -> click.ClickException:
    return click.ClickException(f"LINEに接続できませんでした（status={exc.status}）。時間をおいてもう一度実行してください。"
                                "途中まで作られたメニューは次の実行で片付きます。")


@richmenu.command("deploy")
@click.option("--lang", "langs", multiple=True, type=click.Choice(list(LANGS)),
              help="作る言語（くり返し指定可。既定: ja と en）")
@click.option("--no-relink", is_flag=True, help="登録済みの住民・店員をまとめて新しいメニューへ移しません")
@dry_run_option
@pass_ctx
def deploy(ctx: CliContext, langs: Sequence[str], no_relink: bool, dry_run: bool) -> None:
    """メニューを作成・画像登録し、タブ切替の別名と既定メニューを設定して、利用者を各自のメニューへ移します。"""
    chosen = tuple(langs) or LANGS
    core = ctx.core()
    config = ctx.config
    with line_client(ctx) as client:
        linker = MenuLinker(core.db, client)
        assignments = {} if no_relink else linker.assignments()
        keys = [menu_key(name, lang) for name in MENUS for lang in chosen]  # type: ignore[arg-type]
        if dry_run:
            emit(ctx, {"menus": keys, "users_to_link": len(assignments), "dry_run": True},
                 [f"（試し実行）作るメニュー: {', '.join(keys)}",
                  f"（試し実行）メニューを切り替える利用者: {len(assignments)}人"])
            return
        try:
            ids = deploy_menus(client, config.liff_id, langs=chosen, assignments=assignments)  # type: ignore[arg-type]
        except LineApiError as exc:
            raise _line_failed(exc) from exc
        except ValueError as exc:
            raise click.ClickException(f"メニューを作れませんでした: {exc}") from exc
    linker.save(ids)
    ctx.audit("richmenu.deploy", {"langs": list(chosen), "relinked": len(assignments)}, f"{len(ids)} menus")
    emit(ctx, {"rich_menus": ids, "users_linked": len(assignments)},
         [f"リッチメニューを{len(ids)}件登録しました（既定: guest）。", *table(sorted(ids.items()), ["メニュー", "richMenuId"]),
          f"{len(assignments)}人を各自のメニューへ切り替えました。"])


@richmenu.command("link")
@click.argument("line_user_ids", nargs=-1)
@click.option("--all", "everyone", is_flag=True, help="登録済みの住民と店員すべて（500人ずつまとめて）")
@dry_run_option
@pass_ctx
def link(ctx: CliContext, line_user_ids: Sequence[str], everyone: bool, dry_run: bool) -> None:
    """利用者を、登録状況と店員の役割に合ったメニューへ切り替えます（machi merchant staff add/remove は自動で切り替えます）。"""
    if not line_user_ids and not everyone:
        raise click.ClickException("LINEユーザーIDを指定するか、--all を付けてください。")
    bad = [uid for uid in line_user_ids if not LINE_ID.match(uid)]
    if bad:
        raise click.ClickException(f"LINEユーザーIDは U と32桁の英数字（0-9, a-f）です: {bad[0][:40]}")
    core = ctx.core()
    with line_client(ctx) as client:
        linker = MenuLinker(core.db, client)
        ids = linker.deployed()
        if not ids:
            raise click.ClickException("リッチメニューがまだ登録されていません。先に machi richmenu deploy を実行してください。")
        wanted = linker.assignments() if everyone else {uid: linker.menu_key(uid) for uid in line_user_ids}
        if dry_run:
            emit(ctx, {"links": wanted, "dry_run": True},
                 [f"（試し実行）{len(wanted)}人のメニューを切り替えます。"])
            return
        try:
            if everyone:
                counts = relink(client, wanted, ids)
            else:
                for uid in wanted:
                    linker.link_user(uid)
                counts = {}
                for key in wanted.values():
                    counts[key] = counts.get(key, 0) + 1
        except LineApiError as exc:
            raise _line_failed(exc) from exc
        except KeyError as exc:
            raise click.ClickException(f"そのメニューは登録されていません: {exc}。machi richmenu deploy を実行してください。") from exc
    ctx.audit("richmenu.link", {"all": everyone, "users": len(wanted)}, "linked")
    emit(ctx, {"linked": counts}, [f"{len(wanted)}人のメニューを切り替えました。",
                                   *table(sorted(counts.items()), ["メニュー", "人数"])])


@richmenu.command("status")
@pass_ctx
def status(ctx: CliContext) -> None:
    """いま登録されているメニューのID。"""
    ids = MenuLinker(ctx.core().db, None).deployed()  # type: ignore[arg-type]
    if not ids:
        emit(ctx, {"rich_menus": {}}, "リッチメニューはまだ登録されていません（machi richmenu deploy）。")
        return
    emit(ctx, {"rich_menus": ids}, table(sorted(ids.items()), ["メニュー", "richMenuId"]))
