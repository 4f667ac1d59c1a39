"""What a server install carries: the app on SQLite loads neither the PostgreSQL driver nor the
chart library (matplotlib is the optional `reports` extra), and everything it needs ships with it."""
from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import schema

ROOT = Path(__file__).resolve().parents[1]


def test_the_app_and_machi_on_sqlite_load_no_driver_and_no_charts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'machi.db'}"
    schema.upgrade(url)
    code = f"""
import sys
import admin_cli.main
from app import create_app
from config import load_config
app = create_app(load_config(database_url={url!r}, env="test"))
app.test_client().get("/simulator")
app.extensions["machi"].close(grace=0)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("psycopg", "psycopg_binary", "matplotlib"))
assert not loaded, loaded
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                            check=False, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_server_dependencies_leave_charts_to_the_reports_extra() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = {d.split("[")[0].split(">")[0].split("=")[0].split("<")[0].strip().lower() for d in project["dependencies"]}
    assert "matplotlib" not in names and "japanize-matplotlib" not in names
    assert any(d.startswith("matplotlib") for d in project["optional-dependencies"]["reports"])
