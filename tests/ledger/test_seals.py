"""Keyed seals and anchors: someone with database access cannot rewrite the journal or the audit log
unseen (issue #14 item 11). Every edit below is made as a database administrator would make it."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from ledger import chain, invariants, keys
from ledger.anchors import AnchorLog
from ledger.clock import utcnow
from ledger.models import AuditLog, EntrySeal
from ledger.services import payments
from tests.ledger.conftest import tamper


def _check(town, later: timedelta = timedelta(0)):
    with town.db.session() as s:
        return invariants.check_all(s.connection(), sealer=town.sealer, now=utcnow() + later)


def _seal_count(town) -> int:
    with town.db.session() as s:
        return s.execute(select(func.count()).select_from(EntrySeal)).scalar_one()


def _paid_town(town) -> int:
    """Alice got 1,000 yen and paid 100; everything sealed and anchored. Returns the issue entry's id."""
    town.give(town.alice, "COMMON", 1_000)
    payments.pay(town.uow, resident_id=town.alice, merchant_id=town.small, amount=100, idempotency_key="p")
    run = town.sealer.seal(town.db)
    assert run.sealed["entries"] == 2 and run.anchor
    with town.db.session() as s:
        return s.execute(select(func.min(EntrySeal.entry_id))).scalar_one()


def _inflate(town, issue_id: int, amount: int) -> None:
    """Turn the 1,000 yen issue into `amount` consistently (postings and lot), so only a seal can tell."""
    tamper(town.db,
           f"UPDATE postings SET amount = CASE WHEN amount > 0 THEN {amount} ELSE -{amount} END "
           f"WHERE entry_id = {issue_id}",
           f"UPDATE lots SET amount = {amount}, remaining = remaining + {amount - 1_000} WHERE entry_id = {issue_id}")


def test_a_clean_ledger_verifies_and_each_run_is_anchored(town):
    issue_id = _paid_town(town)
    rep = _check(town, later=timedelta(days=1))
    assert rep.ok, invariants.format_report(rep)
    assert rep.facts["sealed"] == 2 and rep.facts["anchors"] == 1
    line = town.sealer.anchors.last()
    assert line.heads["entries"].seq == 2 and line.heads["entries"].id > issue_id
    assert town.sealer.seal(town.db).anchor is None  # nothing new: no new line


def test_edited_postings_and_lot_with_their_seals_deleted_are_reported_and_not_resealed(town):
    issue_id = _paid_town(town)
    _inflate(town, issue_id, 900_000)
    tamper(town.db, "DELETE FROM entry_seals")  # the issue's rewrite: drop the seals and hope for a re-seal
    rep = _check(town, later=timedelta(hours=2))
    assert not rep.ok and not rep.problems["1"] and not rep.problems["2"] and not rep.problems["4"]
    text = invariants.format_report(rep)
    assert "封印されていない古い仕訳が 2 件" in text
    assert "封印が削除されています" in text  # the anchor names a seal that is gone
    assert _seal_count(town) == 0  # verifying sealed nothing


def test_deleted_seals_are_caught_by_the_anchor_even_before_they_are_overdue(town):
    _paid_town(town)
    tamper(town.db, "DELETE FROM entry_seals WHERE seq = 2")
    rep = _check(town)
    assert any("アンカーにある仕訳の封印 2 番がありません" in p for p in rep.problems["3"])


def test_a_seal_deleted_in_the_middle_leaves_a_gap(town):
    _paid_town(town)
    town.give(town.bob, "COMMON", 500)
    town.sealer.seal(town.db)
    tamper(town.db, "DELETE FROM entry_seals WHERE seq = 2")
    rep = _check(town)
    assert any("の封印 2 番が削除されています" in p for p in rep.problems["3"])


def test_a_chain_sealed_again_with_another_key_is_reported(town):
    issue_id = _paid_town(town)
    _inflate(town, issue_id, 50_000)
    tamper(town.db, "DELETE FROM entry_seals")
    chain.Sealer(keys.seal_key("the intruder's guess")).seal(town.db)
    rep = _check(town, later=timedelta(hours=2))
    assert any("すべて鍵と合いません" in p for p in rep.problems["3"]), invariants.format_report(rep)


def test_a_chain_sealed_again_with_the_right_key_does_not_match_its_anchor(town):
    issue_id = _paid_town(town)
    _inflate(town, issue_id, 50_000)
    tamper(town.db, "DELETE FROM entry_seals")
    chain.seal(town.db, town.sealer.key)  # even with the key, the anchor written before says otherwise
    rep = _check(town, later=timedelta(hours=2))
    assert rep.problems["3"] and all("アンカーと一致しません" in p for p in rep.problems["3"])
    assert "封印が作り直されています" in rep.problems["3"][0]


def test_an_edited_or_a_deleted_audit_record_is_reported(town):
    with town.db.write() as s:
        s.add_all([AuditLog(actor="staff:a", action="grant.run", params={"program": "BABY"}, result="ok"),
                   AuditLog(actor="staff:b", action="payout.run", params={}, result="batch 1"),
                   AuditLog(actor="staff:c", action="report.kpi", params={}, result="")])
    assert town.sealer.seal(town.db).sealed["audit"] == 3
    assert _check(town).ok
    tamper(town.db, "UPDATE audit_log SET actor = 'staff:z' WHERE action = 'grant.run'")
    rep = _check(town)
    assert rep.problems["audit"] == ["操作記録 1 の内容が封印と一致しません（改ざんの疑い）"]
    assert "NG  職員の操作記録" in invariants.format_report(rep)
    tamper(town.db, "UPDATE audit_log SET actor = 'staff:a' WHERE action = 'grant.run'",
           "DELETE FROM audit_seals WHERE audit_id = 2", "DELETE FROM audit_log WHERE id = 2")
    assert any("の封印 2 番が削除されています" in p for p in _check(town).problems["audit"])


def test_an_unreadable_anchor_line_is_reported(town):
    _paid_town(town)
    with town.sealer.anchors.path.open("a") as f:
        f.write("{not json\n")
    assert any("読めません" in p for p in _check(town).problems["3"])


def test_without_an_anchor_file_the_keyed_chain_still_verifies(town, tmp_path):
    _paid_town(town)
    sealer = chain.Sealer(town.sealer.key, AnchorLog(tmp_path / "none.jsonl"))
    with town.db.session() as s:
        rep = invariants.check_all(s.connection(), sealer=sealer)
    assert rep.ok and "照合していません" in invariants.format_report(rep)
