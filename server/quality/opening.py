"""Opening a quality issue: the `open_issue` op (`title, description?, serial? | part + lot? | part + location?,
isolate?`), online (POST /api/issues applies it now) and from an offline phone alike.

The issue is numbered `ISSUE-0001`, … from a counter in the op's transaction and written with the op's
other rows. With `isolate`, what it names is set aside in the same op, where it is: the unit, or every row of
the lot (in every location), or the part's rows at the location — stock in a location (not installed, not
scrapped, not on order), not isolated already; a row in a location closed for a cycle count is left as it is
(`not_isolated` in the result). Each is recorded (`quality_issue_stock`) for the issue's close.
"""

from __future__ import annotations

from typing import Any

from server.clock import bump_counter
from server.ops.stock import OpContext, new_id
from server.quality.models import Issue, IssueStatus, IssueStock
from server.quality.schemas import OpenIssue
from server.quality.stock import named_rows, set_aside
from server.rules import quality as rules
from server.models import Part


async def open_issue(ctx: OpContext, args: OpenIssue) -> dict[str, Any]:
    rules.check_subject(args.serial, args.part, args.lot, args.location)
    unit = await ctx.unit(args.serial) if args.serial is not None else None
    part = await ctx.session.get_one(Part, unit.part_id) if unit is not None else await ctx.part(args.part or "")
    location = await ctx.location(args.location, writable=False) if args.location is not None else None
    number = rules.ISSUE_NUMBER.format(seq=await bump_counter(ctx.session, "issue"))
    issue_id = new_id()
    ctx.trail.records.append((Issue.__table__, {
        "id": issue_id, "number": number, "op_id": ctx.op_id, "title": args.title, "description": args.description,
        "part_id": part.id, "serial": args.serial, "lot": args.lot, "location_id": location.id if location else None,
        "isolate": args.isolate, "status": IssueStatus.open.value, "opened_by": ctx.actor.username,
    }))
    isolated: list[dict[str, Any]] = []
    skipped: list[str] = []
    if args.isolate:
        reason = rules.isolation_reason(number, args.title)
        if unit is not None:
            rows = [unit] if unit.installed_in_id is None and not unit.scrapped and unit.quantity > 0 \
                and unit.po_state is None and not unit.isolated else []
        else:
            rows = await named_rows(ctx, part, args.lot, location)
        for row in rows:
            where = await ctx.location_by_id(row.location_id)
            if where.count_locked:
                skipped.append(where.code)
                continue
            quantity = row.quantity
            moved = await set_aside(ctx, part, row, quantity, isolated=True, reason=reason)
            ctx.trail.records.append((IssueStock.__table__, {
                "id": new_id(), "issue_id": issue_id, "inventory_id": moved.id, "quantity": quantity}))
            isolated.append({"inventory_id": str(moved.id), "serial": moved.serial, "lot": moved.lot,
                             "location": where.code, "quantity": quantity})
    result: dict[str, Any] = {
        "issue": number, "part": part.part_number, "serial": args.serial, "lot": args.lot,
        "location": location.code if location else None, "isolated": isolated,
    }
    if skipped:
        result["not_isolated"] = sorted(set(skipped))  # closed for a cycle count
    return result
