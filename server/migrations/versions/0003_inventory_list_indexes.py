"""Inventory list indexes: the status columns ride along the location index, and the components index
is partial (only installed rows), so SQLite's planner keeps to the location index for lists.

Revision ID: 0003_inventory_list_indexes
Revises: 0196c7faf93d
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_inventory_list_indexes"
down_revision = "0196c7faf93d"
branch_labels = None
depends_on = None

STATUS_COLUMNS = ["location_id", "id", "scrapped", "installed_in_id", "isolated", "quantity"]


def upgrade() -> None:
    with op.batch_alter_table("inventory", schema=None) as batch_op:
        batch_op.drop_index("ix_inventory_location_id_id")
        batch_op.create_index("ix_inventory_location_id_id_status", STATUS_COLUMNS, unique=False)
        batch_op.drop_index("ix_inventory_installed_in_id")
        batch_op.create_index(
            "ix_inventory_installed_in_id",
            ["installed_in_id"],
            unique=False,
            sqlite_where=sa.text("installed_in_id IS NOT NULL"),
            postgresql_where=sa.text("installed_in_id IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("inventory", schema=None) as batch_op:
        batch_op.drop_index("ix_inventory_installed_in_id")
        batch_op.create_index("ix_inventory_installed_in_id", ["installed_in_id"], unique=False)
        batch_op.drop_index("ix_inventory_location_id_id_status")
        batch_op.create_index("ix_inventory_location_id_id", ["location_id", "id"], unique=False)
