"""Purchasing: purchase orders and their lines, min/max constraints; inventory rows know the PO line they
were made for and whether they are still on order (`po_line_id`, `po_state`), and the bucket index leaves
those rows out.

The inventory columns are added in place (ALTER TABLE … ADD COLUMN, with the column's CHECK on SQLite):
copying `inventory` the batch way would trip the foreign keys that refer to it on a database with rows,
and `po_line_id` has no foreign key for the same reason (lines are never deleted).

Revision ID: d35f8a2b0010
Revises: c24e7f1a0009
Create Date: 2026-12-02 14:00:00
"""

from __future__ import annotations

import advanced_alchemy.types as sa_types
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 'd35f8a2b0010'
down_revision = 'c24e7f1a0009'
branch_labels = None
depends_on = None

PO_STATE_CHECK = "po_state IS NULL OR (po_line_id IS NOT NULL AND po_state IN ('open', 'received', 'cancelled'))"
STATUS_COLUMNS = ["location_id", "id", "scrapped", "installed_in_id", "isolated", "quantity"]
BUCKET = ['part_id', sa.text("coalesce(lot, '')"), 'location_id', sa.text('coalesce(installed_in_id, location_id)'),
          'scrapped', 'isolated']


def _json() -> sa.types.TypeEngine:
    return (
        sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'cockroachdb')
        .with_variant(sa_types.ORA_JSONB(), 'oracle').with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
    )


