"""machi grant: 給付事業 — create a program, run it (push-type credits / claim-type announcement)."""
from __future__ import annotations

import re
from datetime import datetime

import click
from sqlalchemy import func, select

from admin_cli.common import (
    JST_DATETIME,
    dry_run_option,
    emit,
    find_money_type,
    find_segment,
    jst,
    progress,
    table,
    yen,
)
from admin_cli.context import CliContext, pass_ctx
from admin_cli.main import cli
from ledger.errors import AlreadyDone, InvalidInput
from ledger.models import Entry, GrantProgram, MoneyType, Segment
from ledger.services import grants
from town import grant_run
from town.models import GrantRun

CODE = re.compile(r"^[A-Z0-9_-]{1,32}$")
MODES = {"push": "プッシュ型（申請不要・自動入金）", "claim": "申請型（LINEの受け取るボタン）"}


def check_code(code: str, what: str) -> str:
    code = code.strip().upper()
    if not CODE.match(code):
        raise InvalidInput(f"{what}コードは英大文字・数字・_・- の32文字以内です（例: BIRTH2026）。")
    return code


@cli.group()
def grant() -> None:
    """給付事業（給付金）: 作成・一覧・実行。プッシュ型は対象者へ自動入金、申請型は受け取るボタン付きでご案内。"""


@grant.command("create")
@click.option("--code", required=True, help="事業コード（例: BIRTH2026）")
@click.option("--name", required=True, help="事業名（例: 出産祝い給付金）")
@click.option("--name-en", default="", help="英語名（英語表示の住民向け）")
@click.option("--money-type", "money_type", required=True, help="入金する券種コード（給付券・ポイント・クーポン）")
@click.option("--amount", required=True, type=int, help="1人あたりの金額（円）")
@click.option("--mode", type=click.Choice(list(MODES)), default="push", show_default=True,
              help="push=プッシュ型（申請不要） / claim=申請型（受け取るボタン）")
@click.option("--segment", default=None, help="対象者の条件（セグメント名）。省略時は全住民")
@click.option("--starts", type=JST_DATETIME, default=None, help="受付開始（日本時間）")
@click.option("--ends", type=JST_DATETIME, default=None, help="受付終了（日本時間、この時刻で締切）")
@click.option("--budget", type=int, default=None, help="予算上限（円）。超える入金は行いません")
@dry_run_option
@pass_ctx
def create(ctx: CliContext, code: str, name: str, name_en: str, money_type: str, amount: int, mode: str,
           segment: str | None, starts: datetime | None, ends: datetime | None, budget: int | None,
           dry_run: bool) -> None:
    """給付事業を作ります（1人1回）。"""
    code = check_code(code, "事業")
    if amount <= 0:
        raise InvalidInput("金額は1円以上の整数で指定してください。")
    if budget is not None and budget < amount:
        raise InvalidInput("予算上限は1人分の金額以上にしてください。")
    if not name.strip():
        raise InvalidInput("事業名を入れてください。")
    core = ctx.core()
    grants.check_window(starts, ends, core.uow.clock())
    with core.db.write() as s:
        if s.execute(select(GrantProgram.id).where(GrantProgram.code == code)).first():
            raise AlreadyDone(f"事業コード「{code}」はすでにあります。")
        mt = find_money_type(s, money_type)
        if mt.kind == "prepaid":
            raise InvalidInput(f"「{mt.name}」は販売する商品券（前払式）です。給付には給付券・ポイント・クーポンの券種を使ってください。")
        seg = find_segment(s, segment) if segment else None
        params = {"code": code, "money_type": mt.code, "amount": amount, "mode": mode,
                  "segment": seg.name if seg else None, "starts": starts, "ends": ends, "budget": budget}
        if not dry_run:
            s.add(GrantProgram(code=code, name=name.strip(), name_en=name_en or name, money_type_id=mt.id,
                               amount=amount, mode=mode, segment_id=seg.id if seg else None, starts_at=starts,
                               ends_at=ends, budget_cap=budget))
    if not dry_run:
        ctx.audit("grant.create", {**params, "starts": jst(starts) or None, "ends": jst(ends) or None},
                  f"created {code}")
    emit(ctx, {"dry_run": dry_run, **params}, [
        f"{'（試し実行）' if dry_run else ''}給付事業「{name}」（{code}）を{'作ります' if dry_run else '作りました'}: "
        f"{yen(amount)}／人、{MODES[mode]}、対象: {params['segment'] or '全住民'}"
        + (f"、予算 {yen(budget)}" if budget else "")])


@grant.command("list")
@pass_ctx
def list_(ctx: CliContext) -> None:
    """給付事業の一覧（入金済み人数・金額・予算）。"""
    with ctx.core().db.session() as s:
        rows = s.execute(
            select(GrantProgram, MoneyType.code, Segment.name)
            .join(MoneyType, MoneyType.id == GrantProgram.money_type_id)
            .outerjoin(Segment, Segment.id == GrantProgram.segment_id).order_by(GrantProgram.id)).all()
        stats = dict(((ref, (n, t)) for ref, n, t in s.execute(
            select(Entry.ref, func.count(), func.sum(Entry.amount)).where(Entry.ref.like("grant:%"))
            .group_by(Entry.ref)).all()))
    data = []
    for p, mt, seg in rows:
        n, total = stats.get(f"grant:{p.code}", (0, 0))
        data.append({"code": p.code, "name": p.name, "mode": p.mode, "money_type": mt, "amount": p.amount,
                     "segment": seg, "budget": p.budget_cap, "recipients": int(n), "issued": int(total or 0),
                     "starts_at": p.starts_at, "ends_at": p.ends_at, "active": p.active})
    emit(ctx, data, table([(d["code"], d["name"], d["mode"], d["money_type"], yen(d["amount"]), d["segment"] or "全住民",
                            d["recipients"], yen(d["issued"]), yen(d["budget"]) if d["budget"] else "—") for d in data],
                          ["コード", "事業名", "型", "券種", "1人", "対象", "入金人数", "入金額", "予算"]))


