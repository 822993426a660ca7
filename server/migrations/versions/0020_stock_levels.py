"""Stock levels kept by the database (issue 16, the replenishment list at 1,000,000 rows): `location_tree`
(every location with each location above it) and `stock_levels` (per part and location subtree, the quantity
Available — but for expiry — and On order), kept by triggers on `inventory` and `locations` (server/levels.py
writes them, for both engines); a partial index on `inventory.expiry` for the expired lots a reader subtracts,
one on each part's stock received from a supplier, newest first (its last supplier, read per part), and one on
the open cost layers' quantities (what a part holds, summed for a priced receipt's average price: PO receipts).
Both tables are filled from the rows once, here.

Since 0021 (b4c5d6e70021) the sums are kept only for constrained parts, as columns of `stock_constraints`, and
`stock_levels` is dropped there: this revision fills the tree and leaves the triggers to 0021 (the ones of
server/levels.py write those columns, which do not exist yet here).

Revision ID: a3c4d5e60020
Revises: f2b3c4d50019
Create Date: 2026-12-03 12:30:00
"""

from __future__ import annotations

import advanced_alchemy.types as sa_types
import sqlalchemy as sa
from alembic import op

from server.levels import EXPIRY_COLUMNS, drop_triggers, rebuild_tree

revision = 'a3c4d5e60020'
down_revision = 'f2b3c4d50019'
branch_labels = None
depends_on = None


def _quantity() -> sa.types.TypeEngine:
    return sa.Numeric(precision=18, scale=6).with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'location_tree',
        sa.Column('ancestor_id', sa_types.GUID(length=16), nullable=False),
        sa.Column('location_id', sa_types.GUID(length=16), nullable=False),
        sa.PrimaryKeyConstraint('ancestor_id', 'location_id', name=op.f('pk_location_tree')),
    )
    op.create_index('ix_location_tree_location_id', 'location_tree', ['location_id'])
    op.create_table(
        'stock_levels',
        sa.Column('part_id', sa_types.GUID(length=16), nullable=False),
        sa.Column('location_id', sa_types.GUID(length=16), nullable=False),
        sa.Column('available', _quantity(), nullable=False),
        sa.Column('on_order', _quantity(), nullable=False),
        sa.PrimaryKeyConstraint('part_id', 'location_id', name=op.f('pk_stock_levels')),
    )
    op.create_index('ix_inventory_expiry', 'inventory', list(EXPIRY_COLUMNS), sqlite_where=sa.text('expiry IS NOT NULL'),
                    postgresql_where=sa.text('expiry IS NOT NULL'))
    supplied = sa.text('supplier_id IS NOT NULL AND po_state IS NULL')
    op.create_index('ix_inventory_part_id_supplied', 'inventory', ['part_id', 'created_at', 'id'],
                    sqlite_where=supplied, postgresql_where=supplied)
    open_layers = sa.text('quantity_remaining > 0')
    op.create_index('ix_cost_layers_part_id_open', 'cost_layers', ['part_id', 'quantity_remaining'],
                    sqlite_where=open_layers, postgresql_where=open_layers)
    for sql in rebuild_tree():
        op.execute(sql)


def downgrade() -> None:
    for sql in drop_triggers(op.get_bind().dialect.name):
        op.execute(sql)
    op.drop_index('ix_cost_layers_part_id_open', table_name='cost_layers')
    op.drop_index('ix_inventory_part_id_supplied', table_name='inventory')
    op.drop_index('ix_inventory_expiry', table_name='inventory')
    op.drop_table('stock_levels')
    op.drop_index('ix_location_tree_location_id', table_name='location_tree')
    op.drop_table('location_tree')
