"""The set-up commands a newcomer and CI run: db upgrade, demo seed, audit verify."""
from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import text

from admin_cli.demo_town import CARD_ELDER_NUMBER, PERSONAS
from admin_cli.main import cli
from ledger.db import make_engine
from tests.tamper import disable_journal_guards


def run(url: str, *args: str):
    return CliRunner().invoke(cli, ["--database-url", url, *args], catch_exceptions=False)


def test_fresh_database_upgrade_seed_and_verify(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    res = run(url, "demo", "seed")
    assert res.exit_code == 1 and "machi db upgrade" in res.output  # refuses an unmigrated database
    assert run(url, "db", "upgrade").exit_code == 0
    assert run(url, "db", "upgrade").exit_code == 0  # safe to run twice
    res = run(url, "demo", "seed")
    assert res.exit_code == 0, res.output
    for persona in PERSONAS:
        assert persona.line_user_id in res.output
    assert "8000 0000 0011" in res.output and CARD_ELDER_NUMBER == "800000000011"
    again = run(url, "demo", "seed")
    assert again.exit_code == 1 and "すでに" in again.output
    assert "すでにあります" in run(url, "demo", "seed", "--if-empty").output
    res = run(url, "audit", "verify")
    assert res.exit_code == 0 and res.output.count("OK") == 5
    res = run(url, "--json", "audit", "verify")
    assert json.loads(res.output)["ok"] is True


def test_audit_verify_fails_loudly_on_a_tampered_ledger(tmp_path):
    url = f"sqlite:///{tmp_path / 't.db'}"
    run(url, "db", "upgrade")
    run(url, "demo", "seed")
    engine = make_engine(url)
    with engine.begin() as conn:
        disable_journal_guards(conn)
        conn.execute(text("UPDATE postings SET amount = amount + 100 WHERE id = (SELECT MIN(id) FROM postings)"))
    engine.dispose()
    res = run(url, "audit", "verify")
    assert res.exit_code == 1
    assert "NG  1." in res.output and "NG  3." in res.output and "改ざん" in res.output
