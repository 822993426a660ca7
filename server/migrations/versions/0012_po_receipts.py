"""Receipts against purchase order lines (issue 16, slice 2): `po_receipts`, one row per receipt — the line,
the op, the inventory row the goods went to, the quantity, its unit cost (money), who received it.

Revision ID: f7b2d9c10012
Revises: e6a1c0570011
Create Date: 2026-12-02 17:40:00
"""

from __future__ import annotations

import advanced_alchemy.types as sa_types
import sqlalchemy as sa
from alembic import op

revision = 'f7b2d9c10012'
down_revision = 'e6a1c0570011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('po_receipts',
    sa.Column('id', sa_types.GUID(length=16), nullable=False),
    sa.Column('line_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('op_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('inventory_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_cost', sa.Numeric(precision=18, scale=6).with_variant(sa.String(length=32), 'sqlite'), nullable=True),
    sa.Column('received_by', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', sa_types.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', sa_types.DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['inventory_id'], ['inventory.id'], name=op.f('fk_po_receipts_inventory_id_inventory')),
    sa.ForeignKeyConstraint(['line_id'], ['po_lines.id'], name=op.f('fk_po_receipts_line_id_po_lines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_po_receipts')),
    )
    op.create_index('ix_po_receipts_line_id', 'po_receipts', ['line_id'], unique=False)
    op.create_index('ix_po_receipts_op_id', 'po_receipts', ['op_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_po_receipts_op_id', table_name='po_receipts')
    op.drop_index('ix_po_receipts_line_id', table_name='po_receipts')
    op.drop_table('po_receipts')
