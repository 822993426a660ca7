"""Inventory status: derived, never stored. One rule, written twice — in Python and in SQL — and a
property test proves the two agree.

First rule that matches wins (domain.md):
scrapped → removed → installed → wip → kitted → on_order → unavailable → available
(production.md's last section: Removed, a unit that left inventory by the `remove` op, comes after Scrapped).

WIP: the row is in the work-in-progress location of a production run that is open or failed
(`locations.wip`, kept in step with the run's state by server/production: a run that completes or is
cancelled returns what is left in it first). Kitted: the row's location is the tote of an open kit
(`locations.kit_id`, server/kits/: set while the kit is open). Both are read from the joined location unless
given. Expired: the row's `expiry` is today or earlier (UTC) — an expired lot is Unavailable from its expiry
date on. A purchase order's part is the inventory row's own `po_state` (server/purchasing/): NULL, or `open`
(on order), `received`, `cancelled`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Date, and_, case, false, func, not_, or_, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class Status(StrEnum):
    available = "available"
    unavailable = "unavailable"
    installed = "installed"
    wip = "wip"
    kitted = "kitted"
    on_order = "on_order"
    scrapped = "scrapped"
    removed = "removed"


class PoState(StrEnum):
    none = "none"
    open = "open"  # a line of an open PO, not yet received
    received = "received"
    cancelled = "cancelled"


@dataclass(frozen=True, slots=True)
class StatusInputs:
    scrapped: bool = False
    removed: bool = False
    installed: bool = False
    on_open_run: bool = False  # open or failed production run
    in_open_kit: bool = False
    po_state: PoState = PoState.none
    location_available: bool = True
    isolated: bool = False
    quantity: int = 1
    expired: bool = False  # its lot's expiry date is today or earlier


def utc_today() -> date:
    return datetime.now(UTC).date()


def is_expired(expiry: date | None, today: date | None = None) -> bool:
    """Expired from the expiry date on (that day included)."""
    return expiry is not None and expiry <= (today or utc_today())


class today_sql(FunctionElement[date]):  # noqa: N801 - an SQL function, named as one
    """Today's date in UTC, as the database sees it (the Python side: `utc_today`)."""

    type = Date()
    inherit_cache = True


@compiles(today_sql)
def _today_default(element: Any, compiler: Any, **kw: Any) -> str:
    return "CURRENT_DATE"  # SQLite: UTC


@compiles(today_sql, "postgresql")
def _today_postgresql(element: Any, compiler: Any, **kw: Any) -> str:
    return "CAST(timezone('UTC', now()) AS DATE)"  # not the session's time zone


def expired_sql(expiry: Any) -> ColumnElement[bool]:
    """The SQL form of `is_expired` over an expiry column (NULL: never expires)."""
    return and_(expiry.is_not(None), expiry <= today_sql())


def derive_status(row: StatusInputs) -> Status:
    if row.scrapped:
        return Status.scrapped
    if row.removed:
        return Status.removed
    if row.installed:
        return Status.installed
    if row.on_open_run:
        return Status.wip
    if row.in_open_kit:
        return Status.kitted
    if row.po_state == PoState.open:
        return Status.on_order
    if (
        row.po_state == PoState.cancelled
        or not row.location_available
        or row.isolated
        or row.expired
        or row.quantity <= 0
    ):
        return Status.unavailable
    return Status.available


def _optional_inputs(on_open_run: Any, in_open_kit: Any) -> tuple[Any, Any]:
    """Runs and kits default to "not on one"; NULL (e.g. an outer join that found none) means the same."""
    on_open_run = false() if on_open_run is None else func.coalesce(on_open_run, false())
    in_open_kit = false() if in_open_kit is None else func.coalesce(in_open_kit, false())
    return on_open_run, in_open_kit


def in_kit_tote(location: Any) -> Any:
    """In an open kit: the row's location is an open kit's tote. None for a location without `kit_id` (a
    probe table in tests gives `in_open_kit` itself)."""
    kit_id = getattr(location, "kit_id", None)
    return None if kit_id is None else kit_id.is_not(None)


