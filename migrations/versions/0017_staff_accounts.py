"""staff accounts for the console (管理画面)

Town office staff sign in to the console with their own accounts (never LINE): a login, a role,
an argon2 password set through a one-time link (stored as its SHA-256), a TOTP secret, the failure
count and lock for lockout, and the sessions' generation for "sign out everywhere".

Revision ID: 0017
Revises: 0008
Create Date: 2026-12-05 08:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('staff_accounts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('login', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=True),
    sa.Column('totp_secret', sa.String(length=64), nullable=True),
    sa.Column('totp_confirmed_at', sa.DateTime(), nullable=True),
    sa.Column('totp_last_step', sa.BigInteger(), nullable=True),
    sa.Column('link_hash', sa.String(length=64), nullable=True),
    sa.Column('link_expires_at', sa.DateTime(), nullable=True),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.Column('session_gen', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('last_sign_in_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_accounts')),
    sa.UniqueConstraint('link_hash', name=op.f('uq_staff_accounts_link_hash')),
    sa.UniqueConstraint('login', name=op.f('uq_staff_accounts_login'))
    )


def downgrade() -> None:
    op.drop_table('staff_accounts')
