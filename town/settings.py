"""Staff settings kept in the database (one JSON value per key), so every command and the scheduler
read the same: the town's bank account that pays shops, and the payout schedule."""
from __future__ import annotations

from typing import Any

from ledger.clock import utcnow
from ledger.db import Database
from town.models import StaffSetting

REMITTER = "payout.remitter"
PAYOUT_SCHEDULE = "payout.schedule"
DEFAULT_SCHEDULE = {"days": [1, 16], "transfer_after_days": 5}
RETENTION = "retention"  # days kept before the scheduler's purge: idle conversations, handled webhook events
DEFAULT_RETENTION = {"conversation_days": 30, "inbox_days": 7}


def get(db: Database, key: str, default: Any = None) -> Any:
    with db.session() as s:
        row = s.get(StaffSetting, key)
        return row.value if row is not None else default


def put(db: Database, key: str, value: Any, actor: str) -> None:
    with db.write() as s:
        row = s.get(StaffSetting, key)
        if row is None:
            s.add(StaffSetting(key=key, value=value, updated_by=actor, updated_at=utcnow()))
        else:
            row.value, row.updated_by, row.updated_at = value, actor, utcnow()
