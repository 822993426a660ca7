"""Which database errors are transient: worth trying again later (a busy, locked or unreachable database),
not a verdict on what was asked. Push stops its batch there (`retry_later`); requests answer 503."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from server.errors import RetryLater

# PostgreSQL SQLSTATEs worth a retry: serialization failure, deadlock, lock not available, statement or
# lock timeout (query_canceled), and the classes "connection exception", "insufficient resources",
# "operator intervention" (server shutting down or starting).
TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03", "57014"}
TRANSIENT_SQLSTATE_CLASSES = ("08", "53", "57P")
NOT_TRANSIENT_SQLITE = ("no such", "has no column", "syntax error")


def is_transient(error: BaseException) -> bool:
    """A database that is busy, locked or unreachable for now (SQLite "database is locked", a PostgreSQL
    lock timeout or deadlock, a dropped connection, an exhausted pool)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (PoolTimeout, InterfaceError, ConnectionError, TimeoutError)):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, OperationalError):
            text = str(current.orig).lower()
            if not any(marker in text for marker in NOT_TRANSIENT_SQLITE):
                return True
        state = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if isinstance(state, str) and (state in TRANSIENT_SQLSTATES or state.startswith(TRANSIENT_SQLSTATE_CLASSES)):
            return True
        nested = current.orig if isinstance(current, DBAPIError) else None
        current = nested if nested is not None and id(nested) not in seen else (current.__cause__ or current.__context__)
    return False


@contextmanager
def retry_later_if_transient(what: str) -> Iterator[None]:
    """Turn a transient database error into `RetryLater` (503): the client tries again, nothing changed."""
    try:
        yield
    except Exception as error:
        if is_transient(error):
            raise RetryLater(f"The database is busy or unavailable: {what} again later") from error
        raise