def _audit() -> list[sa.Column]:
    return [
        sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
        sa.Column('created_at', sa_types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column('updated_at', sa_types.DateTimeUTC(timezone=True), nullable=False),
    ]


def _where(condition: str) -> dict[str, sa.TextClause]:
    return {"sqlite_where": sa.text(condition), "postgresql_where": sa.text(condition)}


def upgrade() -> None:
    op.create_table('purchase_orders',
    sa.Column('id', sa_types.GUID(length=16), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('supplier_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('opened_at', sa_types.DateTimeUTC(timezone=True), nullable=True),
    sa.Column('opened_by', sa.String(length=64), nullable=True),
    sa.Column('closed_at', sa_types.DateTimeUTC(timezone=True), nullable=True),
    sa.Column('closed_by', sa.String(length=64), nullable=True),
    *_audit(),
    sa.CheckConstraint("status IN ('draft', 'open', 'received', 'cancelled')", name=op.f('ck_purchase_orders_ck_status_valid')),
    sa.ForeignKeyConstraint(['supplier_id'], ['suppliers.id'], name=op.f('fk_purchase_orders_supplier_id_suppliers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_orders')),
    sa.UniqueConstraint('number', name=op.f('uq_purchase_orders_number'))
    )
    op.create_index('ix_purchase_orders_supplier_id', 'purchase_orders', ['supplier_id'], unique=False)
    op.create_index('ix_purchase_orders_status_created_at', 'purchase_orders', ['status', 'created_at'], unique=False)

    op.create_table('po_lines',
    sa.Column('id', sa_types.GUID(length=16), nullable=False),
    sa.Column('po_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('part_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('received', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=6).with_variant(sa.String(length=32), 'sqlite'), nullable=False),
    sa.Column('serials', _json(), nullable=True),
    sa.Column('lot', sa.String(length=128), nullable=True),
    sa.Column('location_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('expected_date', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('closed_by', sa.String(length=64), nullable=True),
    sa.Column('version', sa.BigInteger(), nullable=False),
    *_audit(),
    sa.CheckConstraint("status IN ('open', 'received', 'closed_short', 'cancelled')", name=op.f('ck_po_lines_ck_status_valid')),
    sa.CheckConstraint('quantity > 0 AND received >= 0', name=op.f('ck_po_lines_ck_po_lines_quantities')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_po_lines_location_id_locations')),
    sa.ForeignKeyConstraint(['part_id'], ['parts.id'], name=op.f('fk_po_lines_part_id_parts')),
    sa.ForeignKeyConstraint(['po_id'], ['purchase_orders.id'], name=op.f('fk_po_lines_po_id_purchase_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_po_lines')),
    sa.UniqueConstraint('po_id', 'line_no', name='uq_po_lines_po_id_line_no')
    )
    op.create_index('ix_po_lines_location_id', 'po_lines', ['location_id'], unique=False)
    op.create_index('ix_po_lines_version', 'po_lines', ['version'], unique=False)
    op.create_index('ix_po_lines_part_id_status', 'po_lines', ['part_id', 'status'], unique=False)

    op.create_table('stock_constraints',
    sa.Column('id', sa_types.GUID(length=16), nullable=False),
    sa.Column('part_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('location_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('min_quantity', sa.Integer(), nullable=True),
    sa.Column('max_quantity', sa.Integer(), nullable=True),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    *_audit(),
    sa.CheckConstraint(
        '(min_quantity IS NOT NULL OR max_quantity IS NOT NULL) AND (min_quantity IS NULL OR min_quantity >= 0)'
        ' AND (max_quantity IS NULL OR max_quantity >= 0)'
        ' AND (min_quantity IS NULL OR max_quantity IS NULL OR min_quantity <= max_quantity)',
        name=op.f('ck_stock_constraints_ck_stock_constraints_min_max')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_stock_constraints_location_id_locations')),
    sa.ForeignKeyConstraint(['part_id'], ['parts.id'], name=op.f('fk_stock_constraints_part_id_parts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_constraints')),
    sa.UniqueConstraint('part_id', 'location_id', name='uq_stock_constraints_part_id_location_id')
    )
    op.create_index('ix_stock_constraints_location_id', 'stock_constraints', ['location_id'], unique=False)

    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE inventory ADD COLUMN po_line_id BINARY(16)')
        op.execute(f'ALTER TABLE inventory ADD COLUMN po_state VARCHAR(16) CONSTRAINT ck_inventory_po_state CHECK ({PO_STATE_CHECK})')
    else:
        op.add_column('inventory', sa.Column('po_line_id', sa_types.GUID(length=16), nullable=True))
        op.add_column('inventory', sa.Column('po_state', sa.String(length=16), nullable=True))
        op.create_check_constraint(op.f('ck_inventory_po_state'), 'inventory', PO_STATE_CHECK)
    op.drop_index('ix_inventory_location_id_id_status', table_name='inventory')
    op.create_index('ix_inventory_location_id_id_status', 'inventory', [*STATUS_COLUMNS, 'po_state'], unique=False)
    op.drop_index('uq_inventory_bucket', table_name='inventory')
    op.create_index('uq_inventory_bucket', 'inventory', BUCKET, unique=True,
                    **_where('serial IS NULL AND po_line_id IS NULL'))
    op.create_index('ix_inventory_po_line_id', 'inventory', ['po_line_id'], unique=False,
                    **_where('po_line_id IS NOT NULL'))
    op.create_index('uq_inventory_po_line_id', 'inventory', ['po_line_id'], unique=True,
                    **_where('serial IS NULL AND po_line_id IS NOT NULL'))
    op.create_index('ix_inventory_po_state_id', 'inventory', ['po_state', 'id'], unique=False,
                    **_where('po_state IS NOT NULL'))


def downgrade() -> None:
    # the rows purchase orders made are not stock: they go with the orders
    op.execute('DELETE FROM ledger WHERE bucket = \'on_order\'')
    op.execute('DELETE FROM inventory WHERE po_line_id IS NOT NULL AND po_state IS NOT NULL')
    op.drop_index('ix_inventory_po_state_id', table_name='inventory')
    op.drop_index('uq_inventory_po_line_id', table_name='inventory')
    op.drop_index('ix_inventory_po_line_id', table_name='inventory')
    op.drop_index('uq_inventory_bucket', table_name='inventory')
    op.create_index('uq_inventory_bucket', 'inventory', BUCKET, unique=True, **_where('serial IS NULL'))
    op.drop_index('ix_inventory_location_id_id_status', table_name='inventory')
    op.create_index('ix_inventory_location_id_id_status', 'inventory', STATUS_COLUMNS, unique=False)
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint(op.f('ck_inventory_po_state'), 'inventory', type_='check')
    op.drop_column('inventory', 'po_state')  # SQLite 3.35+: its CHECK goes with it
    op.drop_column('inventory', 'po_line_id')
    op.drop_index('ix_stock_constraints_location_id', table_name='stock_constraints')
    op.drop_table('stock_constraints')
    op.drop_index('ix_po_lines_part_id_status', table_name='po_lines')
    op.drop_index('ix_po_lines_version', table_name='po_lines')
    op.drop_index('ix_po_lines_location_id', table_name='po_lines')
    op.drop_table('po_lines')
    op.drop_index('ix_purchase_orders_status_created_at', table_name='purchase_orders')
    op.drop_index('ix_purchase_orders_supplier_id', table_name='purchase_orders')
    op.drop_table('purchase_orders')
