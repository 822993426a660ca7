"""Inventory lists and exports, unit and lot histories, the activity log, and POST /api/ops."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Stream

from server.api.schemas import (
    ActivityPage,
    InventoryItem,
    InventoryPage,
    LotHistory,
    MovementOut,
    OpIn,
    OpOut,
    UnitHistory,
)
from server.api.security import actor_of
from server.auth import Principal
from server.ops.service import OpRequest, OpsService
from server.queries import InventoryFilter, InventoryQueries, as_utc
from server.rules.status import Status

Limit = Annotated[int, Parameter(ge=1, le=500, description="page size (max 500)")]
Offset = Annotated[int, Parameter(ge=0)]
CSV_COLUMNS = [
    "id", "part", "unit", "tracking", "serial", "lot", "location", "quantity", "status", "installed_in",
    "supplier", "unit_cost", "isolated", "isolation_reason", "package_ref", "po_line", "updated_at",
]


def inventory_filter(
    part: str | None = None,
    serial: str | None = None,
    lot: str | None = None,
    location: str | None = None,
    status: Status | None = None,
    q: str | None = None,
    include_empty: bool = False,
) -> InventoryFilter:
    return InventoryFilter(part, serial, lot, location, status, q, include_empty)


class InventoryController(Controller):
    path = "/api"
    tags = ["inventory"]

    @get("/inventory")
    async def list_inventory(
        self, queries: InventoryQueries, filters: InventoryFilter, limit: Limit = 50, offset: Offset = 0
    ) -> InventoryPage:
        """Stock rows. `part` takes a part number or id, `location` a code or id (with sub-locations),
        `status` one of available, unavailable, installed, wip, kitted, on_order, scrapped; `q` searches
        serials, lots, part numbers and descriptions. Emptied lot/untracked rows are hidden unless
        `include_empty=true`."""
        items, total = await queries.page(filters, limit, offset)
        return InventoryPage(items=msgspec.convert(items, list[InventoryItem]), total=total, limit=limit, offset=offset)

    @get("/inventory/export.csv")
    async def export_csv(self, queries: InventoryQueries, filters: InventoryFilter) -> Stream:
        """The same filters, every row, streamed as CSV."""

        async def lines() -> AsyncIterator[str]:
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(CSV_COLUMNS)
            async for row in queries.stream(filters):
                writer.writerow(["" if row[c] is None else row[c] for c in CSV_COLUMNS])
                if buffer.tell() > 64_000:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
            yield buffer.getvalue()

        return Stream(
            lines(), media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="inventory.csv"'},
        )

    @get("/units/{serial:str}/history")
    async def unit_history(self, serial: str, queries: InventoryQueries) -> UnitHistory:
        """Where a unit is and where it has been: every op that touched it, oldest first, the
        assemblies it went into, and what is installed in it now."""
        return msgspec.convert(await queries.unit_history(serial), UnitHistory)

    @get("/lots/{part:str}/{lot:str}/history")
    async def lot_history(self, part: str, lot: str, queries: InventoryQueries) -> LotHistory:
        return msgspec.convert(await queries.lot_history(part, lot), LotHistory)

    @get("/activity")
    async def activity(
        self,
        queries: InventoryQueries,
        serial: str | None = None,
        lot: str | None = None,
        part: str | None = None,
        location: str | None = None,
        actor: str | None = None,
        action: str | None = None,
        op_type: str | None = None,
        op_id: UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> ActivityPage:
        """The movement log, newest first: who moved what, where, when and why. `since` (inclusive) and
        `until` (exclusive) are RFC 3339 times, UTC when they carry no offset."""
        filters: dict[str, Any] = {
            "serial": serial, "lot": lot, "part": part, "location": location, "actor": actor, "action": action,
            "op_type": op_type, "op_id": op_id,
            "since": as_utc(since), "until": as_utc(until),
        }
        items, total = await queries.activity(filters, limit, offset)
        return ActivityPage(items=msgspec.convert(items, list[MovementOut]), total=total, limit=limit, offset=offset)


class OpsController(Controller):
    path = "/api/ops"
    tags = ["operations"]

    @post("/", status_code=200)
    async def apply(self, data: OpIn, ops: OpsService, request: Request[Principal, str, object]) -> Response[OpOut]:
        """Apply one operation now (the sync protocol's op body without `seq`). Repeating an `op_id`
        returns the first result without applying it again (`replayed: true`)."""
        op = OpRequest(op_id=data.op_id, type=data.type, args=data.args, client_time=data.client_time)
        outcome = await ops.apply_now(op, actor_of(request.user))
        body = OpOut(op_id=outcome.op_id, status=outcome.status, result=outcome.result, replayed=outcome.replayed)
        return Response(body, status_code=200 if outcome.replayed else 201)
