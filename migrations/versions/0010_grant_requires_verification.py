"""grant programmes say whether they wait for 本人確認

The registration message tells residents that grants wait for identity verification; this makes it
true: a programme with `requires_verification` (the default, also for existing programmes) is not paid
to a resident whose verification is still pending.

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-05 08:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('grant_programs') as batch:
        batch.add_column(sa.Column('requires_verification', sa.Boolean(), nullable=False,
                                   server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table('grant_programs') as batch:
        batch.drop_column('requires_verification')
