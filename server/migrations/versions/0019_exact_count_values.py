"""Exact money in cycle counts (issue 17): a count's summary values, a count line's unit cost and a count result's
unit cost and values become NUMERIC(18, 6) on PostgreSQL and the decimal's text on SQLite (server/models.py,
Money), as the inventory's unit cost did in 0011 — keeping every value: the old code rounded them to 6 places
(a result's values) or 2 (a count's totals), so the 6-place form of the float is the amount that was meant
(0.3, not 0.30000000000000004); a negative zero becomes 0.

SQLite: the columns change their declared type in place — the schema's text rewritten as SQLite documents for a
change that leaves the stored rows as they are ("ALTER TABLE", making other kinds of schema changes:
writable_schema, then a new schema version; copying `counts` or `count_lines` would trip the keys that refer to
them), then each value is written again as its 6-place text (`printf('%.6f')`; `+ 0.0` turns -0.0 into 0.0),
which the column's new TEXT affinity keeps as it is. The integrity check runs before the transaction commits.

Revision ID: f2b3c4d50019
Revises: e1a2b3c40018
Create Date: 2026-12-03 12:40:00
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = 'f2b3c4d50019'
down_revision = 'e1a2b3c40018'
branch_labels = None
depends_on = None

COLUMNS = {
    'counts': ['value_expected', 'value_difference', 'value_not_counted'],
    'count_lines': ['unit_cost'],
    'count_results': ['unit_cost', 'value_expected', 'value_difference'],
}
NOT_NULL = {'count_results'}  # every money column of count_results is NOT NULL; the others are nullable
SQLITE_FLOAT, SQLITE_MONEY = 'FLOAT', 'VARCHAR(32)'  # as create_all declares Float and Money (server/models.py)


def _retype_sqlite(table: str, columns: list[str], old: str, new: str) -> None:
    """Declare `columns` of `table` as `new` instead of `old` in the schema's text; the rows stay as they are."""
    bind = op.get_bind()
    sql = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).scalar_one()
    for column in columns:
        declared = re.compile(rf'(\b{column} ){re.escape(old)}(?=[ ,\n])')
        if len(declared.findall(sql)) != 1:
            raise RuntimeError(f"{table}.{column} is not declared {old} in its schema")
        sql = declared.sub(rf'\g<1>{new}', sql)
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (sql, table))
    bind.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def _check_sqlite() -> None:
    problems = op.get_bind().exec_driver_sql("PRAGMA integrity_check").scalars().all()
    if problems != ['ok']:
        raise RuntimeError(f"integrity check after changing the count tables' money columns: {problems}")


def _convert(sqlite_types: tuple[str, str], sqlite_value: str, types: tuple[sa.types.TypeEngine, sa.types.TypeEngine],
             postgresql_using: str) -> None:
    """Every money column from the first type to the second: on SQLite declared anew and each value rewritten as
    `sqlite_value` makes it, on PostgreSQL altered `postgresql_using` (both name the column `{column}`)."""
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table, columns in COLUMNS.items():
        if sqlite:
            _retype_sqlite(table, columns, *sqlite_types)
            for column in columns:
                op.execute(f"UPDATE {table} SET {column} = {sqlite_value.format(column=column)} WHERE {column} IS NOT NULL")
            continue
        for column in columns:
            op.alter_column(
                table, column, type_=types[1], existing_type=types[0], existing_nullable=table not in NOT_NULL,
                postgresql_using=postgresql_using.format(column=column),
            )
    if sqlite:
        _check_sqlite()


def upgrade() -> None:
    _convert((SQLITE_FLOAT, SQLITE_MONEY), "printf('%.6f', {column} + 0.0)", (sa.Float(), sa.Numeric(18, 6)),
             'round({column}::numeric, 6)')


def downgrade() -> None:
    _convert((SQLITE_MONEY, SQLITE_FLOAT), 'CAST({column} AS REAL)', (sa.Numeric(18, 6), sa.Float()),
             '{column}::double precision')
