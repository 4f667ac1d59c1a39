"""One staff operation, one transaction: the change and its audit record commit together, and a dry run
runs the very same code, then rolls everything back (so what it reports is what a real run would do).

Money moves through the ledger's services: `staff_uow` hands them a unit of work whose transaction also
writes the audit record; plain record changes use `staff_write`.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ledger.db import Database
from ledger.errors import Conflict
from ledger.models import AuditLog
from ledger.uow import Tx, UnitOfWork

T = TypeVar("T")


class _RolledBack(Exception):
    """Carries a dry run's result out of the transaction it rolls back."""

    def __init__(self, result: Any) -> None:
        super().__init__("dry run")
        self.result = result


def _plain(params: dict[str, Any]) -> dict[str, Any]:
    """Dates and times as ISO text: the audit log's params are a JSON column."""
    return json.loads(json.dumps(params, ensure_ascii=False,
                                 default=lambda v: v.isoformat() if isinstance(v, date | datetime) else str(v)))


def audit_row(actor: str, action: str, params: dict[str, Any], result: str) -> dict[str, Any]:
    return {"actor": actor[:64], "action": action, "params": _plain(params), "result": result[:400]}


def staff_write(db: Database, *, actor: str, action: str, dry_run: bool,
                work: Callable[[Session], tuple[T, dict[str, Any], str]]) -> T:
    """Run `work(session)` → (result, audit params, audit result) in one write transaction, audited."""
    try:
        with db.write() as s:
            result, params, outcome = work(s)
            s.add(AuditLog(**audit_row(actor, action, params, outcome)))
            s.flush()
            if dry_run:
                raise _RolledBack(result)
            return result
    except _RolledBack as done:
        return done.result
    except IntegrityError as exc:  # the same change made at the same moment by someone else: theirs stands
        raise Conflict("同じ内容の操作が同時に行われました。`machi audit log` で確かめてから、必要ならもう一度実行してください。"
                       ) from exc


class _AuditedUow:
    """A unit of work for one ledger service call: audits in the same transaction, or rolls back (dry run)."""

    def __init__(self, uow: UnitOfWork, actor: str, action: str, params: dict[str, Any],
                 outcome: Callable[[Any], str], dry_run: bool) -> None:
        self._uow, self._actor, self._action, self._params = uow, actor, action, params
        self._outcome, self._dry_run = outcome, dry_run
        self.clock = uow.clock
        self.policy = uow.policy

    def run(self, fn: Callable[[Tx], T]) -> T:
        def work(tx: Tx) -> T:
            result = fn(tx)
            tx.conn.execute(insert(AuditLog), [audit_row(self._actor, self._action, self._params,
                                                         self._outcome(result))])
            if self._dry_run:
                raise _RolledBack(result)
            return result

        try:
            return self._uow.run(work)
        except _RolledBack as done:
            return done.result


def staff_uow(uow: UnitOfWork, *, actor: str, action: str, params: dict[str, Any],
              outcome: Callable[[Any], str] = lambda _r: "", dry_run: bool = False) -> Any:
    """What to hand a ledger service (`award(staff_uow(...), ...)`) so its transaction is audited or dry."""
    return _AuditedUow(uow, actor, action, params, outcome, dry_run)
