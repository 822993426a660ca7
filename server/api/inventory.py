"""Inventory lists and exports, unit and lot histories, the activity log, and POST /api/ops."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.openapi import ResponseSpec
from litestar.response import Stream
from litestar.status_codes import HTTP_201_CREATED

from server.api.files import disposition
from server.api.params import Limit, Offset
from server.api.schemas import (
    ActivityPage,
    BalancePage,
    BalanceOut,
    Bucket,
    InventoryItem,
    InventoryPage,
    LotHistory,
    MovementOut,
    OpIn,
    OpOut,
    TransactionOut,
    TransactionPage,
    UnitHistory,
)
from server.api.security import actor_of, shown_devices
from server.auth import Principal
from server.errors import OP_ERRORS, NotFound
from server.ops.service import OpRequest, OpsService
from server.queries import InventoryFilter, InventoryQueries, as_utc
from server.rules.status import Status

CSV = "text/csv; charset=utf-8"
CSV_COLUMNS = [
    "id", "part", "unit", "tracking", "serial", "lot", "location", "quantity", "status", "installed_in",
    "supplier", "unit_cost", "isolated", "isolation_reason", "package_ref", "po_line", "expiry", "updated_at",
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
        `status` one of available, unavailable, installed, wip, kitted, on_order, scrapped, removed; `q` searches
        serials, lots, part numbers and descriptions. Emptied lot/untracked rows are hidden unless
        `include_empty=true`."""
        items, total = await queries.page(filters, limit, offset)
        return InventoryPage(items=msgspec.convert(items, list[InventoryItem]), total=total, limit=limit, offset=offset)

    @get("/inventory/export.csv", media_type=CSV)
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
            lines(), media_type=CSV,
            headers=disposition("inventory", "csv"),
        )

    @get("/transactions")
    async def transactions(
        self,
        queries: InventoryQueries,
        part: str | None = None,
        location: str | None = None,
        bucket: Bucket | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> TransactionPage:
        """The signed ledger, newest first: every change of a quantity by bucket (`on_hand`, `on_order`,
        `demand`), part, location and lot, with the op that made it. `part` takes a part number or id,
        `location` a code or id (with sub-locations); `since` (inclusive) and `until` (exclusive) are RFC 3339
        times, UTC when they carry no offset."""
        filters = {"part": part, "location": location, "bucket": bucket, "since": as_utc(since), "until": as_utc(until)}
        items, total = await queries.transactions(filters, limit, offset)
        return TransactionPage(items=msgspec.convert(items, list[TransactionOut]), total=total, limit=limit, offset=offset)

    @get("/balances")
    async def balances(
        self,
        queries: InventoryQueries,
        part: str | None = None,
        location: str | None = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> BalancePage:
        """The ledger's sums per part, location, lot and bucket, those not zero, by part number, location code
        and lot: `on_hand` equals the inventory's quantity on hand there (free and isolated stock; not installed,
        not scrapped)."""
        items, total = await queries.balances({"part": part, "location": location}, limit, offset)
        return BalancePage(items=msgspec.convert(items, list[BalanceOut]), total=total, limit=limit, offset=offset)

    @get("/units/{serial:str}/history", raises=[NotFound])
    async def unit_history(
        self, serial: str, queries: InventoryQueries, request: Request[Principal, str, object]
    ) -> UnitHistory:
        """Where a unit is and where it has been: every op that touched it, oldest first, the
        assemblies it went into, and what is installed in it now."""
        history = await queries.unit_history(serial)
        shown_devices(request.user, history["events"])
        return msgspec.convert(history, UnitHistory)

    @get("/lots/{part:str}/{lot:str}/history", raises=[NotFound])
    async def lot_history(
        self, part: str, lot: str, queries: InventoryQueries, request: Request[Principal, str, object]
    ) -> LotHistory:
        history = await queries.lot_history(part, lot)
        shown_devices(request.user, history["events"])
        return msgspec.convert(history, LotHistory)

    @get("/activity")
    async def activity(
        self,
        queries: InventoryQueries,
        request: Request[Principal, str, object],
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
        """The activity log, newest first: who moved what, where, when and why, and who created or edited
        which part or location (each field from → to in `changes`). `since` (inclusive) and `until`
        (exclusive) are RFC 3339 times, UTC when they carry no offset. `device_id` shows operators their
        own device only."""
        filters: dict[str, Any] = {
            "serial": serial, "lot": lot, "part": part, "location": location, "actor": actor, "action": action,
            "op_type": op_type, "op_id": op_id,
            "since": as_utc(since), "until": as_utc(until),
        }
        items, total = await queries.activity(filters, limit, offset)
        shown_devices(request.user, items)
        return ActivityPage(items=msgspec.convert(items, list[MovementOut]), total=total, limit=limit, offset=offset)


class OpsController(Controller):
    path = "/api/ops"
    tags = ["operations"]

    @post(
        "/", status_code=HTTP_201_CREATED, raises=OP_ERRORS,
        responses={200: ResponseSpec(OpOut, description="A repeated `op_id`: the first result (`replayed: true`)")},
    )
    async def apply(self, data: OpIn, ops: OpsService, request: Request[Principal, str, object]) -> Response[OpOut]:
        """Apply one operation now (the sync protocol's op body without `seq`). Repeating an `op_id`
        returns the first result without applying it again (`replayed: true`)."""
        op = OpRequest(
            op_id=data.op_id, type=data.type, args=data.args, client_time=data.client_time, depends_on=data.depends_on
        )
        outcome = await ops.apply_now(op, actor_of(request.user))
        body = OpOut(op_id=outcome.op_id, status=outcome.status, result=outcome.result, replayed=outcome.replayed)
        return Response(body, status_code=200 if outcome.replayed else 201)
