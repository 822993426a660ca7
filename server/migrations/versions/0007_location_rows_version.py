"""Locations carry `rows_version`: the version at which what their inventory rows show of them (code,
availability) last changed, so that a pull sends a location's rows again only then, not when a count
closes or reopens it.

Revision ID: 7c2d4e91a0b5
Revises: 3f89a26490eb
Create Date: 2026-12-01 19:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '7c2d4e91a0b5'
down_revision = '3f89a26490eb'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rows_version', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.create_index(batch_op.f('ix_locations_rows_version'), ['rows_version'], unique=False)
    # what phones already pulled stays right: a location's last change may have been one its rows show
    op.execute("UPDATE locations SET rows_version = version")
    with op.batch_alter_table('locations', schema=None) as batch_op:  # no default after: the models set it
        batch_op.alter_column('rows_version', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_locations_rows_version'))
        batch_op.drop_column('rows_version')
