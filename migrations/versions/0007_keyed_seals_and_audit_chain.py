"""keyed seals and the audit log's hash chain

Seals become HMACs keyed from MACHI_SECRET_KEY, so the old unkeyed seals (which anyone with the
database could recompute) are dropped; the next `machi audit seal` or scheduler run seals the
whole journal again with the key and writes the first anchor. The audit log gets its own chain.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-01 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_seals',
    sa.Column('audit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('sealed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['audit_id'], ['audit_log.id'], name=op.f('fk_audit_seals_audit_id_audit_log')),
    sa.PrimaryKeyConstraint('audit_id', name=op.f('pk_audit_seals')),
    sa.UniqueConstraint('seq', name=op.f('uq_audit_seals_seq'))
    )
    op.execute("DELETE FROM entry_seals")


def downgrade() -> None:
    op.drop_table('audit_seals')
    op.execute("DELETE FROM entry_seals")
