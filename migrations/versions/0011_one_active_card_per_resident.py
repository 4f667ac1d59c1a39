"""one active card per resident, refused by the database

`machi card issue` or `replace` run twice at once could each find no active card and each make one.
The services now lock the resident's row first; this partial unique index is the line behind them.
A database that already holds two active cards for one resident is named, not changed: staff decide
which card stays and stop the other.

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-05 07:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0008'
branch_labels = None
depends_on = None

ACTIVE = sa.text("status = 'active'")


def upgrade() -> None:
    twice = op.get_bind().execute(sa.text(
        "SELECT resident_id FROM cards WHERE status = 'active' GROUP BY resident_id HAVING COUNT(*) > 1")).scalars().all()
    if twice:
        raise RuntimeError("利用中のカードを2枚以上お持ちの方がいます（番号 " + ", ".join(map(str, twice)) + "）。"
                           "使わない方のカードを止めて（status = 'stopped'）から、もう一度 `machi db upgrade` を実行してください。")
    op.create_index('uq_cards_one_active_per_resident', 'cards', ['resident_id'], unique=True,
                    sqlite_where=ACTIVE, postgresql_where=ACTIVE)


def downgrade() -> None:
    op.drop_index('uq_cards_one_active_per_resident', table_name='cards')
