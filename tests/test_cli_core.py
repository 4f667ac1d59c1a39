"""The set-up commands a newcomer and CI run: db upgrade, demo seed, audit verify."""
from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import text

from admin_cli.main import cli
from ledger.db import make_engine
from tests.tamper import disable_journal_guards
from town.demo_town import CARD_ELDER_NUMBER, PERSONAS


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
    assert res.exit_code == 0 and res.output.count("OK") == 6  # the five invariants and the audit log's chain
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


def test_audit_verify_reports_a_rewritten_entry_whose_seals_were_deleted_and_never_reseals(tmp_path):
    """Issue #14 item 11: postings and lot edited, the seals deleted; verify used to re-seal and say OK."""
    url = f"sqlite:///{tmp_path / 'r.db'}"
    run(url, "db", "upgrade")
    run(url, "demo", "seed")
    engine = make_engine(url)
    with engine.begin() as conn:
        lot = conn.execute(text("SELECT id, entry_id FROM lots l WHERE (SELECT COUNT(*) FROM postings p "
                                "WHERE p.entry_id = l.entry_id) = 2 ORDER BY id LIMIT 1")).one()  # an issue
        disable_journal_guards(conn)  # what someone with the database file can do
        conn.execute(text("UPDATE postings SET amount = CASE WHEN amount > 0 THEN amount + 90000 "
                          "ELSE amount - 90000 END WHERE entry_id = :e"), {"e": lot.entry_id})
        conn.execute(text("UPDATE lots SET amount = amount + 90000, remaining = remaining + 90000 WHERE id = :l"),
                     {"l": lot.id})
        conn.execute(text("DELETE FROM entry_seals"))
    res = run(url, "audit", "verify")
    assert res.exit_code == 1, res.output
    assert "NG  3." in res.output and "封印が削除されています" in res.output
    assert "NG  1." not in res.output and "NG  2." not in res.output  # a consistent edit: only the seals tell
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM entry_seals")).scalar() == 0
    engine.dispose()
    assert run(url, "audit", "verify").exit_code == 1  # and it stays reported


def test_audit_seal_and_anchors(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    run(url, "db", "upgrade")
    run(url, "demo", "seed")
    res = run(url, "audit", "seal")
    assert res.exit_code == 0 and "封印しました: 仕訳 0 件" in res.output and "変化なし" in res.output
    res = run(url, "--json", "audit", "anchors")
    days = json.loads(res.output)
    assert len(days) == 1 and days[0]["entries"]["seq"] > 0 and len(days[0]["entries"]["hash"]) == 64
