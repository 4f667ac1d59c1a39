"""machi staff: console (管理画面) accounts. Thin: the rules live in town/staff.py."""
from __future__ import annotations

import click

from admin_cli.common import emit
from admin_cli.context import CliContext, pass_ctx
from admin_cli.main import cli
from ledger.clock import fmt_jst
from town import staff

ROLES = "管理者|職員|窓口|商工会|閲覧"


@cli.group("staff")
def staff_group() -> None:
    """管理画面の職員アカウント。"""


@staff_group.command("add")
@click.argument("login")
@click.option("--name", required=True, help="氏名")
@click.option("--role", required=True, help=f"役割（{ROLES}）")
@pass_ctx
def add(ctx: CliContext, login: str, name: str, role: str) -> None:
    """職員アカウントを作り、パスワードを決めるための一度だけ使えるリンクを表示します。"""
    core = ctx.core()
    with core.db.write() as s:
        account, token = staff.create(s, login, name, role)
        account_id, role_ja, until = account.id, account.role_ja, account.link_expires_at
    ctx.audit("staff.add", {"staff_id": account_id, "login": login, "role": role_ja}, "link issued")
    link = f"{core.config.public_url}/console/setup/{token}"
    emit(ctx, {"id": account_id, "login": login, "role": role_ja, "link": link, "expires_at": until},
         [f"職員アカウント「{login}」（{role_ja}）を作りました。",
          "次のリンクを本人に渡してください（一度だけ使えます。有効期限 " + fmt_jst(until) + "）:",
          f"  {link}",
          *(["お金を扱う役割のため、初回のサインインで認証アプリ（二段階認証）を設定します。"]
            if staff.parse_role(role) in staff.MONEY_ROLES else [])])


@staff_group.command("link")
@click.argument("login")
@pass_ctx
def link_cmd(ctx: CliContext, login: str) -> None:
    """パスワードを忘れた職員に、新しい一度だけのリンクを発行します（前のリンクは使えなくなります）。"""
    core = ctx.core()
    token = staff.reissue_link(core.db, login)
    ctx.audit("staff.link", {"login": login}, "link issued")
    link = f"{core.config.public_url}/console/setup/{token}"
    emit(ctx, {"login": login, "link": link}, [f"「{login}」の新しいリンク（一度だけ使えます）:", f"  {link}"])


@staff_group.command("lock")
@click.argument("login")
@pass_ctx
def lock_cmd(ctx: CliContext, login: str) -> None:
    """アカウントを15分ロックし、すべての端末からサインアウトさせます（端末の紛失など）。"""
    staff.lock(ctx.core().db, login)
    ctx.audit("staff.lock", {"login": login}, "locked")
    emit(ctx, {"login": login}, f"「{login}」をロックし、すべての端末からサインアウトさせました。")