def _po_is(po_state: Any, state: PoState) -> ColumnElement[bool]:
    """`po_state` is `state`; NULL is none (not on a PO). Spelled so that its negation holds for NULL too
    and the positive form can use the partial index on `po_state`."""
    return false() if po_state is None else and_(po_state.is_not(None), po_state == state.value)


def status_sql(
    *,
    scrapped: Any,
    installed: Any,
    location_available: Any,
    isolated: Any,
    quantity: Any,
    on_open_run: Any = None,
    in_open_kit: Any = None,
    po_state: Any = None,
    expired: Any = None,
    removed: Any = None,
) -> ColumnElement[str]:
    """The same rule as a SQL CASE over column expressions (filterable, one query for 1M rows)."""
    on_open_run, in_open_kit = _optional_inputs(on_open_run, in_open_kit)
    expired = false() if expired is None else expired
    removed = false() if removed is None else removed
    on_order, cancelled = _po_is(po_state, PoState.open), _po_is(po_state, PoState.cancelled)
    return case(
        (scrapped, Status.scrapped.value),
        (removed, Status.removed.value),
        (installed, Status.installed.value),
        (on_open_run, Status.wip.value),
        (in_open_kit, Status.kitted.value),
        (on_order, Status.on_order.value),
        (
            or_(cancelled, location_available == false(), isolated, expired, quantity <= 0),
            Status.unavailable.value,
        ),
        else_=Status.available.value,
    )


def inventory_status_sql(row: Any, location: Any, **optional: Any) -> ColumnElement[str]:
    """Status of an `InventoryRow` joined to its `Location` (the form every query uses). `optional`:
    `on_open_run` (default: the location is a run's WIP place), `in_open_kit` (default: the location is an open
    kit's tote), `po_state` (the row's own), `expired` (from the row's `expiry`) given otherwise by tests."""
    return status_sql(
        scrapped=row.scrapped,
        installed=row.installed_in_id.is_not(None),
        location_available=location.available,
        isolated=row.isolated,
        quantity=row.quantity,
        **{
            "po_state": row.po_state,
            "removed": row.removed,
            "in_open_kit": optional.pop("in_open_kit") if "in_open_kit" in optional else in_kit_tote(location),
            "on_open_run": optional.pop("on_open_run") if "on_open_run" in optional else location.wip,
            "expired": optional.pop("expired") if "expired" in optional else expired_sql(row.expiry),
            **optional,
        },
    )


def status_filter_sql(
    row: Any,
    location: Any,
    status: Status,
    *,
    on_open_run: Any = None,
    in_open_kit: Any = None,
    po_state: Any = None,
    expired: Any = None,
) -> ColumnElement[bool]:
    """A WHERE clause for one status, written as plain column predicates so the planner can use indexes:
    the status's own condition and the negation of every rule before it. `po_state`, `on_open_run`,
    `in_open_kit` and `expired`: the row's and its location's own unless given."""
    run, kit = _optional_inputs(location.wip if on_open_run is None else on_open_run,
                                in_kit_tote(location) if in_open_kit is None else in_open_kit)
    expired = expired_sql(row.expiry) if expired is None else expired
    po = row.po_state if po_state is None else po_state
    steps: list[tuple[Status, ColumnElement[bool]]] = [
        (Status.scrapped, row.scrapped),
        (Status.removed, row.removed),
        (Status.installed, row.installed_in_id.is_not(None)),
        (Status.wip, run),
        (Status.kitted, kit),
        (Status.on_order, _po_is(po, PoState.open)),
        (
            Status.unavailable,
            or_(
                _po_is(po, PoState.cancelled),
                location.available == false(),
                row.isolated,
                expired,
                row.quantity <= 0,
            ),
        ),
        (Status.available, true()),
    ]
    earlier: list[ColumnElement[bool]] = []
    for name, condition in steps:
        if name == status:
            return and_(*(not_(c) for c in earlier), condition)
        earlier.append(condition)
    raise ValueError(f"unknown status {status!r}")
