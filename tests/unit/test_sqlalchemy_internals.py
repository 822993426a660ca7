"""server/db leans on private parts of SQLAlchemy (and of aiosqlite): the aiosqlite adapter classes it
subclasses (server/db/sqlite.py) and a type's cached bind processor (server/db/codecs.py `bind_processor`,
used by server/db/bulk.py). They were written for SQLAlchemy 2.0 (pyproject allows 2.0.36 and up, below
2.1) and last checked on 2.0.58. Another SQLAlchemy may change them without notice: these tests fail
loudly, naming what to check again, when the installed version is outside that range or the parts are no
longer there."""

from __future__ import annotations

from importlib.metadata import version

import aiosqlite
from packaging.version import Version
from sqlalchemy import Integer
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.sqlite import aiosqlite as adapter

CHECKED = (Version("2.0.36"), Version("2.1"))  # from, and below
PRIVATE = (
    "sqlalchemy.dialects.sqlite.aiosqlite AsyncAdapt_aiosqlite_cursor / _connection / _dbapi (subclassed in "
    "server/db/sqlite.py: their slots _adapt_connection, _connection, await_, _rows, _handle_exception), and "
    "TypeEngine._cached_bind_processor (server/db/codecs.py bind_processor)"
)


def test_sqlalchemy_is_a_version_the_private_apis_were_checked_against() -> None:
    installed = Version(version("sqlalchemy"))
    assert CHECKED[0] <= installed < CHECKED[1], (
        f"SQLAlchemy {installed} is outside {CHECKED[0]} ≤ version < {CHECKED[1]}, the range Gemba's use of "
        f"private SQLAlchemy APIs was checked against: {PRIVATE}. Check them against this version (and run "
        "the integration tests and tests/benchmarks/bench_sync.py), then widen CHECKED here"
    )


def test_the_adapter_parts_server_db_subclasses_are_there() -> None:
    assert {"_adapt_connection", "_connection", "await_", "_rows", "description", "lastrowid", "rowcount"} <= set(
        adapter.AsyncAdapt_aiosqlite_cursor.__slots__
    ), PRIVATE
    connection = adapter.AsyncAdapt_aiosqlite_connection
    assert callable(connection._handle_exception) and callable(connection.cursor), PRIVATE
    assert callable(adapter.AsyncAdapt_aiosqlite_dbapi.connect), PRIVATE
    assert callable(aiosqlite.Connection._execute), "aiosqlite's Connection._execute (server/db/sqlite.py)"


def test_a_types_cached_bind_processor_converts_as_sqlalchemy_does() -> None:
    dialect = sqlite.dialect()
    assert Integer()._cached_bind_processor(dialect) == Integer().bind_processor(dialect), PRIVATE
