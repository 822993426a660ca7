"""Kits and quality issues (issue 18, part 2): `kits`, `kit_lines`, `kit_picks`; a location knows the open kit
whose tote it is (`locations.kit_id`: what is there is Kitted); `quality_issues` and the stock each isolated
(`quality_issue_stock`).

`locations.kit_id` is added in place (ALTER TABLE … ADD COLUMN), with no foreign key: SQLite adds one only by
copying the table, which the keys referring to `locations` forbid on a database with rows.

Revision ID: d1c2a3b40016
Revises: b0d5e1180015
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

import advanced_alchemy.types as sa_types
import sqlalchemy as sa
from alembic import op

revision = 'd1c2a3b40016'
down_revision = 'b0d5e1180015'
branch_labels = None
depends_on = None


def _quantity() -> sa.types.TypeEngine:
    return sa.Numeric(precision=18, scale=6).with_variant(sa.Integer(), 'sqlite')


def _audit() -> list[sa.Column]:
    return [
        sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
        sa.Column('created_at', sa_types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column('updated_at', sa_types.DateTimeUTC(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.add_column('locations', sa.Column('kit_id', sa_types.GUID(length=16), nullable=True))

    op.create_table('kits',
    sa.Column('id', sa_types.GUID(length=16), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('run', sa.String(length=64), nullable=True),
    sa.Column('location_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('tote_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('closed_by', sa.String(length=64), nullable=True),
    sa.Column('closed_at', sa_types.DateTimeUTC(timezone=True), nullable=True),
    *_audit(),
    sa.CheckConstraint("status IN ('open', 'completed', 'cancelled')", name=op.f('ck_kits_ck_kits_status_valid')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_kits_location_id_locations')),
    sa.ForeignKeyConstraint(['tote_id'], ['locations.id'], name=op.f('fk_kits_tote_id_locations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kits')),
    sa.UniqueConstraint('number', name=op.f('uq_kits_number')),
    sa.UniqueConstraint('tote_id', name=op.f('uq_kits_tote_id')),
    )
    op.create_index('ix_kits_run', 'kits', ['run'], unique=False)
    op.create_index('ix_kits_status_created_at', 'kits', ['status', 'created_at'], unique=False)

    op.create_table('kit_lines',
    sa.Column('id', sa_types.GUID(length=16), nullable=False),
    sa.Column('kit_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('part_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('quantity', _quantity(), nullable=False),
    sa.Column('picked', _quantity(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    *_audit(),
    sa.CheckConstraint('quantity > 0 AND picked >= 0', name=op.f('ck_kit_lines_ck_kit_lines_quantities')),
    sa.ForeignKeyConstraint(['kit_id'], ['kits.id'], name=op.f('fk_kit_lines_kit_id_kits')),
    sa.ForeignKeyConstraint(['part_id'], ['parts.id'], name=op.f('fk_kit_lines_part_id_parts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kit_lines')),
    sa.UniqueConstraint('kit_id', 'line_no', name='uq_kit_lines_kit_id_line_no'),
    sa.UniqueConstraint('kit_id', 'part_id', name='uq_kit_lines_kit_id_part_id'),
    )
    op.create_index('ix_kit_lines_version', 'kit_lines', ['version'], unique=False)

    op.create_table('kit_picks',
    sa.Column('id', sa_types.GUID(length=16), nullable=False),
    sa.Column('kit_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('line_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('op_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('inventory_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('quantity', _quantity(), nullable=False),
    sa.Column('picked_by', sa.String(length=64), nullable=False),
    *_audit(),
    sa.ForeignKeyConstraint(['inventory_id'], ['inventory.id'], name=op.f('fk_kit_picks_inventory_id_inventory')),
    sa.ForeignKeyConstraint(['kit_id'], ['kits.id'], name=op.f('fk_kit_picks_kit_id_kits')),
    sa.ForeignKeyConstraint(['line_id'], ['kit_lines.id'], name=op.f('fk_kit_picks_line_id_kit_lines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kit_picks')),
    )
    op.create_index('ix_kit_picks_kit_id', 'kit_picks', ['kit_id'], unique=False)
    op.create_index('ix_kit_picks_op_id', 'kit_picks', ['op_id'], unique=False)

    op.create_table('quality_issues',
    sa.Column('id', sa_types.GUID(length=16), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('op_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('part_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('serial', sa.String(length=128), nullable=True),
    sa.Column('lot', sa.String(length=128), nullable=True),
    sa.Column('location_id', sa_types.GUID(length=16), nullable=True),
    sa.Column('isolate', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('disposition', sa.String(length=24), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('opened_by', sa.String(length=64), nullable=False),
    sa.Column('closed_by', sa.String(length=64), nullable=True),
    sa.Column('closed_at', sa_types.DateTimeUTC(timezone=True), nullable=True),
    *_audit(),
    sa.CheckConstraint("status IN ('open', 'closed')", name=op.f('ck_quality_issues_ck_quality_issues_status_valid')),
    sa.CheckConstraint(
        "disposition IS NULL OR disposition IN ('use_as_is', 'rework', 'scrap', 'return_to_supplier')",
        name=op.f('ck_quality_issues_ck_quality_issues_disposition_valid')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_quality_issues_location_id_locations')),
    sa.ForeignKeyConstraint(['part_id'], ['parts.id'], name=op.f('fk_quality_issues_part_id_parts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_issues')),
    sa.UniqueConstraint('number', name=op.f('uq_quality_issues_number')),
    sa.UniqueConstraint('op_id', name=op.f('uq_quality_issues_op_id')),
    )
    op.create_index('ix_quality_issues_serial', 'quality_issues', ['serial'], unique=False)
    op.create_index('ix_quality_issues_part_id_lot', 'quality_issues', ['part_id', 'lot'], unique=False)
    op.create_index('ix_quality_issues_status_created_at', 'quality_issues', ['status', 'created_at'], unique=False)

    op.create_table('quality_issue_stock',
    sa.Column('id', sa_types.GUID(length=16), nullable=False),
    sa.Column('issue_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('inventory_id', sa_types.GUID(length=16), nullable=False),
    sa.Column('quantity', _quantity(), nullable=False),
    *_audit(),
    sa.ForeignKeyConstraint(['inventory_id'], ['inventory.id'], name=op.f('fk_quality_issue_stock_inventory_id_inventory')),
    sa.ForeignKeyConstraint(['issue_id'], ['quality_issues.id'], name=op.f('fk_quality_issue_stock_issue_id_quality_issues')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_issue_stock')),
    )
    op.create_index('ix_quality_issue_stock_issue_id', 'quality_issue_stock', ['issue_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_quality_issue_stock_issue_id', table_name='quality_issue_stock')
    op.drop_table('quality_issue_stock')
    op.drop_index('ix_quality_issues_status_created_at', table_name='quality_issues')
    op.drop_index('ix_quality_issues_part_id_lot', table_name='quality_issues')
    op.drop_index('ix_quality_issues_serial', table_name='quality_issues')
    op.drop_table('quality_issues')
    op.drop_index('ix_kit_picks_op_id', table_name='kit_picks')
    op.drop_index('ix_kit_picks_kit_id', table_name='kit_picks')
    op.drop_table('kit_picks')
    op.drop_index('ix_kit_lines_version', table_name='kit_lines')
    op.drop_table('kit_lines')
    op.drop_index('ix_kits_status_created_at', table_name='kits')
    op.drop_index('ix_kits_run', table_name='kits')
    op.drop_table('kits')
    with op.batch_alter_table('locations') as batch:
        batch.drop_column('kit_id')
