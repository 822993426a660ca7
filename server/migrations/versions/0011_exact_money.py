"""Exact money (issue 17): an inventory row's unit cost becomes NUMERIC(18, 6) on PostgreSQL and the decimal's
text on SQLite (server/models.py, Money), keeping every value: a float written by the old code was rounded
to 6 places, so its 6-place form is the amount that was meant (0.12, not 0.11999999999999999556).

SQLite changes a column's type only by copying the table, which the keys referring to `inventory` forbid on
a database with rows; the column is added anew, filled, and renamed into place instead.

Revision ID: e6a1c0570011
Revises: c24e7f1a0009
Create Date: 2026-12-02 15:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'e6a1c0570011'
down_revision = 'd35f8a2b0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.add_column('inventory', sa.Column('unit_cost_exact', sa.String(32), nullable=True))
        op.execute("UPDATE inventory SET unit_cost_exact = printf('%.6f', unit_cost) WHERE unit_cost IS NOT NULL")
        op.drop_column('inventory', 'unit_cost')
        op.alter_column('inventory', 'unit_cost_exact', new_column_name='unit_cost')
    else:
        op.alter_column(
            'inventory', 'unit_cost', type_=sa.Numeric(18, 6), existing_type=sa.Float(),
            postgresql_using='round(unit_cost::numeric, 6)',
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.add_column('inventory', sa.Column('unit_cost_float', sa.Float(), nullable=True))
        op.execute("UPDATE inventory SET unit_cost_float = CAST(unit_cost AS REAL) WHERE unit_cost IS NOT NULL")
        op.drop_column('inventory', 'unit_cost')
        op.alter_column('inventory', 'unit_cost_float', new_column_name='unit_cost')
    else:
        op.alter_column(
            'inventory', 'unit_cost', type_=sa.Float(), existing_type=sa.Numeric(18, 6),
            postgresql_using='unit_cost::double precision',
        )
