"""machi event: 地域ポイントのイベント — create (points, window, capacity), list, poster, venue screen."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
from sqlalchemy import func, select
from werkzeug.serving import run_simple

from admin_cli import event_screen
from admin_cli.common import JST_DATETIME, JaIntRange, dry_run_option, emit, find_money_type, jst, table
from admin_cli.context import CliContext, pass_ctx
from admin_cli.grants_cmds import check_code
from admin_cli.main import cli
from ledger.errors import AlreadyDone, InvalidInput, NotFound
from ledger.models import Entry, Event, MoneyType
from ledger.services import checkins
from town import event_qr


@cli.group()
def event() -> None:
    """地域ポイントのイベント（清掃ボランティアなど）: 作成・一覧・受付QRのポスター・会場の画面（QRが変わる）。"""


def _event(s, code: str) -> Event:
    ev = s.execute(select(Event).where(func.upper(Event.code) == code.strip().upper())).scalar()
    if ev is None:
        raise NotFound(f"イベント「{code}」はありません。`machi event list` で確かめてください。")
    return ev


@event.command("create")
@click.option("--code", required=True, help="受付コード（例: KAIGAN。QRに入り、手入力もできます）")
@click.option("--name", required=True, help="イベント名")
@click.option("--money-type", default="VOL", show_default=True, help="入るポイントの券種コード")
@click.option("--points", required=True, type=int, help="1人あたりのポイント")
@click.option("--starts", required=True, type=JST_DATETIME, help="受付開始（日本時間）")
@click.option("--ends", required=True, type=JST_DATETIME, help="受付終了（日本時間）")
@click.option("--capacity", type=int, default=None, help="定員（先着）")
@click.option("--place", default="", help="会場")
@click.option("--name-en", default="", help="英語で表示する方へのイベント名（なければ日本語のまま）")
@click.option("--place-en", default="", help="英語で表示する方への会場名")
@click.option("--rotating", is_flag=True, help="会場の画面に30秒ごとに変わるQRを出す（写真での不正受付を防ぐ）")
@dry_run_option
@pass_ctx
def create(ctx: CliContext, code: str, name: str, money_type: str, points: int, starts: datetime, ends: datetime,
           capacity: int | None, place: str, name_en: str, place_en: str, rotating: bool, dry_run: bool) -> None:
    """イベントを作ります（受付はお一人1回、期間内、定員まで）。"""
    code = check_code(code, "受付")
    if points <= 0:
        raise InvalidInput("ポイントは1以上の整数で指定してください。")
    if ends <= starts:
        raise InvalidInput("受付終了は受付開始より後にしてください。")
    if capacity is not None and capacity <= 0:
        raise InvalidInput("定員は1人以上にしてください。")
    if not name.strip():
        raise InvalidInput("イベント名を入れてください。")
    with ctx.core().db.write() as s:
        if s.execute(select(Event.id).where(func.upper(Event.code) == code)).first():
            raise AlreadyDone(f"受付コード「{code}」のイベントはすでにあります。")
        mt = find_money_type(s, money_type)
        checkins.check_event_money(mt)
        if not dry_run:
            s.add(Event(code=code, name=name.strip(), name_en=name_en.strip(), money_type_id=mt.id, points=points,
                        starts_at=starts, ends_at=ends, capacity=capacity, place=place.strip(),
                        place_en=place_en.strip(), rotating=rotating))
    params = {"code": code, "money_type": money_type, "points": points, "starts": starts, "ends": ends,
              "capacity": capacity, "rotating": rotating}
    if not dry_run:
        ctx.audit("event.create", params, "created")
    emit(ctx, {**params, "dry_run": dry_run},
         f"{'（試し実行）' if dry_run else ''}イベント「{name}」（{code}、{points:,}ポイント、{jst(starts)}〜{jst(ends)}"
         f"{f'、定員 {capacity} 人' if capacity else ''}）を{'作ります' if dry_run else '作りました'}。"
         f" ポスター: machi event poster {code}")


@event.command("list")
@pass_ctx
def list_(ctx: CliContext) -> None:
    """イベントの一覧（受付人数・定員）。"""
    with ctx.core().db.session() as s:
        rows = s.execute(select(Event, MoneyType.code).join(MoneyType, MoneyType.id == Event.money_type_id)
                         .order_by(Event.starts_at.desc())).all()
        taken = dict(s.execute(select(Entry.ref, func.count()).where(Entry.ref.like("event:%"))
                               .group_by(Entry.ref)).all())
    data = [{"code": e.code, "name": e.name, "money_type": mt, "points": e.points, "starts_at": e.starts_at,
             "ends_at": e.ends_at, "capacity": e.capacity, "checked_in": int(taken.get(f"event:{e.id}", 0)),
             "place": e.place, "rotating": e.rotating} for e, mt in rows]
    emit(ctx, data, table([(d["code"], d["name"], d["points"], jst(d["starts_at"]), jst(d["ends_at"]),
                            f"{d['checked_in']}/{d['capacity'] or '—'}", "画面" if d["rotating"] else "ポスター")
                           for d in data], ["コード", "イベント", "ポイント", "開始", "終了", "受付/定員", "QR"]))


@event.command("poster")
@click.argument("code")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="出力先フォルダ")
@pass_ctx
def poster(ctx: CliContext, code: str, out_dir: Path) -> None:
    """受付QRのポスター（A4 PDF）。画面QRのイベントは「会場の画面を読み取って」と案内します。"""
    cfg = ctx.config
    with ctx.core().db.session() as s:
        ev = _event(s, code)
        url = None if ev.rotating else event_qr.checkin_url(ev.code, liff_id=cfg.liff_id, public_url=cfg.public_url,
                                                            dev=cfg.env != "prod")
        pdf = event_qr.poster_pdf(ev.name, ev.code, ev.place, ev.points, ev.starts_at, ev.ends_at, url)
        ev_code = ev.code
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"event_{ev_code}.pdf"
    path.write_bytes(pdf)
    emit(ctx, {"code": ev_code, "pdf": str(path), "url": url},
         [f"ポスターを作りました: {path}", f"QRの中身: {url}" if url else f"会場の画面: machi event screen {ev_code}"])


@event.command("screen")
@click.argument("code")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=JaIntRange(1, 65535))
@click.option("--period", default=event_qr.PERIOD, show_default=True, type=JaIntRange(10, 600),
              help="QRが変わる間隔（秒）")
@pass_ctx
def screen(ctx: CliContext, code: str, host: str, port: int, period: int) -> None:
    """会場の画面用ページを開きます（ブラウザで全画面表示。QRは一定時間ごとに変わります）。"""
    cfg = ctx.config
    with ctx.core().db.session() as s:
        ev = _event(s, code)
        name, ev_code = ev.name, ev.code
    app = event_screen.screen_app(name, ev_code, cfg.secret_key, period=period, url_for=lambda t: event_qr.checkin_url(
        ev_code, liff_id=cfg.liff_id, public_url=cfg.public_url, dev=cfg.env != "prod", token=t))
    click.echo(f"会場の画面: http://{host}:{port}/ をブラウザで開いて全画面にしてください（Ctrl+C で終了）")
    run_simple(host, port, app, threaded=True, use_reloader=False)
