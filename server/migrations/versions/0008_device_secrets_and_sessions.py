"""Devices carry the hash of the secret their phone made (`secret_hash`; NULL for a device registered
before, until its own user signs in on it with one), and tokens a `kind`: `api` (bearer tokens, every
existing token) or `page` (supervisor page sessions), and are indexed by device (who signed in on a device:
whose ops its queue may hold). Supervisors signed in to the pages sign in again:
their cookie held an API token, which no longer opens the pages.

Revision ID: a13d0e5c0008
Revises: 7c2d4e91a0b5
Create Date: 2026-12-02 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'a13d0e5c0008'
down_revision = '7c2d4e91a0b5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secret_hash', sa.String(length=64), nullable=True))
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=8), nullable=False, server_default='api'))
        batch_op.create_check_constraint(op.f('ck_api_tokens_ck_kind_valid'), "kind IN ('api', 'page')")
        batch_op.create_index(batch_op.f('ix_api_tokens_device_id'), ['device_id'], unique=False)
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:  # no default after: the models set it
        batch_op.alter_column('kind', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_device_id'))
        batch_op.drop_constraint(op.f('ck_api_tokens_ck_kind_valid'), type_='check')
        batch_op.drop_column('kind')
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_column('secret_hash')
