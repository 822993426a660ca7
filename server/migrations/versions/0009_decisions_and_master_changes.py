"""Counts keep what was decided and what was not counted: a decision stores the likely causes as shown when
deciding; a result may be a line closed without a count (counted and count line null, decision
`not_counted`) and carries the tracking type; a count's summary says how many expected lines, of what value,
were not counted. Master-data changes (parts, locations created or edited) get their own append-only log.

Revision ID: c24e7f1a0009
Revises: a13d0e5c0008
Create Date: 2026-12-02 08:00:00
"""

from __future__ import annotations

import advanced_alchemy.types as sa_types
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 'c24e7f1a0009'
down_revision = 'a13d0e5c0008'
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine:
    return (
        sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'cockroachdb')
        .with_variant(sa_types.ORA_JSONB(), 'oracle').with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
    )


def upgrade() -> None:
    op.create_table('master_changes',
    sa.Column('id', sa_types.GUID(length=16), nullable=False),
    sa.Column('op_type', sa.String(length=32), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('device_id', sa_types.GUID(length=16), nullable=True),
    sa.Column('part_id', sa_types.GUID(length=16), nullable=True),
    sa.Column('location_id', sa_types.GUID(length=16), nullable=True),
    sa.Column('changes', _json(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', sa_types.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', sa_types.DateTimeUTC(timezone=True), nullable=False),
    sa.CheckConstraint('(part_id IS NULL) <> (location_id IS NULL)', name=op.f('ck_master_changes_ck_master_changes_one_subject')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_master_changes_location_id_locations')),
    sa.ForeignKeyConstraint(['part_id'], ['parts.id'], name=op.f('fk_master_changes_part_id_parts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_master_changes'))
    )
    with op.batch_alter_table('master_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_master_changes_actor'), ['actor'], unique=False)
        batch_op.create_index(batch_op.f('ix_master_changes_location_id'), ['location_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_master_changes_part_id'), ['part_id'], unique=False)

    with op.batch_alter_table('counts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lines_not_counted', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('value_not_counted', sa.Float(), nullable=True))
    with op.batch_alter_table('count_decisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('causes', _json(), nullable=True))
    with op.batch_alter_table('count_results', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tracking', sa.String(length=16), nullable=True))
        batch_op.alter_column('count_line_id', existing_type=sa_types.GUID(length=16), nullable=True)
        batch_op.alter_column('counted', existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM count_results WHERE counted IS NULL")  # lines closed without a count
    with op.batch_alter_table('count_results', schema=None) as batch_op:
        batch_op.alter_column('counted', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('count_line_id', existing_type=sa_types.GUID(length=16), nullable=False)
        batch_op.drop_column('tracking')
    # plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): copying `counts` or `count_decisions` the batch way would
    # trip the foreign keys that refer to them
    op.drop_column('count_decisions', 'causes')
    op.drop_column('counts', 'value_not_counted')
    op.drop_column('counts', 'lines_not_counted')
    with op.batch_alter_table('master_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_master_changes_part_id'))
        batch_op.drop_index(batch_op.f('ix_master_changes_location_id'))
        batch_op.drop_index(batch_op.f('ix_master_changes_actor'))
    op.drop_table('master_changes')
