"""A kit for a run, completed: what is in its tote is issued to the run (server/production/ops.py `issue`), in
the kit's own write batch, so the components become WIP on the run and the run's demand for them is reversed by
the run's own rule.

Each live row in the tote (a unit, a lot's bucket, an untracked quantity; not installed, not scrapped) is one
`issue` op from the tote, in its own SAVEPOINT: a row the run refuses (a part it does not require: `not_on_bom`,
…) stays in the tote, released, and the kit's answer says why. Stock set aside (isolated) in the tote is not
issued. A kit whose run is not open, or does not exist, completes by releasing everything, and says so (the
op's refusal, `run_not_open` or an unknown `run`, tells: kits sit beside production, not above it).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from server.actor import Actor
from server.errors import DomainError
from server.kits.models import Kit
from server.kits.schemas import ClosedItem, KitClosing
from server.models import InventoryRow, Location, Part
from server.ops.batch import WriteBatch
from server.ops.registry import parse_args
from server.ops.service import OpRequest, apply_op
from server.ops.stock import new_id

IN_TOTE = (
    select(InventoryRow.serial, InventoryRow.lot, InventoryRow.quantity, InventoryRow.isolated, Part.part_number,
           Part.tracking)
    .join(Part, Part.id == InventoryRow.part_id)
    .where(InventoryRow.installed_in_id.is_(None), InventoryRow.scrapped.is_(False), InventoryRow.quantity > 0)
    .order_by(Part.part_number, InventoryRow.serial, InventoryRow.lot, InventoryRow.id)
)


async def issue_to_run(batch: WriteBatch, kit: Kit, tote: Location, actor: Actor, version: int) -> KitClosing:
    """Issue what is in the (released) tote to the kit's run; what is not issued stays there, Available. Whether
    the run is open, or exists, the `issue` op says (kits know runs only by their number and the op)."""
    rows = (await batch.session.execute(IN_TOTE.where(InventoryRow.location_id == tote.id))).all()
    issued, kept = [], []
    for row in rows:
        if row.isolated:
            kept.append(_item(row, "isolated", "set aside (isolated): not issued"))
            continue
        args = parse_args("issue", _issue_args(kit.run, tote.code, row))
        try:
            async with batch.savepoint():
                await apply_op(batch, OpRequest(new_id(), "issue", args), args, actor, version)
        except DomainError as error:
            await batch.refresh()
            if _about_the_run(error):  # not open, or no such run: nothing is issued, everything released
                return KitClosing(run=kit.run, released=[_item(row) for row in rows], note=f"Released: {error.message}")
            kept.append(_item(row, error.reason, error.message))
        else:
            issued.append(_item(row))
    if not rows:
        return KitClosing(run=kit.run, note=f"Nothing to issue to run {kit.run}: the tote is empty")
    note = f"Issued to run {kit.run}" + (f"; {len(kept)} not issued, released in the tote" if kept else "")
    return KitClosing(run=kit.run, issued=issued, released=kept, note=note)


def _about_the_run(error: DomainError) -> bool:
    return error.reason == "run_not_open" or (error.reason == "unknown_reference" and error.field == "args.run")


def _issue_args(run: str | None, tote: str, row: Any) -> dict[str, Any]:
    args = {"run": run, "part": row.part_number, "tracking": getattr(row.tracking, "value", row.tracking), "from_location": tote,
            "quantity": row.quantity}
    if row.serial is not None:
        args["serial"] = row.serial
    if row.lot is not None:
        args["lot"] = row.lot
    return args


def _item(row: Any, reason: str | None = None, message: str | None = None) -> ClosedItem:
    return ClosedItem(part=row.part_number, serial=row.serial, lot=row.lot, quantity=row.quantity, reason=reason,
                      message=message)
