"""Alembic environment: the URL comes from the caller (machi db upgrade) or DATABASE_URL."""
from __future__ import annotations

from alembic import context

import models_registry
from config import load_config
from ledger.db import make_engine

config = context.config
target_metadata = models_registry.metadata()


def _url() -> str:
    return config.attributes.get("url") or config.get_main_option("sqlalchemy.url") or load_config().database_url


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(conn) -> None:
    context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
