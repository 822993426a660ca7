"""Tracking rules as pure functions: which arguments fit which tracking type, and when a part may
switch tracking type.
"""

from __future__ import annotations

from server.errors import TrackingChanged, TrackingMismatch
from server.models import Tracking


def check_declared(part_number: str, declared: str, actual: str) -> None:
    """The device's belief about the part's tracking must match the server's (sync protocol §2)."""
    if declared != actual:
        raise TrackingChanged(
            f"Part {part_number} is {actual}-tracked on the server; the operation was made for {declared}",
            field="tracking",
            server_tracking=actual,
        )


def check_item_args(
    tracking: str, *, serial: str | None, lot: str | None, quantity: int | None, lot_allowed_on_serial: bool
) -> None:
    """Arguments naming stock must fit its tracking type."""
    if tracking == Tracking.serial:
        if quantity is not None and quantity != 1:
            raise TrackingMismatch(f"a serialized unit has quantity 1, not {quantity}", field="quantity")
        if lot is not None and not lot_allowed_on_serial:
            raise TrackingMismatch("name a serialized unit by its serial alone", field="lot")
    elif tracking == Tracking.lot:
        if serial is not None:
            raise TrackingMismatch("a lot-tracked part has no serials", field="serial")
    else:
        if serial is not None:
            raise TrackingMismatch("an untracked part has no serials", field="serial")
        if lot is not None:
            raise TrackingMismatch("an untracked part has no lots", field="lot")


BLOCKER_KINDS = ("on_hand", "isolated", "installed", "on_order")
# What ends each kind of blocking row, with the ops that exist (a row stops blocking once it is scrapped or
# at quantity 0): `scrap`, a supervisor's `adjust` to zero, `release`, `uninstall`; a row on order stops
# blocking when its purchase order line is closed short or its PO cancelled (it will not come).
BLOCKER_FIX = {
    "on_hand": "scrap it, or adjust it to zero (a supervisor's adjust)",
    "isolated": "scrap it with isolated: true, or release it and adjust it to zero",
    "installed": "uninstall it from its assembly, then scrap it or adjust it to zero",
    "on_order": "close its purchase order line short, or cancel the purchase order",
}
BLOCKER_WHAT = {"on_hand": "on hand", "isolated": "isolated", "installed": "installed in an assembly",
                "on_order": "on order"}


def switch_blockers(current: str, new: str, rows_by_tracking: dict[str, int]) -> tuple[int, str] | None:
    """None when switching `current` → `new` is allowed; else (blocking row count, explanation).

    serial → lot/untracked: refused while serialized rows exist.
    lot → serial/untracked: refused while lot-tracked rows exist.
    untracked → serial/lot: allowed; existing rows stay untracked.
    """
    if current == new or current == Tracking.untracked:
        return None
    blocking = rows_by_tracking.get(current, 0)
    if blocking == 0:
        return None
    noun = "serialized unit" if current == Tracking.serial else "lot-tracked row"
    plural = "s" if blocking != 1 else ""
    return blocking, f"{blocking} {noun}{plural} of this part exist{'s' if blocking == 1 else ''}"


def blocker_advice(rows_by_kind: dict[str, int]) -> tuple[str, list[dict[str, object]]]:
    """What to do with the blocking rows of each kind (on hand, isolated, installed): a sentence, and per
    kind {kind, rows, fix}."""
    kinds = [{"kind": kind, "rows": rows_by_kind[kind], "fix": BLOCKER_FIX[kind]}
             for kind in BLOCKER_KINDS if rows_by_kind.get(kind)]
    text = "; ".join(f"{k['rows']} {BLOCKER_WHAT[str(k['kind'])]}: {k['fix']}" for k in kinds)
    return text, kinds
