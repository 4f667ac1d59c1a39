"""Dialect helpers for reports: the Tokyo calendar day of a UTC timestamp, in SQL."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy.sql import ColumnElement


def jst_day(col: Any, dialect: str) -> ColumnElement:
    """Times are stored as naive UTC; the day people mean is the one in Tokyo (UTC+9, no DST)."""
    if dialect == "sqlite":
        return func.date(col, "+9 hours")
    return func.date(col + timedelta(hours=9))


def as_date(value: Any) -> date:
    """SQLite answers '2026-04-01', PostgreSQL a date."""
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
