"""Row triggers written once for both engines: a trigger is (name, table, event, statements, condition) in SQL
both engines read alike (NEW/OLD, upserts); SQLite takes the statements as the trigger's body, PostgreSQL as a
plpgsql function's. For the sums the database keeps (server/levels.py, server/costs/values.py)."""

from __future__ import annotations

from collections.abc import Iterable

Trigger = tuple[str, str, str, list[str], str]  # name, table, event ("AFTER UPDATE OF a, b"), statements, condition


def is_not(dialect: str) -> str:
    """The engine's "differs from", NULLs included."""
    return "IS DISTINCT FROM" if dialect == "postgresql" else "IS NOT"


def create(dialect: str, triggers: Iterable[Trigger]) -> list[str]:
    """The CREATE statements of the triggers: on PostgreSQL each with its function."""
    made: list[str] = []
    for name, table, when, statements, condition in triggers:
        if dialect == "postgresql":
            body = "".join(f"{s}; " for s in statements)
            made += [f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body}RETURN NULL; END $$",
                     f"CREATE TRIGGER {name} {when} ON {table} FOR EACH ROW"
                     f"{f' WHEN ({condition})' if condition else ''} EXECUTE FUNCTION {name}()"]
        else:
            made.append(f"CREATE TRIGGER {name} {when} ON {table} FOR EACH ROW"
                        f"{f' WHEN {condition}' if condition else ''} BEGIN {'; '.join(statements)}; END")
    return made


def drop(dialect: str, names: Iterable[str]) -> list[str]:
    if dialect == "postgresql":
        return [f"DROP FUNCTION IF EXISTS {name}() CASCADE" for name in names]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in names]
