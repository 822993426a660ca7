"""The decision rules of push, as pure functions: no session, no HTTP.

- `decide(error)`: what a domain error raised while applying an op means for the op — `rejected` or
  `held`, and whether a supervisor gets a conflict for it (the protocol's reason table, §3.5).
- `check_dependencies(states)`: an op whose `depends_on` names a rejected op is rejected; one that
  names a held op is held behind that op's conflict.
- `is_transient(exc)`: a database problem worth retrying later (stop the batch), not a verdict on the op.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from server.errors import DomainError, NotFound
from sync.errors import DependencyHeld, DependencyRejected, RetryLater

APPLIED, REJECTED, HELD = "applied", "rejected", "held"

# reason → (outcome, raises a conflict for a supervisor). Reasons not listed are `rejected`, no conflict.
OUTCOMES: dict[str, tuple[str, bool]] = {
    "duplicate_serial": (REJECTED, True),
    "tracking_changed": (REJECTED, True),
    "already_installed": (REJECTED, True),
    "tracking_mismatch": (REJECTED, False),
    "unknown_reference": (REJECTED, False),
    "dependency_rejected": (REJECTED, False),
    "invalid": (REJECTED, False),
    "unknown_op_type": (REJECTED, False),
    "op_id_reused": (REJECTED, False),
    "forbidden": (REJECTED, False),
    "count_not_open": (REJECTED, False),  # a count line for a count that was closed while the phone was offline
    "location_locked": (HELD, True),
    "insufficient_quantity": (HELD, True),
    "stale_location": (HELD, True),
    "dependency_held": (HELD, False),  # waits behind the conflict of the op it depends on
}


@dataclass(frozen=True, slots=True)
class Decision:
    status: str
    reason: str
    message: str
    field: str | None = None
    details: dict[str, Any] = dataclass_field(default_factory=dict)
    raises_conflict: bool = False
    parked_behind: str | None = None  # dependency_held: the conflict id this op waits behind


def decide(error: DomainError) -> Decision:
    status, raises_conflict = OUTCOMES.get(error.reason, (REJECTED, False))
    details = {key: value for key, value in error.extra.items() if key != "conflict_id"}
    return Decision(
        status=status,
        reason=error.reason,
        message=error.message,
        field=error.field,
        details=details,
        raises_conflict=raises_conflict,
        parked_behind=error.extra.get("conflict_id") if error.reason == "dependency_held" else None,
    )


@dataclass(frozen=True, slots=True)
class Dependency:
    """What the server knows of an op named in `depends_on`: its current status (None: never seen)
    and, when held, the conflict it is parked behind."""

    op_id: str
    status: str | None
    conflict_id: str | None = None


def check_dependencies(dependencies: Sequence[Dependency]) -> None:
    """Raise the error that decides the op, or return if every dependency is applied."""
    for dep in dependencies:
        if dep.status is None:
            raise NotFound(f"depends_on names operation {dep.op_id}, which the server has not received", field="depends_on")
    for dep in dependencies:
        if dep.status == REJECTED:
            raise DependencyRejected(f"Operation {dep.op_id}, which this one depends on, was rejected", field="depends_on")
    for dep in dependencies:
        if dep.status == HELD:
            raise DependencyHeld(
                f"Operation {dep.op_id}, which this one depends on, is held for a supervisor; this one waits with it",
                field="depends_on",
                conflict_id=dep.conflict_id,
            )


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
