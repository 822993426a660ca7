"""Production (issue 18, part 1): BOMs and their lines, production runs, their requirements and history;
`locations.wip` (a run's WIP place: what is in it is WIP) and `inventory.expiry` (a lot's expiry date).

Revision ID: b0d5e1180015
Revises: f1d2e3c40013
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

import advanced_alchemy.types as sa_types  # noqa: F401 - column types rendered as sa_types.X
import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text  # noqa: F401 - used by rendered JSONB variants
from sqlalchemy.dialects import postgresql

revision = 'b0d5e1180015'
down_revision = 'f1d2e3c40013'
branch_labels = None
depends_on = None

# quantities as server/models.py QuantityType stores them: millionths in an INTEGER on SQLite
QUANTITY = sa.Numeric(precision=18, scale=6).with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('boms',
    sa.Column('id', sa_types.GUID(length=16), nullable=False),
    sa.Column('part_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('revision', sa.String(length=32), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', sa_types.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', sa_types.DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['part_id'], ['parts.id'], name=op.f('fk_boms_part_id_parts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_boms')),
    sa.UniqueConstraint('part_id', 'revision', name='uq_boms_part_id_revision')
    )
    op.create_table('runs',
    sa.Column('id', sa_types.GUID(length=16), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('part_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('revision', sa.String(length=32), nullable=False),
    sa.Column('quantity', QUANTITY, nullable=False),
    sa.Column('produced', QUANTITY, nullable=False),
    sa.Column('location_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('wip_location_id', sa_types.GUID(length=16), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('serials', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'cockroachdb').with_variant(sa_types.ORA_JSONB(), 'oracle').with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=True),
    sa.Column('lot', sa.String(length=128), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('started_at', sa_types.DateTimeUTC(timezone=True), nullable=True),
    sa.Column('closed_at', sa_types.DateTimeUTC(timezone=True), nullable=True),
    sa.Column('closed_by', sa.String(length=64), nullable=True),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', sa_types.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', sa_types.DateTimeUTC(timezone=True), nullable=False),
    sa.CheckConstraint("state IN ('planned', 'open', 'completed', 'failed', 'cancelled')", name=op.f('ck_runs_ck_state_valid')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_runs_location_id_locations')),
    sa.ForeignKeyConstraint(['part_id'], ['parts.id'], name=op.f('fk_runs_part_id_parts')),
    sa.ForeignKeyConstraint(['wip_location_id'], ['locations.id'], name=op.f('fk_runs_wip_location_id_locations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_runs')),
    sa.UniqueConstraint('number', name=op.f('uq_runs_number'))
    )
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_runs_part_id'), ['part_id'], unique=False)
        batch_op.create_index('ix_runs_state_created_at', ['state', 'created_at'], unique=False)

    op.create_table('bom_lines',
    sa.Column('id', sa_types.GUID(length=16), nullable=False),
    sa.Column('bom_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('part_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('quantity', QUANTITY, nullable=False),
    sa.Column('made_on_assembly', sa.Boolean(), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', sa_types.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', sa_types.DateTimeUTC(timezone=True), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_bom_lines_ck_bom_lines_quantity_positive')),
    sa.ForeignKeyConstraint(['bom_id'], ['boms.id'], name=op.f('fk_bom_lines_bom_id_boms')),
    sa.ForeignKeyConstraint(['part_id'], ['parts.id'], name=op.f('fk_bom_lines_part_id_parts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bom_lines')),
    sa.UniqueConstraint('bom_id', 'part_id', name='uq_bom_lines_bom_id_part_id')
    )
    with op.batch_alter_table('bom_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bom_lines_bom_id'), ['bom_id'], unique=False)

    op.create_table('run_items',
    sa.Column('id', sa_types.GUID(length=16), nullable=False),
    sa.Column('run_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('op_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('part_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('inventory_id', sa_types.GUID(length=16), nullable=True),
    sa.Column('serial', sa.String(length=128), nullable=True),
    sa.Column('lot', sa.String(length=128), nullable=True),
    sa.Column('quantity', QUANTITY, nullable=False),
    sa.Column('into_serial', sa.String(length=128), nullable=True),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', sa_types.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', sa_types.DateTimeUTC(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('issued', 'produced', 'consumed', 'returned')", name=op.f('ck_run_items_ck_kind_valid')),
    sa.ForeignKeyConstraint(['inventory_id'], ['inventory.id'], name=op.f('fk_run_items_inventory_id_inventory')),
    sa.ForeignKeyConstraint(['part_id'], ['parts.id'], name=op.f('fk_run_items_part_id_parts')),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], name=op.f('fk_run_items_run_id_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_run_items'))
    )
    with op.batch_alter_table('run_items', schema=None) as batch_op:
        batch_op.create_index('ix_run_items_part_id_lot', ['part_id', 'lot'], unique=False)
        batch_op.create_index(batch_op.f('ix_run_items_run_id'), ['run_id'], unique=False)
        batch_op.create_index('ix_run_items_serial', ['serial'], unique=False)

    op.create_table('run_lines',
    sa.Column('id', sa_types.GUID(length=16), nullable=False),
    sa.Column('run_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('part_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('per_unit', QUANTITY, nullable=False),
    sa.Column('required', QUANTITY, nullable=False),
    sa.Column('issued', QUANTITY, nullable=False),
    sa.Column('consumed', QUANTITY, nullable=False),
    sa.Column('made_on_assembly', sa.Boolean(), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', sa_types.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', sa_types.DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['part_id'], ['parts.id'], name=op.f('fk_run_lines_part_id_parts')),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], name=op.f('fk_run_lines_run_id_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_run_lines')),
    sa.UniqueConstraint('run_id', 'part_id', name='uq_run_lines_run_id_part_id')
    )
    with op.batch_alter_table('run_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_run_lines_run_id'), ['run_id'], unique=False)

    with op.batch_alter_table('inventory', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expiry', sa.Date(), nullable=True))

    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wip', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.drop_column('wip')

    with op.batch_alter_table('inventory', schema=None) as batch_op:
        batch_op.drop_column('expiry')

    with op.batch_alter_table('run_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_run_lines_run_id'))

    op.drop_table('run_lines')
    with op.batch_alter_table('run_items', schema=None) as batch_op:
        batch_op.drop_index('ix_run_items_serial')
        batch_op.drop_index(batch_op.f('ix_run_items_run_id'))
        batch_op.drop_index('ix_run_items_part_id_lot')

    op.drop_table('run_items')
    with op.batch_alter_table('bom_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bom_lines_bom_id'))

    op.drop_table('bom_lines')
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_index('ix_runs_state_created_at')
        batch_op.drop_index(batch_op.f('ix_runs_part_id'))

    op.drop_table('runs')
    op.drop_table('boms')
