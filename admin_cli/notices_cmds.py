"""machi notices: LINEのお知らせ（お支払いの受付・返金・給付など）を送る常駐プロセス。

The server stores each event in the outbox with the payment; this process tells them. With
`MACHI_NOTICES=separate` the server sends nothing itself, so pushing receipts to LINE (tens of
milliseconds each, across the internet) never takes the CPU or the interpreter the payments need.
"""
from __future__ import annotations

import logging
import os
import signal
from typing import Any

import click

import logs
from admin_cli.common import emit
from admin_cli.context import CliContext, pass_ctx
from admin_cli.main import cli
from app import Machi, NotMigrated, build_core
from bot import runtime

log = logging.getLogger("machi.notices")


def _start(ctx: CliContext, threads: int) -> tuple[Machi, runtime.Bot]:
    try:
        core = build_core(ctx.config, outbox=True)
    except NotMigrated as exc:
        raise click.ClickException(str(exc)) from exc
    return core, runtime.build(core, relay_mode="thread", notices=threads, workers=0)


@cli.command("notices")
@click.option("--once", is_flag=True, help="たまっているお知らせを送って終了します")
@click.option("--threads", type=click.IntRange(1, 128), default=32, show_default=True,
              help="LINE へ同時に送る数（LINE の応答を待つ間に次を送ります）")
@click.option("--nice", "niceness", type=click.IntRange(0, 19), default=10, show_default=True,
              help="優先度を下げる量（お支払いの処理を先にするため）")
@pass_ctx
def notices_cmd(ctx: CliContext, once: bool, threads: int, niceness: int) -> None:
    """LINE のお知らせ（お支払い・返金の受付、給付やポイントのお知らせ、精算のお知らせ）を送ります。

    サーバーを MACHI_NOTICES=separate で動かすときに、別のプロセスとして常駐させます。
    いくつ動かしても、1件のお知らせを送るのはそのうちの1つだけです。
    """
    if niceness:
        os.nice(niceness)
    logs.setup(ctx.config, "notices")
    core, bot = _start(ctx, threads)
    relay = bot.relay
    assert relay is not None
    try:
        if once:
            told = relay.run_until_empty(limit=10**9)
            bot.notifier.dispatcher.drain(60.0)
            emit(ctx, {"told": told}, [f"お知らせを送りました: {told:,} 件"])
            return
        _forever(relay)
    finally:
        bot.close(grace=10.0)
        core.db.dispose()


def _forever(relay: Any) -> None:
    def stop(_signum: int, _frame: Any) -> None:
        relay.request_stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("machi notices を起動しました。止めるには Ctrl+C。")  # a log line: one JSON object under systemd
    relay.serve()
    log.info("machi notices を止めました（送ったお知らせ %s 件）。", f"{relay.told:,}")
