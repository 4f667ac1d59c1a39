"""payment requests a customer confirms, and English names for offers, events and districts

A shop's charge on a customer's QR waits in `payment_requests` until she taps 支払う on her own
phone. Sale offers and events get the English name an English-reading resident sees; districts
become a table with theirs.

Revision ID: 0014
Revises: 0007
Create Date: 2026-12-05 07:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0010'
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('payment_requests',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('token_id', sa.String(length=64), nullable=False),
    sa.Column('resident_id', BIG, nullable=False),
    sa.Column('merchant_id', BIG, nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=400), nullable=False),
    sa.Column('reason_en', sa.String(length=400), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_payment_requests_merchant_id_merchants')),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_payment_requests_resident_id_residents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_requests')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_payment_requests_idempotency_key')),
    sa.UniqueConstraint('token_id', name=op.f('uq_payment_requests_token_id'))
    )
    op.create_index(op.f('ix_payment_requests_resident_id'), 'payment_requests', ['resident_id'], unique=False)
    op.create_table('districts',
    sa.Column('id', BIG, autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_districts')),
    sa.UniqueConstraint('name', name=op.f('uq_districts_name'))
    )
    with op.batch_alter_table('sale_offers') as batch:
        batch.add_column(sa.Column('name_en', sa.String(length=100), nullable=False, server_default=''))
    with op.batch_alter_table('events') as batch:
        batch.add_column(sa.Column('name_en', sa.String(length=100), nullable=False, server_default=''))
        batch.add_column(sa.Column('place_en', sa.String(length=100), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('events') as batch:
        batch.drop_column('place_en')
        batch.drop_column('name_en')
    with op.batch_alter_table('sale_offers') as batch:
        batch.drop_column('name_en')
    op.drop_table('districts')
    op.drop_index(op.f('ix_payment_requests_resident_id'), table_name='payment_requests')
    op.drop_table('payment_requests')
