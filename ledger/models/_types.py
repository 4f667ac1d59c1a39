"""Column helpers shared by the ledger's tables."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import mapped_column

# Autoincrement ids: BIGINT on PostgreSQL, INTEGER (the rowid) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")
pk = Annotated[int, mapped_column(BigId, primary_key=True, autoincrement=True)]
Yen = BigInteger  # money is an integer number of yen


def utcnow() -> datetime:
    """Naive UTC: every time is stored in UTC and shown in Asia/Tokyo."""
    return datetime.now(UTC).replace(tzinfo=None)
