"""machi payout: 精算（換金） — run a period, write the Zengin 総合振込 file and the statements, mark paid."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from sqlalchemy import func, select

from admin_cli.common import JST_DATE, JaIntRange, dry_run_option, emit, jst, progress, table, yen
from admin_cli.context import CliContext, pass_ctx
from admin_cli.main import cli
from ledger import zengin
from ledger.clock import jst_date
from ledger.errors import InvalidInput, NotFound
from ledger.kana import to_zengin_kana
from ledger.models import Merchant, Payout, PayoutBatch
from ledger.services import payouts
from town import payout_files, settings

_out = click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("payouts"),
                    show_default=True, help="振込ファイルと明細書の出力先フォルダ")


@cli.group()
def payout() -> None:
    """精算（換金）: 期間を締めて各店への振込額を確定し、全銀協の総合振込ファイルと店舗ごとの精算明細書（CSV・PDF）を作ります。

    途中で止まっても、同じ期間でもう一度実行すれば残りの店だけを精算します（二重に精算しません）。
    """


@payout.command("remitter")
@click.option("--code", required=True, help="振込依頼人コード（10桁、銀行から付与）")
@click.option("--name", "name_kana", required=True, help="振込依頼人名（カナ、例: トママエチヨウ）")
@click.option("--bank", "bank_code", required=True, help="金融機関コード（4桁）")
@click.option("--branch", "branch_code", required=True, help="支店コード（3桁）")
@click.option("--type", "account_type", default="1", show_default=True, help="預金種目 1=普通 2=当座")
@click.option("--number", "account_number", required=True, help="口座番号（7桁まで）")
@dry_run_option
@pass_ctx
def remitter_cmd(ctx: CliContext, code: str, name_kana: str, bank_code: str, branch_code: str, account_type: str,
                 account_number: str, dry_run: bool) -> None:
    """振込元（町の口座・振込依頼人）を登録します。"""
    try:
        code = code.strip()
        if not (code.isascii() and code.isdigit() and len(code) == 10):
            raise ValueError("振込依頼人コードは10桁の数字です")
        bank_kana, branch_kana = zengin.validate_bank(bank_code, branch_code)
        kind, number = zengin.validate_account(account_type, account_number)
        kana = to_zengin_kana(name_kana, label="振込依頼人名")
        if not kana or len(kana) > 40:
            raise ValueError("振込依頼人名（カナ）は1〜40文字です")
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    value = {"code": code, "name_kana": kana, "bank_code": bank_code.strip().zfill(4),
             "branch_code": branch_code.strip().zfill(3), "account_type": kind, "account_number": number}
    if not dry_run:
        settings.put(ctx.core().db, settings.REMITTER, value, ctx.actor)
        ctx.audit("payout.remitter", {k: v for k, v in value.items() if k != "account_number"}, "set")
    emit(ctx, {**value, "dry_run": dry_run},
         f"{'（試し実行）' if dry_run else ''}振込元: {value['bank_code']} {bank_kana} / {value['branch_code']} {branch_kana}"
         f" / {zengin.ACCOUNT_TYPES[kind]} {number} / {kana}")


@payout.command("schedule")
@click.option("--days", required=True, help="毎月の精算日（例: 1,16）。前回の精算の翌日から前日までを締めます")
@click.option("--transfer-after", default=5, show_default=True, type=JaIntRange(1, 30),
              help="振込日（締め日の何日後。銀行の休業日なら次の営業日）")
@dry_run_option
@pass_ctx
def schedule(ctx: CliContext, days: str, transfer_after: int, dry_run: bool) -> None:
    """machi scheduler が自動で精算する日を設定します（scheduler の再起動で反映）。"""
    try:
        parsed = sorted({int(d) for d in days.replace("、", ",").split(",") if d.strip()})
    except ValueError as exc:
        raise InvalidInput("精算日は 1,16 のように日にちをカンマで区切って指定してください。") from exc
    if not parsed or any(not 1 <= d <= 28 for d in parsed):
        raise InvalidInput("精算日は1〜28日で指定してください（29〜31日は月によってありません）。")
    value = {"days": parsed, "transfer_after_days": transfer_after}
    if not dry_run:
        settings.put(ctx.core().db, settings.PAYOUT_SCHEDULE, value, ctx.actor)
        ctx.audit("payout.schedule", value, "set")
    emit(ctx, {**value, "dry_run": dry_run},
         f"{'（試し実行）' if dry_run else ''}自動精算: 毎月 {'・'.join(map(str, parsed))} 日、振込は締めの {transfer_after} 日後。")


@payout.command("run")
@click.option("--from", "start", type=JST_DATE, required=True, help="期間の始め（例: 2026-04-01）")
@click.option("--to", "end", type=JST_DATE, required=True, help="期間の終わり（昨日以前）")
@click.option("--transfer-date", type=JST_DATE, default=None, help="振込指定日（省略時は期間の終わりの5日後、銀行の休業日なら次の営業日）")
@_out
@dry_run_option
@pass_ctx
def run(ctx: CliContext, start: date, end: date, transfer_date: date | None, out_dir: Path, dry_run: bool) -> None:
    """期間の精算を実行し、振込ファイルと明細書を作ります。"""
    core = ctx.core()
    today = jst_date(core.uow.clock())
    transfer_date = transfer_date or payout_files.default_transfer_date(end, today=today)
    payouts.check_period(start, end, transfer_date, today)
    problem = payout_files.not_ready_to_pay(core.db, end)
    if problem:
        raise InvalidInput(problem)
    if dry_run:
        rows = payout_files.preview(core.db, end)
        emit(ctx, {"dry_run": True, "shops": rows, "total_net": sum(r["net"] for r in rows)},
             [f"（試し実行）{start}〜{end} の精算（振込日 {transfer_date}）:",
              *table([(r["code"], r["name"], yen(r["gross"]), yen(r["fee"]), yen(r["net"]),
                       "○" if r["bank"] else "未登録") for r in rows], ["店舗", "店名", "受取額", "手数料", "振込額", "口座"]),
              f"合計振込額 {yen(sum(r['net'] for r in rows))}（{len(rows)} 店）"])
        return
    with core.db.session() as s:
        shops = s.execute(select(func.count()).select_from(Merchant).where(Merchant.active.is_(True))).scalar_one()
    bar = progress(ctx, shops, "精算")
    try:
        res = payouts.run_payouts(core.uow, start, end, transfer_date, actor=ctx.actor, progress=bar.update)
    finally:
        bar.close()
    ctx.audit("payout.run", {"from": start, "to": end, "transfer_date": transfer_date, "batch": res.batch_id},
              f"created {res.created} skipped {res.skipped} net {res.total_net}")
    files = payout_files.write_all(core.db, res.batch_id, out_dir)
    lines = [f"精算バッチ {res.batch_id}（{start}〜{end}、振込日 {transfer_date}）: 今回 {res.created} 店を精算"
             + (f"、精算済み {res.skipped} 店はそのまま" if res.skipped else "") + f"、振込額合計 {yen(res.total_net)}",
             f"明細書: {files['folder']}/statements/（CSV・PDF）"]
    lines.append(f"振込ファイル: {files['zengin']}" if files["zengin"] else f"振込ファイルは作れませんでした: {files['zengin_error']}")
    emit(ctx, {"batch_id": res.batch_id, "created": res.created, "skipped": res.skipped, "total_net": res.total_net,
               **files}, lines)
    if files["zengin_error"]:
        raise SystemExit(1)


@payout.command("files")
@click.argument("batch_id", type=int)
@_out
@pass_ctx
def files_cmd(ctx: CliContext, batch_id: int, out_dir: Path) -> None:
    """精算バッチの振込ファイルと明細書を作り直します（口座を直したあとなど。何度でも同じ内容）。"""
    files = payout_files.write_all(ctx.core().db, batch_id, out_dir)
    emit(ctx, files, [f"明細書: {files['folder']}/statements/",
                      f"振込ファイル: {files['zengin']}" if files["zengin"] else f"振込ファイルは作れませんでした: {files['zengin_error']}"])
    if files["zengin_error"]:
        raise SystemExit(1)


@payout.command("mark-paid")
@click.argument("batch_id", type=int)
@dry_run_option
@pass_ctx
def mark_paid(ctx: CliContext, batch_id: int, dry_run: bool) -> None:
    """銀行で振込が済んだ精算バッチを「支払済み」にします（何度実行しても同じ）。"""
    core = ctx.core()
    with core.db.session() as s:
        batch = s.get(PayoutBatch, batch_id)
        if batch is None:
            raise NotFound(f"精算バッチ {batch_id} はありません。")
        ready = s.execute(select(func.count(), func.coalesce(func.sum(Payout.net), 0))
                          .where(Payout.batch_id == batch_id, Payout.status == "ready")).one()
    if dry_run:
        emit(ctx, {"dry_run": True, "batch_id": batch_id, "payouts": ready[0], "net": int(ready[1])},
             f"（試し実行）精算バッチ {batch_id} の {ready[0]} 店（{yen(ready[1])}）を支払済みにします。")
        return
    changed = payouts.mark_paid(core.uow, batch_id)
    ctx.audit("payout.mark_paid", {"batch": batch_id}, f"{changed} payouts")
    emit(ctx, {"batch_id": batch_id, "changed": changed},
         f"精算バッチ {batch_id}: {changed} 店を支払済みにしました。" if changed
         else f"精算バッチ {batch_id} はすでに支払済みです。")


@payout.command("list")
@pass_ctx
def list_(ctx: CliContext) -> None:
    """精算バッチの一覧（期間・振込日・店舗数・振込額・状態）。"""
    with ctx.core().db.session() as s:
        rows = s.execute(select(PayoutBatch, func.count(Payout.id), func.coalesce(func.sum(Payout.net), 0))
                         .outerjoin(Payout, Payout.batch_id == PayoutBatch.id)
                         .group_by(PayoutBatch.id).order_by(PayoutBatch.id.desc())).all()
    data = [{"id": b.id, "from": b.period_start, "to": b.period_end, "transfer_date": b.transfer_date,
             "status": b.status, "shops": int(n), "net": int(t), "created_at": b.created_at} for b, n, t in rows]
    emit(ctx, data, table([(d["id"], d["from"], d["to"], d["transfer_date"], d["shops"], yen(d["net"]), d["status"],
                            jst(d["created_at"])) for d in data],
                          ["番号", "期間の始め", "終わり", "振込日", "店舗", "振込額", "状態", "作成"]))
