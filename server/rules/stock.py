"""What an operation may do to stock, as pure functions: the state of the rows an op names in, a decision
out (return, or a DomainError naming the field). The handlers (server/ops/handlers.py) load the rows,
call these, and write what they decided.

A rule that must name another row in its message (the unit a serial is installed in, where a unit is)
is split in two: `unusable(...)` decides from the unit's own columns; the handler loads the one name the
refusal needs and `refuse_unusable(...)` words it.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from server.errors import (
    AlreadyInstalled,
    DomainError,
    Forbidden,
    InsufficientQuantity,
    Invalid,
    LocationLocked,
    StaleLocation,
    TrackingMismatch,
)
from server.models import Role, Tracking
from server.rules.money import EXACT, exact, times, total

ROLE_ORDER = (Role.operator, Role.supervisor, Role.admin)


class UnitState(Protocol):
    """The columns of a stock row the rules read (server/ops/rows.py's `Stock` has them)."""

    id: UUID
    serial: str | None
    quantity: int
    location_id: UUID
    installed_in_id: UUID | None
    scrapped: bool
    removed: bool  # used: left inventory by the `remove` op (quantity 0)
    isolated: bool
    po_state: str | None  # made by a purchase order line: on order (`open`), or it will not come (`cancelled`)


class Lockable(Protocol):
    code: str
    count_locked: bool


# ---- naming stock ---------------------------------------------------------------------------------
def named_tracking(serial: str | None, lot: str | None) -> str | None:
    """The tracking of the rows an op names: serial, lot, or None when it names neither."""
    if serial is not None:
        return Tracking.serial
    return Tracking.lot if lot is not None else None


def check_untracked_rows(part_number: str, tracking: str, has_untracked_rows: bool) -> None:
    """An op naming neither serial nor lot addresses the untracked rows of the part: an untracked part's,
    or those a part switched from untracked keeps. A tracked part without them needs the identifier."""
    if tracking != Tracking.untracked and not has_untracked_rows:
        missing = "serial" if tracking == Tracking.serial else "lot"
        raise TrackingMismatch(f"{part_number} is {tracking}-tracked: name the {missing}", field=missing)


def check_same_part(serial: str, unit_part: str, part: str) -> None:
    """A serial names one unit of one part (`unit_part`: the unit's part number)."""
    if unit_part != part:
        raise TrackingMismatch(f"Serial {serial} is a {unit_part}, not a {part}", field="serial")


# ---- free stock -----------------------------------------------------------------------------------
class Unusable(StrEnum):
    installed = "installed"
    scrapped = "scrapped"
    removed = "removed (used)"
    written_off = "written off"
    on_order = "on order, not received"
    order_cancelled = "on a cancelled order line, never received"
    isolated = "isolated"
    elsewhere = "elsewhere"


def unusable(unit: UnitState, location_id: UUID | None, *, isolated_ok: bool) -> Unusable | None:
    """Why a unit is not free stock at `location_id` (any location when None), or None when it is: free
    stock is not installed, scrapped, on order or written off, and not isolated unless the op may take
    isolated."""
    if unit.installed_in_id is not None:
        return Unusable.installed
    if unit.scrapped:
        return Unusable.scrapped
    if unit.po_state is not None:
        return Unusable.on_order if unit.po_state == "open" else Unusable.order_cancelled
    if unit.removed:
        return Unusable.removed
    if unit.quantity == 0:
        return Unusable.written_off
    if unit.isolated and not isolated_ok:
        return Unusable.isolated
    if location_id is not None and unit.location_id != location_id:
        return Unusable.elsewhere
    return None


def refuse_unusable(
    why: Unusable, serial: str, *, holder: str | None = None, actual: str | None = None, expected: str | None = None,
    **details: str,
) -> DomainError:
    """The error for `unusable`'s answer: `holder` is the serial of the unit it is installed in
    (`installed`), `actual` and `expected` the codes of where it is and where the op said (`elsewhere`);
    `details` (who last did what to the unit) go with it to the outcome."""
    if why == Unusable.installed:
        return StaleLocation(f"{serial} is installed in {holder}: uninstall it first", field="serial", **details)
    if why == Unusable.isolated:
        return InsufficientQuantity(f"{serial} is isolated: release it first", field="serial", available=0, **details)
    if why == Unusable.elsewhere:
        return StaleLocation(
            f"{serial} is at {actual}, not {expected}", field="serial", actual_location=actual, **details
        )
    return InsufficientQuantity(f"{serial} is {why}", field="serial", available=0, **details)


def check_available(have: int | None, quantity: int, what: str, location: str, unit: str) -> None:
    """A bucket holding `have` (None: there is no such bucket) gives `quantity` only if it holds that much
    (`what`: the part, and lot)."""
    if have is None or have < quantity:
        held = have or 0
        raise InsufficientQuantity(
            f"{location} holds {held} {unit} of {what}, the operation takes {quantity}",
            field="quantity",
            available=held,
        )


def check_unlocked(location: Lockable, field_name: str = "location") -> None:
    if location.count_locked:
        raise LocationLocked(f"{location.code} is closed for a cycle count", field=field_name)


def weighted_cost(q1: int, c1: Decimal | None, q2: int, c2: Decimal | None) -> Decimal | None:
    """The unit cost of a bucket holding `q1` at `c1` after `q2` at `c2` are added, to 6 decimal places
    (rounded half to even, as the database holds it)."""
    if c1 is None or q1 <= 0:
        return c2 if c2 is not None else c1
    if c2 is None or q2 <= 0:
        return c1
    return exact(EXACT.divide(total([times(q1, c1), times(q2, c2)]), Decimal(q1 + q2)))


# ---- moving, installing ---------------------------------------------------------------------------
def check_distinct_locations(source_id: UUID, target_id: UUID) -> None:
    if source_id == target_id:
        raise Invalid("from_location and to_location are the same", field="to_location")


def check_parent_usable(parent: UnitState) -> None:
    """A unit is installed only into a unit that still exists as stock."""
    if parent.scrapped or parent.quantity == 0:
        raise StaleLocation(f"Parent unit {parent.serial} is scrapped or written off", field="parent_serial")
    if parent.po_state is not None:
        raise StaleLocation(f"Parent unit {parent.serial} is on a purchase order, not received", field="parent_serial")


def check_not_inside_itself(unit: UnitState, parent_serial: str, parent_chain: Sequence[UUID]) -> None:
    """`parent_chain`: the parent and every assembly it sits in; the unit must not be one of them."""
    if unit.id in parent_chain:
        raise Invalid(f"Installing {unit.serial} into {parent_serial} would put a unit inside itself", field="serial")


def refuse_installed(serial: str, holder: str, **details: str) -> AlreadyInstalled:
    return AlreadyInstalled(f"{serial} is already installed in {holder}", field="serial", **details)


def check_installed_in(unit: UnitState, parent: UnitState) -> None:
    if unit.installed_in_id != parent.id:
        raise StaleLocation(f"{unit.serial} is not installed in {parent.serial}", field="serial")


def check_isolation_changes(unit: UnitState, isolated: bool) -> None:
    """Isolating an isolated unit, or releasing one that is not, changes nothing and is refused."""
    if unit.isolated == isolated:
        state = "already isolated" if isolated else "not isolated"
        raise InsufficientQuantity(f"{unit.serial} is {state}", field="serial", available=0)


# ---- adjusting ------------------------------------------------------------------------------------
def at_least(role: str, needed: str) -> bool:
    return ROLE_ORDER.index(Role(role)) >= ROLE_ORDER.index(Role(needed))


def check_adjustment(role: str, delta: int) -> None:
    """An adjustment is a supervisor's act and changes something."""
    if not at_least(role, Role.supervisor):
        raise Forbidden("Adjustments need a supervisor", field="type")
    if delta == 0:
        raise Invalid("delta must not be 0", field="delta")


def check_unit_delta(delta: int) -> None:
    """A serialized unit is adjusted by one: found (+1) or written off (-1)."""
    if abs(delta) != 1:
        raise TrackingMismatch("a serialized unit is adjusted by +1 or -1", field="delta")


class UnitAdjustment(StrEnum):
    write_off = "write_off"  # -1: the unit is kept with quantity 0 (its history and serial stay reserved)
    new = "new"  # +1 of a serial never seen: a new unit
    restore = "restore"  # +1 of a written-off (or removed) unit: found again
    refuse = "refuse"  # +1 of a unit that exists (or is scrapped or installed): a duplicate serial


def unit_adjustment(delta: int, existing: UnitState | None) -> UnitAdjustment:
    if delta < 0:
        return UnitAdjustment.write_off
    if existing is None:
        return UnitAdjustment.new
    if existing.quantity == 0 and not existing.scrapped and existing.installed_in_id is None and existing.po_state is None:
        return UnitAdjustment.restore
    return UnitAdjustment.refuse


# ---- lots -----------------------------------------------------------------------------------------
def check_splittable(tracking: str) -> None:
    if tracking != Tracking.lot:
        raise TrackingMismatch("only lots can be split", field="lot")


def check_new_lot(lot: str | None, new_lot: str) -> None:
    if new_lot == lot:
        raise Invalid("new_lot must differ from lot", field="new_lot")


def check_merge(tracking: str, serial: str | None, lot: str | None, lots: Sequence[str]) -> None:
    """A merge names whole lots of a lot-tracked part, each once."""
    if tracking != Tracking.lot or serial is not None or lot is not None:
        raise TrackingMismatch("merge names lot-tracked stock by `lots` and `into_lot`", field="lots")
    if len(set(lots)) != len(lots):
        raise Invalid("lots must not repeat", field="lots")


def merge_sources(lots: Sequence[str], into_lot: str) -> list[str]:
    """The lots a merge empties into `into_lot` (which may be one of `lots`), in the order named."""
    sources = [name for name in lots if name != into_lot]
    if not sources:
        raise Invalid("name at least one lot other than into_lot", field="lots")
    return sources


def check_lot_held(quantity: int, part: str, lot: str, location: str) -> None:
    """A merge takes a whole lot: the location must hold some of it."""
    if quantity == 0:
        raise InsufficientQuantity(f"{location} holds no {part} lot {lot}", field="lots")


def check_expiry_tracked(tracking: str) -> None:
    """An expiry date belongs to a lot or a unit: untracked stock is one bucket whatever its dates."""
    if tracking == "untracked":
        raise Invalid("expiry: untracked stock has no expiry date (track the part by lot)", field="expiry")
