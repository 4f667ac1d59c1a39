"""What someone with direct access to the database can still do: switch off the journal's guards.

Entries and postings are append-only (migration 0006: triggers refuse UPDATE and DELETE). Tests that
show the audit catching a tampered ledger first do what such a person would: PostgreSQL, a superuser
skips the triggers for one transaction; SQLite, anyone who can write the file drops them.
"""
from __future__ import annotations

from sqlalchemy import Connection, text

SQLITE_TRIGGERS = ("entries_no_update", "entries_no_delete", "postings_no_update", "postings_no_delete")


def disable_journal_guards(conn: Connection) -> None:
    """For the rest of this transaction (PostgreSQL) or this database (SQLite)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        return
    for name in SQLITE_TRIGGERS:
        conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
