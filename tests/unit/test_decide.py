"""Push's decision rules (sync/decide.py) and which database errors are worth a retry
(server/transient.py), with errors made by hand: no database, no driver."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from server.errors import (
    AlreadyInstalled,
    DomainError,
    DuplicateSerial,
    Forbidden,
    InsufficientQuantity,
    Invalid,
    LocationLocked,
    NotFound,
    StaleLocation,
    TrackingChanged,
    TrackingMismatch,
)
from server.transient import is_transient
from sync.decide import APPLIED, HELD, OUTCOMES, REJECTED, Dependency, check_dependencies, decide
from sync.errors import DependencyHeld, DependencyRejected


# ---- decide ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("error", "status", "conflict"), [
    (DuplicateSerial("dup", field="serial"), REJECTED, True),
    (TrackingChanged("changed", field="tracking"), REJECTED, True),
    (AlreadyInstalled("in", field="serial"), REJECTED, True),
    (TrackingMismatch("mismatch", field="lot"), REJECTED, False),
    (NotFound("no part", field="part"), REJECTED, False),
    (Invalid("bad", field="delta"), REJECTED, False),
    (Forbidden("no", field="type"), REJECTED, False),
    (LocationLocked("locked", field="location"), HELD, True),
    (InsufficientQuantity("short", field="quantity", available=2), HELD, True),
    (StaleLocation("moved", field="serial", actual_location="B-2"), HELD, True),
])
def test_each_reason_is_rejected_or_held_and_some_raise_a_conflict(
    error: DomainError, status: str, conflict: bool
) -> None:
    decision = decide(error)
    assert (decision.status, decision.raises_conflict) == (status, conflict)
    assert (decision.reason, decision.message, decision.field) == (error.reason, error.message, error.field)
    assert decision.details == error.extra
    assert decision.parked_behind is None


def test_a_reason_not_in_the_table_is_rejected_without_a_conflict() -> None:
    class Novel(DomainError):
        reason = "something_new"

    assert "something_new" not in OUTCOMES
    decision = decide(Novel("new", field="x"))
    assert (decision.status, decision.raises_conflict, decision.reason) == (REJECTED, False, "something_new")


def test_a_held_dependency_parks_the_op_behind_its_conflict_and_keeps_the_id_out_of_details() -> None:
    decision = decide(DependencyHeld("waits", field="depends_on", conflict_id="c-1", other=3))
    assert (decision.status, decision.parked_behind, decision.details) == (HELD, "c-1", {"other": 3})
    rejected = decide(DependencyRejected("no", field="depends_on", conflict_id="c-2"))
    assert (rejected.status, rejected.parked_behind, rejected.details) == (REJECTED, None, {})


# ---- check_dependencies ---------------------------------------------------------------------------
def test_applied_dependencies_let_the_op_through() -> None:
    check_dependencies([Dependency("a", APPLIED), Dependency("b", APPLIED)])
    check_dependencies([])


def test_an_unknown_dependency_is_an_unknown_reference_before_anything_else() -> None:
    with pytest.raises(NotFound) as caught:
        check_dependencies([Dependency("a", REJECTED), Dependency("b", None)])
    assert (caught.value.reason, caught.value.field) == ("unknown_reference", "depends_on")
    assert "b" in caught.value.message


def test_a_rejected_dependency_wins_over_a_held_one() -> None:
    with pytest.raises(DependencyRejected, match="Operation r"):
        check_dependencies([Dependency("h", HELD, "c-1"), Dependency("r", REJECTED)])


def test_a_held_dependency_holds_the_op_behind_the_same_conflict() -> None:
    with pytest.raises(DependencyHeld) as caught:
        check_dependencies([Dependency("a", APPLIED), Dependency("h", HELD, "c-9")])
    assert caught.value.extra == {"conflict_id": "c-9"}
    assert decide(caught.value).parked_behind == "c-9"


# ---- is_transient ---------------------------------------------------------------------------------
class PgError(Exception):
    """What asyncpg and psycopg raise: an error carrying the SQLSTATE."""

    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


class PsycopgError(Exception):
    def __init__(self, message: str, pgcode: str) -> None:
        super().__init__(message)
        self.pgcode = pgcode


def wrapped(kind: type[DBAPIError], orig: BaseException, **kw: bool) -> DBAPIError:
    return kind("UPDATE inventory SET quantity = ?", {}, orig, **kw)


@pytest.mark.parametrize("error", [
    wrapped(OperationalError, Exception("database is locked")),
    wrapped(OperationalError, Exception("disk I/O error")),
    wrapped(DBAPIError, PgError("could not serialize access", "40001")),
    wrapped(DBAPIError, PgError("deadlock detected", "40P01")),
    wrapped(DBAPIError, PgError("could not obtain lock", "55P03")),
    wrapped(DBAPIError, PgError("canceling statement due to lock timeout", "57014")),
    wrapped(DBAPIError, PgError("connection failure", "08006")),
    wrapped(DBAPIError, PgError("too many connections", "53300")),
    wrapped(DBAPIError, PgError("the database system is shutting down", "57P03")),
    wrapped(DBAPIError, PsycopgError("deadlock detected", "40P01")),
    wrapped(IntegrityError, Exception("gone"), connection_invalidated=True),
    wrapped(InterfaceError, Exception("connection is closed")),
    PoolTimeout("QueuePool limit reached"),
    ConnectionResetError("reset by peer"),
    TimeoutError(),
    PgError("deadlock detected", "40P01"),  # a driver's error not wrapped by SQLAlchemy
], ids=lambda error: type(error).__name__ + ":" + str(getattr(error, "orig", error))[:30])
def test_busy_locked_or_unreachable_databases_are_transient(error: BaseException) -> None:
    assert is_transient(error)


@pytest.mark.parametrize("error", [
    wrapped(OperationalError, Exception("no such table: inventory")),
    wrapped(OperationalError, Exception("table inventory has no column named x")),
    wrapped(OperationalError, Exception('near "SELEC": syntax error')),
    wrapped(IntegrityError, PgError("duplicate key value violates unique constraint", "23505")),
    wrapped(DBAPIError, PgError("value too long for type character varying(64)", "22001")),
    wrapped(DBAPIError, PgError("relation does not exist", "42P01")),
    ValueError("bad"),
    InsufficientQuantity("short", field="quantity"),
], ids=lambda error: type(error).__name__ + ":" + str(getattr(error, "orig", error))[:30])
def test_verdicts_on_the_request_are_not_transient(error: BaseException) -> None:
    assert not is_transient(error)


def test_a_transient_cause_anywhere_in_the_chain_counts() -> None:
    try:
        try:
            raise wrapped(OperationalError, Exception("database is locked"))
        except OperationalError as inner:
            raise RuntimeError("applying the batch failed") from inner
    except RuntimeError as outer:
        assert is_transient(outer)
    try:
        try:
            raise PgError("deadlock detected", "40P01")
        except PgError:
            raise ValueError("while handling") from None  # suppressed context still chained as __context__
    except ValueError as outer:
        assert is_transient(outer)


def test_a_cycle_of_causes_ends() -> None:
    first, second = ValueError("a"), ValueError("b")
    first.__cause__, second.__cause__ = second, first
    assert not is_transient(first)
