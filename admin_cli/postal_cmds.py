"""machi postal: LINEで届かない方への郵送リスト（CSVで差し込み印刷）. The list is made by town/postal.py."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from admin_cli.common import JST_DATE, emit, table
from admin_cli.context import CliContext, pass_ctx
from admin_cli.main import cli
from town import postal as postal_svc


@cli.group()
def postal() -> None:
    """郵送リスト: LINEで届かない方（カードのみ・ブロック中）に、お知らせ・期限前のお知らせ・給付を郵送で伝えるための一覧。"""


def _show(ctx: CliContext, lst: postal_svc.PostalList, out: Path | None) -> None:
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(postal_svc.to_csv(lst), encoding="utf-8-sig", newline="")
    data = {"purpose": lst.purpose, "subject": lst.subject, "csv": str(out) if out else None,
            "recipients": [r.__dict__ for r in lst.recipients]}
    lines = [f"{lst.subject}: 郵送が必要な方 {len(lst.recipients):,} 人"]
    if out is not None:
        lines.append(f"差し込み印刷用のCSVを書き出しました: {out}")
    else:
        lines += table([(r.resident_id, r.name, r.district, r.household_code, r.reason) for r in lst.recipients],
                       ["番号", "氏名", "地区", "世帯", "理由"])
        if lst.recipients:
            lines.append(f"お知らせ内容: {lst.recipients[0].message}")
    emit(ctx, data, lines)


def _csv_option(fn):
    return click.option("--csv", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        help="差し込み印刷用のCSV（Excelで開けるUTF-8）に書き出します")(fn)


@postal.command("announcement")
@click.argument("announcement_id", type=int)
@_csv_option
@pass_ctx
def announcement(ctx: CliContext, announcement_id: int, out: Path | None) -> None:
    """お知らせ（machi announce）の対象で、LINEで届かない方。"""
    core = ctx.core()
    _show(ctx, postal_svc.postal_list(core.db, purpose="announcement", ref=announcement_id, now=core.uow.clock(),
                                      actor=ctx.actor), out)


@postal.command("reminder")
@click.option("--due", type=JST_DATE, required=True, help="有効期限の日（例: 2027-03-31）")
@_csv_option
@pass_ctx
def reminder(ctx: CliContext, due: date, out: Path | None) -> None:
    """その日に期限が来る残高をお持ちで、LINEで届かない方（期限前のお知らせの郵送版）。"""
    core = ctx.core()
    _show(ctx, postal_svc.postal_list(core.db, purpose="reminder", ref=due, now=core.uow.clock(), actor=ctx.actor),
          out)


@postal.command("grant")
@click.argument("code")
@_csv_option
@pass_ctx
def grant(ctx: CliContext, code: str, out: Path | None) -> None:
    """給付事業: プッシュ型は入金済みの方への入金のお知らせ、申請型はまだ受け取っていない対象者への窓口のご案内。"""
    core = ctx.core()
    _show(ctx, postal_svc.postal_list(core.db, purpose="grant", ref=code, now=core.uow.clock(), actor=ctx.actor),
          out)
