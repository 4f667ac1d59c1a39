"""One staff operation, one transaction: the change and its audit record together, a dry run rolled back,
a clash with a change made at the same moment refused in Japanese."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ledger import registry
from ledger.errors import Conflict
from ledger.models import AuditLog, MoneyType
from town.staff_tx import staff_write


def _count(db, model) -> int:
    with db.session() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def _add(code: str):
    def work(s):
        mt = registry.create_money_type(s, code=code, name="テスト券", kind="coupon")
        return mt.id, {"code": code}, "added"
    return work


def test_the_change_and_its_audit_record_commit_together(db):
    assert staff_write(db, actor="役場 係", action="test.add", dry_run=False, work=_add("A")) > 0
    with db.session() as s:
        log = s.execute(select(AuditLog)).scalar_one()
    assert (log.actor, log.action, log.params, log.result) == ("役場 係", "test.add", {"code": "A"}, "added")


def test_a_dry_run_returns_what_would_happen_and_keeps_nothing(db):
    assert staff_write(db, actor="役場 係", action="test.add", dry_run=True, work=_add("A")) > 0
    assert _count(db, MoneyType) == 0 and _count(db, AuditLog) == 0


def test_a_clash_is_refused_in_japanese_and_changes_nothing(db):
    def clash(s):
        s.add(MoneyType(code="B", name="b", kind="coupon"))
        s.flush()
        s.add(MoneyType(code="B", name="b", kind="coupon"))  # as if another clerk's insert got there first
        s.flush()
        return None, {}, ""

    with pytest.raises(Conflict, match="同時に"):
        staff_write(db, actor="役場 係", action="test.clash", dry_run=False, work=clash)
    assert _count(db, MoneyType) == 0 and _count(db, AuditLog) == 0
