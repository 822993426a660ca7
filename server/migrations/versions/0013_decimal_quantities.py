"""Decimal quantities (issue 15): every quantity column becomes exact decimals — NUMERIC(18, 6) on PostgreSQL,
millionths in the same INTEGER column on SQLite (server/models.py, QuantityType) — keeping every value: an
integer n becomes n (PostgreSQL) or n × 1,000,000 (SQLite). Parts get their own precision (`quantity_places`)
and the packs they are bought in (`packs`).

SQLite: the columns stay INTEGER, so no table is copied (the keys referring to `inventory` forbid that on a
database with rows). The one CHECK that names a quantity other than 0 — a serialized unit holds at most 1 —
is rewritten in the schema's text as SQLite documents for a change that leaves the stored rows as they are
("ALTER TABLE", making other kinds of schema changes: writable_schema, then a new schema version), before the
rows are scaled (1 ≤ 1,000,000 holds before and after), and the integrity check runs before the transaction
commits.

Revision ID: f1d2e3c40013
Revises: f7b2d9c10012
Create Date: 2026-12-02 18:10:00
"""

from __future__ import annotations

import advanced_alchemy.types as sa_types
import sqlalchemy as sa
from alembic import op

revision = 'f1d2e3c40013'
down_revision = 'f7b2d9c10012'
branch_labels = None
depends_on = None

SCALE = 1_000_000
QUANTITIES = [
    ('inventory', 'quantity'), ('movements', 'quantity'), ('ledger', 'delta'),
    ('count_lines', 'counted_quantity'), ('count_lines', 'expected_quantity'),
    ('count_results', 'expected'), ('count_results', 'counted'), ('count_decisions', 'delta'),
    ('po_lines', 'quantity'), ('po_lines', 'received'), ('po_receipts', 'quantity'),
    ('stock_constraints', 'min_quantity'), ('stock_constraints', 'max_quantity'),
]
NULLABLE = {('count_results', 'counted'), ('stock_constraints', 'min_quantity'), ('stock_constraints', 'max_quantity')}
# PostgreSQL keeps a CHECK comparing two altered columns with a cast (`min_quantity <= max_quantity::numeric`):
# made again, it reads as the models declare it
MIN_MAX = 'ck_stock_constraints_ck_stock_constraints_min_max'
MIN_MAX_CHECK = (
    "(min_quantity IS NOT NULL OR max_quantity IS NOT NULL) AND (min_quantity IS NULL OR min_quantity >= 0)"
    " AND (max_quantity IS NULL OR max_quantity >= 0)"
    " AND (min_quantity IS NULL OR max_quantity IS NULL OR min_quantity <= max_quantity)"
)
SERIAL_BOUND = "tracking = 'serial' AND serial IS NOT NULL AND quantity <= {one})"


def _rewrite_sqlite_check(old: str, new: str) -> None:
    bind = op.get_bind()
    sql = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'inventory'").scalar_one()
    if old not in sql:
        raise RuntimeError(f"inventory's CHECK is not as expected: {old!r} not in its schema")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'inventory'", (sql.replace(old, new),)
    )
    bind.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    problems = bind.exec_driver_sql("PRAGMA integrity_check").scalars().all()
    if problems != ['ok']:
        raise RuntimeError(f"integrity check after rewriting inventory's CHECK: {problems}")


def upgrade() -> None:
    op.add_column('parts', sa.Column('quantity_places', sa.Integer(), nullable=True))
    op.add_column('parts', sa.Column('packs', sa_types.JsonB, nullable=True))
    if op.get_bind().dialect.name == 'sqlite':  # the bound first (every unit holds 0 or 1 ≤ 1,000,000), then the rows
        _rewrite_sqlite_check(SERIAL_BOUND.format(one=1), SERIAL_BOUND.format(one=SCALE))
        for table, column in QUANTITIES:
            op.execute(f'UPDATE {table} SET {column} = {column} * {SCALE} WHERE {column} IS NOT NULL')
    else:
        for table, column in QUANTITIES:
            op.alter_column(
                table, column, type_=sa.Numeric(18, 6), existing_type=sa.Integer(),
                existing_nullable=(table, column) in NULLABLE,
            )
        op.execute(f'ALTER TABLE stock_constraints DROP CONSTRAINT {MIN_MAX}')
        op.execute(f'ALTER TABLE stock_constraints ADD CONSTRAINT {MIN_MAX} CHECK ({MIN_MAX_CHECK})')


def downgrade() -> None:
    """Whole quantities come back as they were; a fraction is rounded (an integer column holds no other)."""
    if op.get_bind().dialect.name == 'sqlite':  # the rows first, then the bound
        for table, column in QUANTITIES:
            op.execute(f'UPDATE {table} SET {column} = ({column} + {SCALE // 2}) / {SCALE} WHERE {column} IS NOT NULL')
        _rewrite_sqlite_check(SERIAL_BOUND.format(one=SCALE), SERIAL_BOUND.format(one=1))
    else:
        for table, column in QUANTITIES:
            op.alter_column(
                table, column, type_=sa.Integer(), existing_type=sa.Numeric(18, 6),
                existing_nullable=(table, column) in NULLABLE, postgresql_using=f'round({column})::integer',
            )
        op.execute(f'ALTER TABLE stock_constraints DROP CONSTRAINT {MIN_MAX}')
        op.execute(f'ALTER TABLE stock_constraints ADD CONSTRAINT {MIN_MAX} CHECK ({MIN_MAX_CHECK})')
    op.drop_column('parts', 'packs')
    op.drop_column('parts', 'quantity_places')
