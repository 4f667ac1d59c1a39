"""machi scheduler: 定時処理（失効・期限前のお知らせ・精算・予約お知らせ）を動かす常駐プロセス。"""
from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from apscheduler.events import EVENT_SCHEDULER_STARTED

import logs
from admin_cli.common import emit
from admin_cli.context import CliContext, pass_ctx
from admin_cli.main import cli
from town import scheduler

WAIT_POLL_SECONDS = 5.0
log = logging.getLogger("machi.scheduler")
JOB_NAMES = {"expire": "失効", "remind": "期限前のお知らせ", "payout": "精算", "announce": "予約お知らせの確認",
             "seal": "台帳・操作記録の封印", "purge": "古い会話・受信記録の削除"}


def line_runtime(core: Any, sender_factory: Callable[[], Any], payout_dir: Path = Path("payouts")) -> scheduler.Runtime:
    """The scheduler's jobs wired to LINE: how reminders look, and the purges of the chat's and the
    webhook's tables (they belong to flows and bot, which the town layer does not import)."""
    from bot.inbox import Inbox  # noqa: PLC0415 - only the scheduler needs them
    from bot.town_presenter import LinePresenter  # noqa: PLC0415
    from flows.state import DbStateStore  # noqa: PLC0415

    return scheduler.Runtime(core=core, sender_factory=sender_factory, payout_dir=payout_dir,
                             presenter_factory=lambda: LinePresenter(core.config.liff_id),
                             purgers={"conversations": DbStateStore(core.db).purge, "inbox": Inbox(core.db).purge})


def _runtime(ctx: CliContext, payout_dir: Path) -> scheduler.Runtime:
    return line_runtime(ctx.core(), ctx.sender, payout_dir)


@cli.command("scheduler")
@click.option("--once", is_flag=True, help="いま実行すべき処理（見逃した分を含む）を一度だけ実行して終了します")
@click.option("--wait", "wait_for_lock", is_flag=True,
              help="別の scheduler が動いているときは、止まるまで待ってから引き継ぎます（既定は終了）")
@click.option("--payout-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("payouts"),
              show_default=True, help="自動精算の振込ファイル・明細書の出力先")
@pass_ctx
def scheduler_cmd(ctx: CliContext, once: bool, wait_for_lock: bool, payout_dir: Path) -> None:
    """定時処理を動かします（日本時間）: 0時5分 失効、9時 期限前のお知らせ（30日前・7日前）、
    精算日の6時 精算、毎分 予約お知らせ、10分ごと 台帳と操作記録の封印（アンカーも記録）、
    3時30分 古い会話・受信記録の削除。止まっていた間の分は起動時に一度だけ実行します。

    同じデータベースに対して動かせるのは1つだけです（2つ目は知らせて終了、--wait なら待機）。
    """
    logs.setup(ctx.config, "scheduler")
    core = ctx.core()
    lock = scheduler.RunnerLock(core.config.database_url, core.db.engine)
    if not lock.acquire():
        if not wait_for_lock:
            raise click.ClickException("別の machi scheduler がすでに動いています（同じデータベースに動かせるのは1つだけです）。"
                                       "このプロセスは終了します。待って引き継ぐには --wait を付けてください。")
        click.echo("別の machi scheduler が動いています。止まるまで待ちます（Ctrl+C で中止）…", err=True)
        while not lock.acquire():
            time.sleep(WAIT_POLL_SECONDS)
        click.echo("前の scheduler が止まりました。引き継いで動かします。", err=True)
    try:
        scheduler.install(_runtime(ctx, payout_dir))
        if once:
            _once(ctx)
            return
        _forever(ctx, core)
    finally:
        lock.release()


def _once(ctx: CliContext) -> None:
    out = scheduler.run_due()
    lines = [f"失効: {out['expire']['lots']:,} 件、{out['expire']['total']:,}円"]
    if "remind" in out:
        r = out["remind"]
        lines.append(f"期限前のお知らせ: 送信 {r['sent']} 人、LINEで届かない {r['skipped']} 人、送信済み {r['already']} 人")
    if "payout" in out:
        p = out["payout"]
        lines.append(f"精算: バッチ {p['batch_id']}（{p['created']} 店、振込額 {p['total_net']:,}円）" if p["batch_id"]
                     else "精算: 今日の分はありません（精算済み）")
    a = out["announce"]
    lines.append(f"予約お知らせ: 送信 {len(a['sent'])} 件" + (f"、失敗 {len(a['failed'])} 件（次回もう一度送ります）"
                                                         if a["failed"] else ""))
    lines.append(f"削除: 会話 {out['purge']['conversations']:,} 件、受信記録 {out['purge']['inbox']:,} 件")
    lines.append(f"封印: 仕訳 {out['seal']['entries']:,} 件、操作記録 {out['seal']['audit']:,} 件")
    emit(ctx, out, lines)


def _forever(ctx: CliContext, core: Any) -> None:
    logging.getLogger("apscheduler.scheduler").setLevel(logging.WARNING)  # job runs are logged by the executor
    sched = scheduler.build(core)

    def stop(_signum: int, _frame: Any) -> None:
        sched.shutdown(wait=False)

    def started(_event: Any) -> None:
        runs = [f"{JOB_NAMES.get(job_id, job_id)}: 次回 {at:%Y-%m-%d %H:%M}" if at else f"{job_id}: 停止中"
                for job_id, at in sorted(scheduler.next_runs(core).items())]
        # A log line (one JSON object under systemd), not loose text on stderr.
        log.info("machi scheduler を起動しました（日本時間）。止めるには Ctrl+C。%s", " / ".join(runs))

    signal.signal(signal.SIGTERM, stop)
    sched.add_listener(started, EVENT_SCHEDULER_STARTED)
    try:
        sched.start()
    except (KeyboardInterrupt, SystemExit):
        return
