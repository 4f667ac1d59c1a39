"""installation id: which copy of the database this is

One row holding a random id made here, with the schema. Every key the bot gives LINE
(`X-Line-Retry-Key`) is made within it, so a restored copy (`machi db restore` gives it a new id)
or a second database on the same channel never reuses another's keys.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 07:30:00
"""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table('installation',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('installation_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('restored_from', sa.String(length=36), nullable=True),
    sa.Column('restored_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('id = 1', name=op.f('ck_installation_one_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_installation'))
    )
    op.bulk_insert(table, [{"id": 1, "installation_id": str(uuid.uuid4()),
                            "created_at": datetime.now(UTC).replace(tzinfo=None)}])


def downgrade() -> None:
    op.drop_table('installation')
