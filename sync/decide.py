"""The decision rules of push, as pure functions: no session, no HTTP.

- `decide(error)`: what a domain error raised while applying an op means for the op — `rejected` or
  `held`, and whether a supervisor gets a conflict for it (the protocol's reason table, §3.5).
- `check_dependencies(states)`: an op whose `depends_on` names a rejected op is rejected; one that
  names a held op is held behind that op's conflict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from server.errors import DomainError
from server.rules.dependencies import check_received
from sync.errors import DependencyHeld, DependencyRejected

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
    # receipts against a purchase order line: the goods are here whatever the PO says (docs/purchasing.md)
    "over_receipt": (HELD, True),
    "po_not_open": (HELD, True),
    "serial_not_on_line": (HELD, True),
    # picks into a kit (docs/kits-and-issues.md): the stock is in the tote whatever the kit's state says
    "already_kitted": (HELD, True),
    "kit_not_open": (HELD, True),
    "not_on_kit": (HELD, True),
    # production (docs/production.md): the parts were installed or issued on the floor; a supervisor decides
    "not_on_bom": (HELD, True),
    "run_not_open": (HELD, True),
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
    check_received((dep.op_id for dep in dependencies), {dep.op_id for dep in dependencies if dep.status is not None})
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
