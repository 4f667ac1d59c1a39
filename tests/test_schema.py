"""The Alembic migrations build exactly the schema the models describe, and the server refuses
to start on a database that is behind."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import models_registry
import schema
from app import NotMigrated, create_app
from config import load_config
from ledger.db import make_engine


def test_migrations_match_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    schema.upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), models_registry.metadata())
    engine.dispose()
    assert diff == [], f"write a migration for: {diff}"


def test_server_refuses_an_unmigrated_database(tmp_path):
    cfg = load_config(database_url=f"sqlite:///{tmp_path / 'empty.db'}", env="test")
    with pytest.raises(NotMigrated) as exc:
        create_app(cfg)
    assert "machi db upgrade" in str(exc.value)


def test_health(client):
    res = client.get("/healthz")
    assert res.status_code == 200 and res.get_json() == {"status": "ok"}


def test_unknown_page_is_json_in_japanese(client):
    res = client.get("/nope")
    assert res.status_code == 404 and "見つかりません" in res.get_json()["error"]["message"]
