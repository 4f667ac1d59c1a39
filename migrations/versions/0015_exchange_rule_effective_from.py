"""exchange rules take effect from a date

A rule changes by adding a row with a later `effective_from`: an exchange uses the rule in effect at
its own time, so exchanges made before the change keep the old rule. Existing rules take effect from
2000-01-01 (always).

Revision ID: 0015
Revises: 0007
Create Date: 2026-12-05 08:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('exchange_rules') as batch:
        batch.add_column(sa.Column('effective_from', sa.DateTime(), nullable=False,
                                   server_default=sa.text("'2000-01-01 00:00:00'")))
        batch.drop_constraint('uq_exchange_rules_from_type_id_to_type_id', type_='unique')
        batch.create_unique_constraint('uq_exchange_rules_from_type_id_to_type_id_effective_from',
                                       ['from_type_id', 'to_type_id', 'effective_from'])


def downgrade() -> None:
    # Keep the rule in effect now for each pair; the history of changes cannot be kept without the column.
    op.execute("DELETE FROM exchange_rules WHERE id NOT IN (SELECT MAX(id) FROM exchange_rules"
               " WHERE effective_from <= CURRENT_TIMESTAMP GROUP BY from_type_id, to_type_id)")
    with op.batch_alter_table('exchange_rules') as batch:
        batch.drop_constraint('uq_exchange_rules_from_type_id_to_type_id_effective_from', type_='unique')
        batch.create_unique_constraint('uq_exchange_rules_from_type_id_to_type_id', ['from_type_id', 'to_type_id'])
        batch.drop_column('effective_from')
