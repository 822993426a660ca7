"""Likely causes of a discrepancy, from the SOP's table, derived from the data where it can be (pure).

The SOP ("Adjusting inventory after a cycle count"):

| observed | potential causes | fixes |
|---|---|---|
| digital > physical | not consumed onto an assembly; status incorrect; scanned to the location by mistake; not moved correctly | consume higher-level assemblies; move MRB parts to the right location; last resort: move the extra to a count-discrepancy location |
| digital < physical | not put into kits correctly; in a status that makes it unavailable; moved physically but not digitally | find it at MRB locations and move it here; return excess parts to inventory |

Each cause found in the data carries its evidence (who, when, where). When the data shows nothing, the
SOP's causes for that direction are listed as they are (`evidence: false`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from server.rules.quantities import quantity_text

Cause = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Moved:
    """One movement-log line of the item."""

    action: str
    at: datetime
    actor: str
    quantity: int
    from_code: str | None = None
    to_code: str | None = None
    parent_serial: str | None = None


@dataclass(frozen=True, slots=True)
class UnitNow:
    """Where a counted serial is recorded now."""

    location: str
    installed_in: str | None
    scrapped: bool
    quantity: int
    isolated: bool


@dataclass(frozen=True, slots=True)
class Facts:
    location: str
    tracking: str
    expected: int
    counted: int
    part: str = ""
    isolated_here: int = 0
    unit: UnitNow | None = None  # serials: the unit as recorded now (None: unknown serial)
    recent: Sequence[Moved] = ()  # the item's movement-log lines at this location in the window, newest first
    last_move: Moved | None = None  # serials: the unit's latest movement anywhere
    set_aside: Sequence[tuple[str, int]] = ()  # the item at quarantine / count-discrepancy locations
    window_days: int = 90


SOP_SHORT = [
    ("not_consumed", "Parts are not being consumed onto assemblies", "Make sure all higher-level assemblies are consumed"),
    ("wrong_status", "The part's status is incorrect (installed, on order, unavailable)", "Move MRB parts to the correct location"),
    ("scanned_by_mistake", "Parts were scanned to this location by mistake", "Move them to where they really are"),
    ("not_moved_correctly", "Parts were not moved correctly", "Last resort: move the extra to a count-discrepancy location"),
]
SOP_OVER = [
    ("not_kitted", "Parts were not put into kits correctly", "Return excess parts to inventory"),
    ("unavailable_status", "Parts are in a status that makes them unavailable", "Find part inventories at MRB locations and move them here"),
    ("moved_not_digitally", "Parts were moved physically but not digitally", "Move them here digitally"),
]


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def _cause(code: str, text: str, fix: str, evidence: bool = True) -> Cause:
    return {"code": code, "text": text, "fix": fix, "evidence": evidence}


def causes(f: Facts) -> list[Cause]:
    if f.counted == f.expected:
        return []
    found = _short(f) if f.counted < f.expected else _over(f)
    if found:
        return found
    table = SOP_SHORT if f.counted < f.expected else SOP_OVER
    return [_cause(code, text, fix, evidence=False) for code, text, fix in table]


def _short(f: Facts) -> list[Cause]:
    """Digital > physical."""
    found: list[Cause] = []
    built = [m for m in f.recent if m.action == "Assemble" and m.from_code == f.location]
    if built:
        n = quantity_text(sum(m.quantity for m in built))
        last = built[0]
        found.append(_cause(
            "not_consumed",
            f"{f.part or 'It'} goes into assemblies: {n} installed from here in the last {f.window_days} days (last into "
            f"{last.parent_serial} on {_day(last.at)} by {last.actor}); the missing ones may have been built in without "
            "being installed digitally",
            "Consume them onto their assemblies (install)",
        ))
    isolated = f.isolated_here or (f.unit is not None and f.unit.isolated and f.unit.location == f.location)
    if isolated:
        what = "the unit is" if f.tracking == "serial" else f"{f.isolated_here} of it is"
        found.append(_cause(
            "wrong_status", f"{what} isolated (quarantine) here: its status may be wrong, or it sits in MRB physically",
            "Move MRB parts to the correct location",
        ))
    for m in f.recent:
        if m.action == "Add" and m.to_code == f.location:
            found.append(_cause(
                "scanned_by_mistake", f"Received into this location on {_day(m.at)} by {m.actor} ({m.quantity}): "
                "scanned to this location by mistake?", "Move it to where it was really put",
            ))
            break
    for m in f.recent:
        if m.action == "Move" and m.to_code == f.location:
            found.append(_cause(
                "not_moved_correctly", f"Moved here digitally on {_day(m.at)} by {m.actor} from {m.from_code} "
                f"({m.quantity}): it may never have arrived", f"Look for it at {m.from_code}",
            ))
            break
    return found


def _over(f: Facts) -> list[Cause]:
    """Digital < physical."""
    found: list[Cause] = []
    if f.tracking == "serial":
        found.extend(_found_unit(f))
    for m in f.recent:
        if m.action == "Move" and m.from_code == f.location:
            found.append(_cause(
                "not_moved_correctly", f"Moved out digitally on {_day(m.at)} by {m.actor} to {m.to_code} ({m.quantity}), "
                "but still here: moved digitally, not physically", f"Check {m.to_code}; return excess parts to inventory",
            ))
            break
    for code, quantity in f.set_aside:
        found.append(_cause(
            "unavailable_status", f"{quantity} of it recorded at {code} (MRB / count discrepancy): in a status that makes "
            "it unavailable", f"Find it at {code} and move it here",
        ))
    return found


def _found_unit(f: Facts) -> list[Cause]:
    unit, last = f.unit, f.last_move
    when = f" (last moved {_day(last.at)} by {last.actor})" if last else ""
    if unit is None:
        return [_cause("not_received", "Not in the system: never received digitally", "Approving adds it; check its receipt")]
    if unit.scrapped:
        return [_cause("wrong_status", f"Recorded as scrapped{when}", "Check why it was scrapped before adding it back")]
    if unit.installed_in:
        return [_cause(
            "wrong_status", f"Recorded as installed in {unit.installed_in}{when}: taken off physically but not digitally",
            f"Uninstall it from {unit.installed_in} to here",
        )]
    if unit.quantity == 0:
        return [_cause("written_off", f"Written off by an adjustment{when}", "Approving restores it here")]
    if unit.location != f.location:
        return [_cause(
            "moved_not_digitally", f"Recorded at {unit.location}{when}: moved physically but not digitally",
            f"Move it from {unit.location} to here (approving does)",
        )]
    return []
