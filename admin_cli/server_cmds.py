"""machi serve: the web server (webhook, LIFF, API, and the simulator in dev)."""
from __future__ import annotations

import click
from werkzeug.serving import run_simple

from admin_cli.context import CliContext, pass_ctx
from admin_cli.main import cli
from app import NotMigrated, create_app


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@pass_ctx
def serve(ctx: CliContext, host: str, port: int) -> None:
    """サーバーを起動します（未移行のデータベースでは起動しません）。"""
    try:
        app = create_app(ctx.config)
    except NotMigrated as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"まちウォレット: http://{host}:{port}/")
    run_simple(host, port, app, threaded=True, use_reloader=False)
