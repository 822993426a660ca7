"""Inventory status: derived, never stored. One rule, written twice — in Python and in SQL — and a
property test proves the two agree.

First rule that matches wins (domain.md):
scrapped → installed → wip → kitted → on_order → unavailable → available.

Production runs, kits and purchase orders do not exist yet; their inputs are already part of the rule
and default to "not on one" so that adding those tables only means passing real expressions in.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, case, false, literal, or_


class Status(StrEnum):
    available = "available"
    unavailable = "unavailable"
    installed = "installed"
    wip = "wip"
    kitted = "kitted"
    on_order = "on_order"
    scrapped = "scrapped"


class PoState(StrEnum):
    none = "none"
    open = "open"  # a line of an open PO, not yet received
    received = "received"
    cancelled = "cancelled"


@dataclass(frozen=True, slots=True)
class StatusInputs:
    scrapped: bool = False
    installed: bool = False
    on_open_run: bool = False  # open or failed production run
    in_open_kit: bool = False
    po_state: PoState = PoState.none
    location_available: bool = True
    isolated: bool = False
    quantity: int = 1


def derive_status(row: StatusInputs) -> Status:
    if row.scrapped:
        return Status.scrapped
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
        or row.quantity <= 0
    ):
        return Status.unavailable
    return Status.available


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
) -> ColumnElement[str]:
    """The same rule as a SQL CASE over column expressions (filterable, one query for 1M rows)."""
    on_open_run = false() if on_open_run is None else on_open_run
    in_open_kit = false() if in_open_kit is None else in_open_kit
    po_state = literal(PoState.none.value) if po_state is None else po_state
    return case(
        (scrapped, Status.scrapped.value),
        (installed, Status.installed.value),
        (on_open_run, Status.wip.value),
        (in_open_kit, Status.kitted.value),
        (po_state == PoState.open.value, Status.on_order.value),
        (
            or_(
                po_state == PoState.cancelled.value,
                location_available == false(),
                isolated,
                quantity <= 0,
            ),
            Status.unavailable.value,
        ),
        else_=Status.available.value,
    )


def inventory_status_sql(row: Any, location: Any) -> ColumnElement[str]:
    """Status of an `InventoryRow` joined to its `Location` (the form every query uses)."""
    return status_sql(
        scrapped=row.scrapped,
        installed=row.installed_in_id.is_not(None),
        location_available=location.available,
        isolated=row.isolated,
        quantity=row.quantity,
    )


def status_filter_sql(row: Any, location: Any, status: Status) -> ColumnElement[bool]:
    """A WHERE clause for one status, written so the planner can use plain column predicates."""
    installed = row.installed_in_id.is_not(None)
    unavailable = or_(location.available == false(), row.isolated, row.quantity <= 0)
    match status:
        case Status.scrapped:
            return row.scrapped
        case Status.installed:
            return and_(~row.scrapped, installed)
        case Status.unavailable:
            return and_(~row.scrapped, row.installed_in_id.is_(None), unavailable)
        case Status.available:
            return and_(~row.scrapped, row.installed_in_id.is_(None), ~unavailable)
        case _:  # wip, kitted, on_order: no runs, kits or POs yet, so nothing has these statuses
            return inventory_status_sql(row, location) == status.value
