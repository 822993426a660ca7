"""Costs (issue 17): cost layers (FIFO) with the part's moving average price, usage records, and inventory rows
that left by the `remove` op (`removed`, status Removed).

`inventory.removed` is added in place (ALTER TABLE … ADD COLUMN: copying `inventory` the batch way would trip
the foreign keys that refer to it on a database with rows); the status index gets it as its last column.
Stock that exists before this migration gets one `opening` layer per part: its quantity held (received, not
scrapped; free, isolated or installed) at the quantity-weighted average of its rows' unit costs (a row without
one counts at 0), rounded half to even to 6 places — so that, from here on, a part's layers cover its stock.

Revision ID: c0575a170014
Revises: d1c2a3b40016
Create Date: 2026-12-03 09:20:00
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Context, Decimal

import advanced_alchemy.types as sa_types
import sqlalchemy as sa
from alembic import op

from server.models import Money, QuantityType

revision = 'c0575a170014'
down_revision = 'd1c2a3b40016'
branch_labels = None
depends_on = None

STATUS_COLUMNS = ["location_id", "id", "scrapped", "installed_in_id", "isolated", "quantity", "po_state"]


def _quantity() -> sa.types.TypeEngine:
    return sa.Numeric(precision=18, scale=6).with_variant(sa.Integer(), 'sqlite')


def _money() -> sa.types.TypeEngine:
    return sa.Numeric(precision=18, scale=6).with_variant(sa.String(length=32), 'sqlite')


def _audit() -> list[sa.Column]:
    return [
        sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
        sa.Column('created_at', sa_types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column('updated_at', sa_types.DateTimeUTC(timezone=True), nullable=False),
    ]


def _opening_layers() -> None:
    """One layer per part for the stock it holds, at the weighted average of its rows' unit costs."""
    inventory = sa.table(
        'inventory', sa.column('part_id', sa_types.GUID()), sa.column('quantity', QuantityType()),
        sa.column('unit_cost', Money()), sa.column('scrapped', sa.Boolean()), sa.column('po_state', sa.String()),
    )
    layers = sa.table(
        'cost_layers', *(sa.column(name, sa_types.GUID()) for name in ('id', 'part_id', 'op_id')),
        sa.column('version', sa.BigInteger()), sa.column('kind', sa.String()),
        sa.column('received_at', sa_types.DateTimeUTC()), sa.column('created_at', sa_types.DateTimeUTC()),
        sa.column('updated_at', sa_types.DateTimeUTC()),
        *(sa.column(name, QuantityType()) for name in ('quantity_received', 'quantity_remaining')),
        *(sa.column(name, Money()) for name in ('unit_cost', 'average_price')),
    )
    bind = op.get_bind()
    parts = sa.table('parts', sa.column('id', sa_types.GUID()))
    held = bind.execute(sa.select(inventory.c.part_id, inventory.c.quantity, inventory.c.unit_cost).where(
        inventory.c.po_state.is_(None), inventory.c.scrapped == sa.false(), inventory.c.quantity > 0,
        inventory.c.part_id.in_(sa.select(parts.c.id)),  # (a database's rows always have their part)
    ))
    exact = Context(prec=60)
    quantities: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
    values: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
    for part_id, quantity, unit_cost in held:
        quantities[part_id] = exact.add(quantities[part_id], Decimal(quantity))
        values[part_id] = exact.add(values[part_id], exact.multiply(Decimal(quantity), unit_cost or Decimal(0)))
    now = datetime.now(UTC)
    rows = []
    for part_id, quantity in quantities.items():
        cost = exact.divide(values[part_id], quantity).quantize(Decimal('0.000001'), context=exact)
        whole = int(quantity) if quantity == quantity.to_integral_value() else quantity.normalize()
        rows.append({
            'id': uuid.uuid4(), 'part_id': part_id, 'op_id': uuid.uuid5(uuid.NAMESPACE_URL, f'gemba:0014:{part_id}'),
            'version': 0, 'kind': 'opening', 'received_at': now, 'created_at': now, 'updated_at': now,
            'quantity_received': whole, 'quantity_remaining': whole, 'unit_cost': cost, 'average_price': cost,
        })
    if rows:
        bind.execute(layers.insert(), rows)


