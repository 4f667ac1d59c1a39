"""machi report / export / survey: KPIs, 基準日未使用残高, pseudonymised data, survey results."""
from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import click
from sqlalchemy import func, select

from admin_cli.common import JST_DATE, JaChoice, JaIntRange, emit, table, yen
from admin_cli.context import CliContext, pass_ctx
from admin_cli.main import cli
from flows import surveys
from flows.surveys import SurveyResponse
from ledger import anchors
from ledger.clock import jst_date
from ledger.errors import NotFound
from town.reports import export as export_mod
from town.reports import kpi as kpi_mod
from town.reports import kpi_files, unused_balance
from town.reports.period import period as report_period


@cli.group()
def report() -> None:
    """報告: 利用状況の指標（KPI）と、資金決済法の基準日未使用残高。"""


def _period(start: date | None, end: date | None) -> tuple[date, date]:
    p = report_period(start, end)
    return p.start, p.end


@report.command("kpi")
@click.option("--from", "start", type=JST_DATE, default=None, help="期間の始め（省略時は期間の終わりの月初）")
@click.option("--to", "end", type=JST_DATE, default=None, help="期間の終わり（省略時は昨日）")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"),
              show_default=True, help="出力先フォルダ")
@click.option("--format", "formats", type=JaChoice(["md", "csv"]), multiple=True, default=("md", "csv"),
              show_default=True, help="出力形式（複数指定可）")
@click.option("--no-charts", is_flag=True, help="グラフ（PNG）を作らない")
@pass_ctx
def kpi(ctx: CliContext, start: date | None, end: date | None, out_dir: Path, formats: tuple[str, ...],
        no_charts: bool) -> None:
    """登録者数の推移、支払額（券種・店舗・地区・年代別）、利用者数、平均支払額、給付の受取率、
    ポイントの付与と交換、満足度、域内循環率を Markdown・CSV と日本語のグラフ（PNG）で出力します。"""
    start, end = _period(start, end)
    t0 = time.perf_counter()
    core = ctx.core()
    with core.db.session() as s:
        k = kpi_mod.compute(s.connection(), start, end)
    days = anchors.daily(core.sealer.anchors.read()[0]) if core.sealer.anchors else []
    files = kpi_files.write(k, out_dir, formats=set(formats), with_charts=not no_charts,
                            anchors=[a.to_line() for a in days if start <= jst_date(a.at) <= end])
    elapsed = round(time.perf_counter() - t0, 2)
    sm = k.summary
    emit(ctx, {"summary": sm, "files": files, "seconds": elapsed},
         [f"利用状況 {start}〜{end}",
          f"  登録者 {sm['registered_users']:,} 人（新規 {sm['new_registrations']:,}）、利用者 {sm['active_users']:,} 人",
          f"  支払 {sm['payments']:,} 件・{yen(sm['payment_volume'])}（平均 {yen(sm['average_payment'])}）",
          f"  域内循環率 {sm['local_circulation'] * 100:.1f}%、満足度 {sm['satisfaction_mean'] or '—'}",
          f"出力: {out_dir}/（{len(files)} ファイル、{elapsed} 秒）"])


@report.command("unused-balance")
@click.option("--date", "base", type=JST_DATE, required=True, help="基準日（3月31日か9月30日、例: 2026-03-31）")
@pass_ctx
def unused(ctx: CliContext, base: date) -> None:
    """基準日未使用残高（前払式支払手段）: 券種ごとの残高、1,000万円の基準、必要な発行保証金（2分の1）、
    有効期限が6か月以内で適用除外となるかを表示します。"""
    unused_balance.check_base_date(base)
    with ctx.core().db.session() as s:
        rep = unused_balance.compute(s.connection(), base)
    emit(ctx, {"base_date": rep.base_date, "counted_total": rep.counted_total, "threshold": unused_balance.THRESHOLD,
               "over_threshold": rep.over_threshold, "deposit_required": rep.deposit_required,
               "money_types": [x.__dict__ for x in rep.lines]}, unused_balance.format_lines(rep))


@cli.command("export")
@click.option("--what", type=JaChoice(export_mod.KINDS), default="payments", show_default=True,
              help="payments=支払 / residents=住民属性 / grants=給付")
@click.option("--from", "start", type=JST_DATE, default=None, help="期間の始め")
@click.option("--to", "end", type=JST_DATE, default=None, help="期間の終わり")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="出力するCSVファイル")
@pass_ctx
def export(ctx: CliContext, what: str, start: date | None, end: date | None, out_file: Path) -> None:
    """政策分析（EBPM）用の仮名化CSV: 氏名・LINE ID・生年月日は出さず、仮名ID（鍵つきハッシュ）・年代・地区で出力します。"""
    start, end = _period(start, end)
    secret = ctx.config.derived_key("export")
    with ctx.core().db.session() as s:
        n = export_mod.write(s.connection(), what, secret, start, end, out_file)
    ctx.audit("export", {"what": what, "from": start, "to": end, "rows": n}, str(out_file.name))
    emit(ctx, {"what": what, "rows": n, "file": str(out_file)},
         f"仮名化したCSVを書き出しました: {out_file}（{n:,} 行、{start}〜{end}）")


@cli.group()
def survey() -> None:
    """アンケート（LINEで回答されたもの）の集計。"""


@survey.command("results")
@click.argument("survey_id", required=False)
@click.option("--top", default=10, show_default=True, type=JaIntRange(1, 100), help="自由回答以外の選択肢の上位")
@pass_ctx
def results(ctx: CliContext, survey_id: str | None, top: int) -> None:
    """アンケートの回答数・平均点（5段階）・質問ごとの回答の分布。自由記述は件数のみ表示します（個人情報のため）。"""
    with ctx.core().db.session() as s:
        if survey_id is None:
            rows = s.execute(select(SurveyResponse.survey_id, func.count(), func.avg(SurveyResponse.score))
                             .group_by(SurveyResponse.survey_id)).all()
            data = [{"survey": sid, "responses": int(n), "mean": round(float(m), 2) if m is not None else None}
                    for sid, n, m in rows]
            emit(ctx, data, table([(d["survey"], d["responses"], d["mean"] if d["mean"] is not None else "—")
                                   for d in data], ["アンケート", "回答数", "平均"]))
            return
        answers = s.execute(select(SurveyResponse.answers, SurveyResponse.score)
                            .where(SurveyResponse.survey_id == survey_id)).all()
    if not answers:
        raise NotFound(f"アンケート「{survey_id}」の回答はありません。`machi survey results` で一覧を確かめてください。")
    res = surveys.summarise(answers, surveys.counted_keys(survey_id), top)
    data = {"survey": survey_id, "responses": res.responses, "mean": res.mean,
            "score_distribution": res.score_distribution, "questions": res.questions,
            "free_text_counts": res.free_text_counts}
    scores, free_text = res.score_distribution, res.free_text_counts
    lines = [f"アンケート {survey_id}: 回答 {res.responses:,} 件、平均 {data['mean'] if data['mean'] is not None else '—'}"]
    if scores:
        lines.append("  点数の分布: " + "、".join(f"{k}点 {v}件" for k, v in data["score_distribution"].items()))
    for q, dist in data["questions"].items():
        lines.append(f"  {q}: " + "、".join(f"{k} {v}件" for k, v in dist.items()))
    for q, n in free_text.items():
        lines.append(f"  {q}: 自由記述 {n} 件（内容は個人情報を含みうるため表示しません）")
    emit(ctx, data, lines)
