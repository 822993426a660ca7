"""Stock values kept by the database (issue 17, the valuation at 1,000,000 rows): `stock_values` (per part and
location subtree, the quantity held and its FIFO value as five integer sums of limb products, exact on both
engines), kept by triggers on `cost_holdings`, `inventory`, `cost_layers` and `locations` (server/costs/values.py
writes them, for both engines), filled from the holdings once, here.

Revision ID: c5d6e7f80022
Revises: b4c5d6e70021
Create Date: 2026-12-03 16:00:00
"""

from __future__ import annotations

import advanced_alchemy.types as sa_types
import sqlalchemy as sa
from alembic import op

from server.costs.values import VALUE_COLUMNS, create_triggers, drop_triggers, rebuild

revision = 'c5d6e7f80022'
down_revision = 'b4c5d6e70021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    checks = [sa.CheckConstraint(f"typeof({name}) = 'integer'", name=op.f(f'ck_stock_values_{name}_integer'))
              for name in VALUE_COLUMNS] if dialect == 'sqlite' else []
    op.create_table(
        'stock_values',
        sa.Column('location_id', sa_types.GUID(length=16), nullable=False),
        sa.Column('part_id', sa_types.GUID(length=16), nullable=False),
        sa.Column('quantity', sa.Numeric(precision=18, scale=6).with_variant(sa.Integer(), 'sqlite'), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in VALUE_COLUMNS),
        *checks,
        sa.PrimaryKeyConstraint('location_id', 'part_id', name=op.f('pk_stock_values')),
        sqlite_with_rowid=False,
    )
    for sql in rebuild(dialect):
        op.execute(sql)
    for sql in create_triggers(dialect):
        op.execute(sql)


def downgrade() -> None:
    for sql in drop_triggers(op.get_bind().dialect.name):
        op.execute(sql)
    op.drop_table('stock_values')
