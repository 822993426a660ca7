"""Stock levels kept only where a constraint asks for them (issue 16, the replenishment list under 200 ms):
`stock_constraints.available` and `.on_order` (per constraint, what is Available — but for expiry — and On order
of its part in its location's subtree), kept by the triggers of server/levels.py on `inventory`, `locations` and
`stock_constraints`; `stock_levels` (the same sums for every part and every location: 1.5M rows at 1,000,000
inventory rows) and its triggers are dropped. The columns are filled from the rows once, here.

Revision ID: b4c5d6e70021
Revises: a3c4d5e60020
Create Date: 2026-12-03 16:00:00
"""

from __future__ import annotations

import advanced_alchemy.types as sa_types
import sqlalchemy as sa
from alembic import op

from server.levels import create_triggers, drop_triggers, rebuild

revision = 'b4c5d6e70021'
down_revision = 'a3c4d5e60020'
branch_labels = None
depends_on = None

# The triggers of 0020 have the names of the first seven of server/levels.py: dropped by the same list.


def _quantity() -> sa.types.TypeEngine:
    return sa.Numeric(precision=18, scale=6).with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for sql in drop_triggers(dialect):
        op.execute(sql)
    op.drop_table('stock_levels')
    with op.batch_alter_table('stock_constraints') as batch:
        batch.add_column(sa.Column('available', _quantity(), server_default=sa.text('0'), nullable=False))
        batch.add_column(sa.Column('on_order', _quantity(), server_default=sa.text('0'), nullable=False))
    for sql in [*rebuild(), *create_triggers(dialect)]:
        op.execute(sql)


def downgrade() -> None:
    """Back to 0020's shape: the table, empty and without its triggers (0020's own, of the code before, are gone
    with that code); the tree stays."""
    for sql in drop_triggers(op.get_bind().dialect.name):
        op.execute(sql)
    with op.batch_alter_table('stock_constraints') as batch:
        batch.drop_column('on_order')
        batch.drop_column('available')
    op.create_table(
        'stock_levels',
        sa.Column('part_id', sa_types.GUID(length=16), nullable=False),
        sa.Column('location_id', sa_types.GUID(length=16), nullable=False),
        sa.Column('available', _quantity(), nullable=False),
        sa.Column('on_order', _quantity(), nullable=False),
        sa.PrimaryKeyConstraint('part_id', 'location_id', name=op.f('pk_stock_levels')),
    )
