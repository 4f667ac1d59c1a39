"""the database itself refuses a lot below zero and any change to the journal

Limits are enforced by the services inside the writing transaction; these are the last line behind
them, for a bug or a hand-typed statement: no lot's `remaining` below zero (CHECK), and entries and
postings append-only (triggers refusing UPDATE and DELETE; TRUNCATE, which the tests use to empty
the tables, fires no row trigger). Mistakes are corrected by new entries (`machi correct`).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 18:20:00
"""
from __future__ import annotations

from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

JOURNAL = ('entries', 'postings')
MESSAGE = 'the journal is append-only: correct it with a new entry'

PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION journal_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE} (% of % refused)', TG_OP, TG_TABLE_NAME;
END
$$
"""


def upgrade() -> None:
    with op.batch_alter_table('lots') as batch:
        batch.create_check_constraint('remaining_not_negative', 'remaining >= 0')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(PG_FUNCTION)
        for table in JOURNAL:
            op.execute(f'CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}'
                       ' FOR EACH ROW EXECUTE FUNCTION journal_append_only()')
        return
    for table in JOURNAL:
        for verb in ('UPDATE', 'DELETE'):
            op.execute(f'CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table}'
                       f" BEGIN SELECT RAISE(ABORT, '{MESSAGE} ({verb} of {table} refused)'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for table in JOURNAL:
            op.execute(f'DROP TRIGGER IF EXISTS {table}_append_only ON {table}')
        op.execute('DROP FUNCTION IF EXISTS journal_append_only()')
    else:
        for table in JOURNAL:
            for verb in ('update', 'delete'):
                op.execute(f'DROP TRIGGER IF EXISTS {table}_no_{verb}')
    with op.batch_alter_table('lots') as batch:
        batch.drop_constraint('ck_lots_remaining_not_negative', type_='check')
