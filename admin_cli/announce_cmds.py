"""machi announce: お知らせ — text or Flex to a segment, now or at a set time; preview; resume."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
from sqlalchemy import case, func, select

from admin_cli.common import JST_DATETIME, dry_run_option, emit, find_segment, jst, progress, table
from admin_cli.context import CliContext, pass_ctx
from admin_cli.main import cli
from ledger.clock import jst_date
from ledger.errors import InvalidInput
from town import announce, line_messages
from town.models import Announcement, AnnouncementChunk


@cli.group("announce")
def announce_group() -> None:
    """お知らせ配信: 対象者（セグメント）へテキストまたはFlexメッセージを、今すぐまたは予約で送ります。

    500人ずつに分けて送り、途中で止まっても続きから送れます（同じ方に二度届くことはありません）。
    LINEの友だちでない方・ブロック中の方には送りません（人数を表示します）。
    """


def _messages(text: str | None, flex: Path | None, alt_text: str) -> list[dict]:
    if bool(text) == bool(flex):
        raise InvalidInput("本文は --text か --flex（JSONファイル）のどちらか一方で指定してください。")
    msg = line_messages.text(text.replace("\\n", "\n")) if text else line_messages.from_flex_file(flex, alt_text)
    return line_messages.check([msg])


def _criteria(ctx: CliContext, segment: str | None, everyone: bool) -> tuple[dict, int | None, str]:
    if bool(segment) == everyone:
        raise InvalidInput("送り先は --segment（セグメント名）か --all（全住民）のどちらか一方で指定してください。")
    if everyone:
        return {}, None, "全住民"
    with ctx.core().db.session() as s:
        seg = find_segment(s, segment)
        return dict(seg.criteria or {}), seg.id, seg.name


_audience_opts = [
    click.option("--segment", default=None, help="送り先のセグメント名（machi segment list）"),
    click.option("--all", "everyone", is_flag=True, help="全住民（友だち登録中の方）に送ります"),
    click.option("--text", default=None, help="本文（改行は \\n）"),
    click.option("--flex", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
                 help="Flexメッセージ（JSONファイル: メッセージ全体、またはbubble/carousel）"),
    click.option("--alt-text", default="", help="Flexメッセージの通知・一覧に出る代替テキスト"),
]


def audience_options(fn):
    for opt in reversed(_audience_opts):
        fn = opt(fn)
    return fn


@announce_group.command("preview")
@audience_options
@pass_ctx
def preview(ctx: CliContext, segment: str | None, everyone: bool, text: str | None, flex: Path | None,
            alt_text: str) -> None:
    """何人に届くか（届かない人数）と、メッセージがLINEの形式に合っているかを確かめます。送信はしません。"""
    messages = _messages(text, flex, alt_text)
    criteria, _seg_id, label = _criteria(ctx, segment, everyone)
    core = ctx.core()
    with core.db.session() as s:
        aud = announce.audience(s.connection(), criteria, jst_date(core.uow.clock()))
    chunks = -(-len(aud.user_ids) // announce.CHUNK)
    emit(ctx, {"segment": label, "recipients": len(aud.user_ids), "skipped": aud.skipped, "matched": aud.matched,
               "chunks": chunks, "messages": messages},
         [f"送り先: {label} — 対象 {aud.matched:,} 人", f"  LINEで届く方 {len(aud.user_ids):,} 人（{chunks} 回に分けて送信）",
          f"  届かない方（LINE未登録・ブロック中） {aud.skipped:,} 人",
          "メッセージ: LINEの形式チェック OK",
          *(f"  {m['text']}" if m["type"] == "text" else f"  [Flex] {m.get('altText', '')}" for m in messages)])


@announce_group.command("create")
@click.option("--title", required=True, help="件名（職員向けの控え。住民には表示されません）")
@audience_options
@click.option("--at", "at", type=JST_DATETIME, default=None, help="予約送信の日時（日本時間、例: 2026-05-01 09:00）。省略すると今すぐ送ります")
@dry_run_option
@pass_ctx
def create(ctx: CliContext, title: str, segment: str | None, everyone: bool, text: str | None, flex: Path | None,
           alt_text: str, at: datetime | None, dry_run: bool) -> None:
    """お知らせを作って、今すぐ送る（--at なし）か予約します（machi scheduler が送ります）。"""
    messages = _messages(text, flex, alt_text)
    criteria, seg_id, label = _criteria(ctx, segment, everyone)
    core = ctx.core()
    now = core.uow.clock()
    if at is not None and at <= now:
        raise InvalidInput("予約日時が過去です。未来の日時（日本時間）を指定してください。")
    if dry_run:
        with core.db.session() as s:
            aud = announce.audience(s.connection(), criteria, jst_date(now))
        emit(ctx, {"dry_run": True, "recipients": len(aud.user_ids), "skipped": aud.skipped, "at": at},
             f"（試し実行）「{title}」を {label} の {len(aud.user_ids):,} 人に"
             f"{'今すぐ送ります' if at is None else jst(at) + ' に送ります'}（届かない方 {aud.skipped:,} 人）。")
        return
    ann_id = announce.create(core.db, title=title, messages=messages, criteria=criteria, segment_id=seg_id,
                             scheduled_at=at, actor=ctx.actor, now=now)
    ctx.audit("announce.create", {"id": ann_id, "title": title, "segment": label, "at": jst(at) or None}, "scheduled" if at else "sending")
    if at is not None:
        emit(ctx, {"id": ann_id, "status": "scheduled", "at": at},
             f"お知らせ {ann_id} を {jst(at)} に予約しました（machi scheduler が送ります）。")
        return
    _send(ctx, ann_id)


def _send(ctx: CliContext, ann_id: int) -> None:
    bar = progress(ctx, None, f"お知らせ {ann_id}")
    try:
        rep = announce.deliver(ctx.core().db, ctx.sender(), ann_id, on_total=lambda n: setattr(bar, "total", n),
                               on_chunk=bar.update)
    finally:
        bar.close()
    ctx.audit("announce.send", {"id": ann_id}, f"recipients {rep.recipients} chunks {rep.sent_now}/{rep.chunks}")
    lines = [f"お知らせ {ann_id} を {rep.recipients:,} 人に送りました（{rep.chunks} 回に分けて送信）。",
             f"LINEで届かない方 {rep.skipped:,} 人には送っていません。"]
    if rep.sent_before:
        lines.insert(0, f"前回までに {rep.sent_before} 回分は送信済みでした。続きの {rep.sent_now} 回分を送りました。")
    emit(ctx, rep.__dict__, lines)


@announce_group.command("send")
@click.argument("announcement_id", type=int)
@pass_ctx
def send(ctx: CliContext, announcement_id: int) -> None:
    """下書き・予約中のお知らせを今すぐ送るか、途中で止まったお知らせを続きから送ります。"""
    _send(ctx, announcement_id)


@announce_group.command("cancel")
@click.argument("announcement_id", type=int)
@pass_ctx
def cancel(ctx: CliContext, announcement_id: int) -> None:
    """予約中（送信前）のお知らせを取り消します。"""
    announce.cancel(ctx.core().db, announcement_id)
    ctx.audit("announce.cancel", {"id": announcement_id}, "cancelled")
    emit(ctx, {"id": announcement_id, "status": "cancelled"}, f"お知らせ {announcement_id} を取り消しました。")


@announce_group.command("list")
@click.option("--limit", default=30, show_default=True, type=click.IntRange(1, 1000))
@pass_ctx
def list_(ctx: CliContext, limit: int) -> None:
    """お知らせの一覧（状態・送信済み/全体の回数）。"""
    with ctx.core().db.session() as s:
        rows = s.execute(select(Announcement).order_by(Announcement.id.desc()).limit(limit)).scalars().all()
        progress_of = {a: (n, sent) for a, n, sent in s.execute(
            select(AnnouncementChunk.announcement_id, func.count(),
                   func.sum(case((AnnouncementChunk.status == "sent", 1), else_=0)))
            .where(AnnouncementChunk.announcement_id.in_([r.id for r in rows]))
            .group_by(AnnouncementChunk.announcement_id)).all()}
    data = [{"id": r.id, "title": r.title, "kind": r.kind, "status": r.status, "scheduled_at": r.scheduled_at,
             "recipients": r.recipients, "skipped": r.skipped, "chunks": progress_of.get(r.id, (0, 0))[0],
             "chunks_sent": int(progress_of.get(r.id, (0, 0))[1] or 0), "created_by": r.created_by} for r in rows]
    emit(ctx, data, table([(d["id"], d["title"], d["kind"], announce.STATUS_JA.get(d["status"], d["status"]),
                            jst(d["scheduled_at"]), d["recipients"],
                            d["skipped"], f"{d['chunks_sent']}/{d['chunks']}") for d in data],
                          ["番号", "件名", "種類", "状態", "予約", "送信先", "届かない", "送信済み"]))