def upgrade() -> None:
    op.create_table('cost_layers',
    sa.Column('id', sa_types.GUID(length=16), nullable=False),
    sa.Column('part_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('op_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('package_ref', sa.String(length=128), nullable=True),
    sa.Column('po_line', sa.String(length=128), nullable=True),
    sa.Column('received_at', sa_types.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('quantity_received', _quantity(), nullable=False),
    sa.Column('quantity_remaining', _quantity(), nullable=False),
    sa.Column('unit_cost', _money(), nullable=False),
    sa.Column('average_price', _money(), nullable=False),
    *_audit(),
    sa.CheckConstraint('quantity_remaining >= 0', name=op.f('ck_cost_layers_ck_cost_layers_remaining_non_negative')),
    sa.ForeignKeyConstraint(['part_id'], ['parts.id'], name=op.f('fk_cost_layers_part_id_parts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cost_layers')),
    )
    op.create_index('ix_cost_layers_part_id_version', 'cost_layers', ['part_id', 'version'], unique=False)
    op.create_index(op.f('ix_cost_layers_op_id'), 'cost_layers', ['op_id'], unique=False)
    op.create_index(op.f('ix_cost_layers_version'), 'cost_layers', ['version'], unique=False)
    op.create_table('usage',
    sa.Column('id', sa_types.GUID(length=16), nullable=False),
    sa.Column('op_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('op_type', sa.String(length=32), nullable=False),
    sa.Column('part_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('location_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('serial', sa.String(length=128), nullable=True),
    sa.Column('lot', sa.String(length=128), nullable=True),
    sa.Column('quantity', _quantity(), nullable=False),
    sa.Column('cost', _money(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('reference', sa.String(length=128), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('used_at', sa_types.DateTimeUTC(timezone=True), nullable=False),
    *_audit(),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_usage_location_id_locations')),
    sa.ForeignKeyConstraint(['part_id'], ['parts.id'], name=op.f('fk_usage_part_id_parts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usage')),
    )
    op.create_index('ix_usage_part_id_used_at', 'usage', ['part_id', 'used_at'], unique=False)
    op.create_index(op.f('ix_usage_op_id'), 'usage', ['op_id'], unique=False)
    op.create_index(op.f('ix_usage_used_at'), 'usage', ['used_at'], unique=False)
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE inventory ADD COLUMN removed BOOLEAN NOT NULL DEFAULT 0')
    else:
        op.add_column('inventory', sa.Column('removed', sa.Boolean(), nullable=False, server_default=sa.false()))
        op.alter_column('inventory', 'removed', server_default=None)
    op.drop_index('ix_inventory_location_id_id_status', table_name='inventory')
    op.create_index('ix_inventory_location_id_id_status', 'inventory', [*STATUS_COLUMNS, 'removed'], unique=False)
    _opening_layers()


def downgrade() -> None:
    op.drop_index('ix_inventory_location_id_id_status', table_name='inventory')
    op.create_index('ix_inventory_location_id_id_status', 'inventory', STATUS_COLUMNS, unique=False)
    op.drop_column('inventory', 'removed')
    op.drop_index(op.f('ix_usage_used_at'), table_name='usage')
    op.drop_index(op.f('ix_usage_op_id'), table_name='usage')
    op.drop_index('ix_usage_part_id_used_at', table_name='usage')
    op.drop_table('usage')
    op.drop_index(op.f('ix_cost_layers_version'), table_name='cost_layers')
    op.drop_index(op.f('ix_cost_layers_op_id'), table_name='cost_layers')
    op.drop_index('ix_cost_layers_part_id_version', table_name='cost_layers')
    op.drop_table('cost_layers')