@grant.command("run")
@click.argument("code")
@click.option("--again", is_flag=True, help="申請型: 受け取っていない方へもう一度ご案内します（再通知）")
@dry_run_option
@pass_ctx
def run(ctx: CliContext, code: str, again: bool, dry_run: bool) -> None:
    """給付を実行します。プッシュ型: 対象者全員に1回ずつ入金（通知つき）。申請型: 受け取るボタン付きのお知らせ。

    途中で止まっても、もう一度実行すれば残りの方だけに入金します（二重入金はありません）。
    """
    code = code.strip().upper()
    core = ctx.core()
    p = grant_run.plan(core.db, code, core.uow.clock())
    if dry_run:
        over = p.to_award - p.fits_budget
        lines = [f"（試し実行）「{p.name}」（{code}、{MODES[p.mode]}）",
                 f"  対象者 {p.eligible:,} 人（うち受け取り済み {p.already:,} 人）",
                 f"  {'入金' if p.mode == 'push' else 'ご案内'}予定 {p.to_award:,} 人"
                 + (f" × {yen(p.amount)} = {yen(p.total)}" if p.mode == "push" else ""),
                 f"  受付期間 {p.window}{'' if p.open_now else '（今は受付期間外です）'}"]
        if p.budget_cap is not None:
            lines.append(f"  予算 {yen(p.budget_cap)}、使用済み {yen(p.spent)}、残り {yen(p.budget_cap - p.spent)}"
                         + (f" — 予算が足りず {over:,} 人は入金できません" if over > 0 else ""))
        emit(ctx, {"dry_run": True, **p.__dict__, "total": p.total}, lines)
        return
    if p.mode == "push":
        bar = progress(ctx, None, f"給付 {code}")
        try:
            rep = grant_run.run_push(core, code, actor=ctx.actor, sender=ctx.sender(), on_total=lambda n: setattr(bar, "total", n),
                                     on_progress=bar.update)
        finally:
            bar.close()
        ctx.audit("grant.run", {"code": code}, f"awarded {rep.awarded} total {rep.total}"
                  + (" budget exhausted" if rep.budget_exhausted else ""))
        lines = [f"「{p.name}」: {rep.awarded:,} 人に入金しました（合計 {yen(rep.total)}）。"]
        if rep.resumed_from:
            lines.insert(0, "前回の実行が途中で止まっていました。残りの方だけに入金しました。")
        if p.already:
            lines.append(f"受け取り済みの {p.already:,} 人には入金していません。")
        if rep.refused:
            lines.append("入金できなかった方: " + "、".join(f"{k} {v}人" for k, v in rep.refused.items()))
        if rep.budget_exhausted:
            lines.append("予算の上限に達したため、途中で終了しました。")
        lines.append(f"入金のお知らせ（LINE）: これまでに {rep.notified:,} 人へ送信済み。")
        if rep.notice_failed:
            lines.append(f"LINEへの送信が一部できませんでした。入金は済んでいます。`machi grant run {code}` をもう一度実行すると、"
                         "残りのお知らせだけを送ります。")
        emit(ctx, {"run_id": rep.run_id, "awarded": rep.awarded, "total": rep.total, "refused": rep.refused,
                   "budget_exhausted": rep.budget_exhausted, "already": p.already, "notified": rep.notified,
                   "notice_failed": rep.notice_failed}, lines)
        if rep.notice_failed:
            raise SystemExit(1)
        return
    bar = progress(ctx, None, f"ご案内 {code}")
    try:
        rep2 = grant_run.announce_claim(core, ctx.sender(), code, actor=ctx.actor, presenter=ctx.presenter(),
                                        again=again,
                                        on_total=lambda n: setattr(bar, "total", n), on_chunk=bar.update)
    finally:
        bar.close()
    ctx.audit("grant.announce", {"code": code, "again": again, "announcement": rep2.announcement_id},
              f"recipients {rep2.recipients} skipped {rep2.skipped}")
    emit(ctx, rep2.__dict__, [f"「{p.name}」のご案内（受け取るボタン付き）を {rep2.recipients:,} 人に送りました"
                              f"（お知らせ番号 {rep2.announcement_id}）。",
                              f"LINEで届かない方 {rep2.skipped:,} 人は送っていません（窓口・郵送でご案内ください）。"])


@grant.command("runs")
@click.argument("code", required=False)
@pass_ctx
def runs(ctx: CliContext, code: str | None) -> None:
    """給付の実行記録（途中で止まった実行も分かります）。"""
    with ctx.core().db.session() as s:
        q = select(GrantRun).order_by(GrantRun.id.desc()).limit(50)
        if code:
            q = q.where(GrantRun.program_code == code.upper())
        rows = s.execute(q).scalars().all()
    data = [{"id": r.id, "program": r.program_code, "status": r.status, "awarded": r.awarded, "total": r.total,
             "refused": r.refused, "started_at": r.started_at, "finished_at": r.finished_at, "actor": r.actor}
            for r in rows]
    emit(ctx, data, table([(d["id"], d["program"], d["status"], d["awarded"], yen(d["total"]), d["refused"],
                            jst(d["started_at"]), jst(d["finished_at"])) for d in data],
                          ["番号", "事業", "状態", "入金人数", "金額", "入金不可", "開始", "終了"]))
