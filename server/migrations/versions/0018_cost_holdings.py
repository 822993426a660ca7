"""Cost holdings (issues 17, 18): which stock row holds how much of which cost layer, so that a delivery's
layer follows its stock through moves, splits, merges and installs, and a location's value is what its rows
hold (docs/costs.md, "Where a delivery is").

The layers that exist are spread over the rows that hold their part's stock (received, not scrapped or
removed; free, isolated or installed): the part's oldest layer to its oldest rows (by when a row was made),
each row given what it holds before the next, as FIFO would have taken them. Migration 0017 gave every part
layers for all of its stock, so the two sums meet.

Revision ID: e1a2b3c40018
Revises: c0575a170014
Create Date: 2026-12-03 12:20:00
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

import advanced_alchemy.types as sa_types
import sqlalchemy as sa
from alembic import op

from server.models import QuantityType, canon

revision = 'e1a2b3c40018'
down_revision = 'c0575a170014'
branch_labels = None
depends_on = None


def _quantity() -> sa.types.TypeEngine:
    return sa.Numeric(precision=18, scale=6).with_variant(sa.Integer(), 'sqlite')


def _holdings_of_existing_layers() -> None:
    inventory = sa.table(
        'inventory', sa.column('id', sa_types.GUID()), sa.column('part_id', sa_types.GUID()),
        sa.column('quantity', QuantityType()), sa.column('scrapped', sa.Boolean()), sa.column('removed', sa.Boolean()),
        sa.column('po_state', sa.String()), sa.column('created_at', sa_types.DateTimeUTC()),
    )
    layers = sa.table(
        'cost_layers', sa.column('id', sa_types.GUID()), sa.column('part_id', sa_types.GUID()),
        sa.column('version', sa.BigInteger()), sa.column('quantity_remaining', QuantityType()),
    )
    holdings = sa.table(
        'cost_holdings', sa.column('id', sa_types.GUID()), sa.column('layer_id', sa_types.GUID()),
        sa.column('inventory_id', sa_types.GUID()), sa.column('quantity', QuantityType()),
        sa.column('created_at', sa_types.DateTimeUTC()), sa.column('updated_at', sa_types.DateTimeUTC()),
    )
    bind = op.get_bind()
    rows_of: dict[uuid.UUID, list[list]] = defaultdict(list)
    for row_id, part_id, quantity in bind.execute(
        sa.select(inventory.c.id, inventory.c.part_id, inventory.c.quantity).where(
            inventory.c.po_state.is_(None), inventory.c.scrapped == sa.false(), inventory.c.removed == sa.false(),
            inventory.c.quantity > 0,
        ).order_by(inventory.c.part_id, inventory.c.created_at, inventory.c.id)
    ):
        rows_of[part_id].append([row_id, Decimal(quantity)])
    newest_last = sa.case((layers.c.version < 0, 1), else_=0)
    now = datetime.now(UTC)
    made = []
    open_layers = bind.execute(
        sa.select(layers.c.id, layers.c.part_id, layers.c.quantity_remaining).where(layers.c.quantity_remaining > 0)
        .order_by(layers.c.part_id, newest_last, layers.c.version, layers.c.id)
    )
    for layer_id, part_id, remaining in open_layers:
        left = Decimal(remaining)
        rows = rows_of.get(part_id, [])
        while left > 0 and rows:
            row = rows[0]
            amount = min(left, row[1])
            made.append({'id': uuid.uuid4(), 'layer_id': layer_id, 'inventory_id': row[0], 'quantity': canon(amount),
                         'created_at': now, 'updated_at': now})
            left -= amount
            row[1] -= amount
            if row[1] == 0:
                rows.pop(0)
    for start in range(0, len(made), 5000):
        bind.execute(holdings.insert(), made[start:start + 5000])


def upgrade() -> None:
    op.create_table('cost_holdings',
    sa.Column('id', sa_types.GUID(length=16), nullable=False),
    sa.Column('layer_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('inventory_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('quantity', _quantity(), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', sa_types.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', sa_types.DateTimeUTC(timezone=True), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_cost_holdings_ck_cost_holdings_quantity_positive')),
    sa.ForeignKeyConstraint(['inventory_id'], ['inventory.id'], name=op.f('fk_cost_holdings_inventory_id_inventory'),
                            deferrable=True, initially='DEFERRED'),
    sa.ForeignKeyConstraint(['layer_id'], ['cost_layers.id'], name=op.f('fk_cost_holdings_layer_id_cost_layers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cost_holdings')),
    sa.UniqueConstraint('layer_id', 'inventory_id', name='uq_cost_holdings_layer_id_inventory_id'),
    )
    op.create_index(op.f('ix_cost_holdings_inventory_id'), 'cost_holdings', ['inventory_id'], unique=False)
    _holdings_of_existing_layers()


def downgrade() -> None:
    op.drop_index(op.f('ix_cost_holdings_inventory_id'), table_name='cost_holdings')
    op.drop_table('cost_holdings')
