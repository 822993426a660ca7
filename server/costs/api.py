"""HTTP API of costs (docs/costs.md): the FIFO report, usage and the valuation. Everyone signed in reads
the FIFO report and usage; the valuation is a supervisor's."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, get
from litestar.response import Stream

from server.api.files import disposition
from server.api.params import Limit, Offset
from server.api.security import requires
from server.costs.read import USAGE_CSV_COLUMNS, CostQueries
from server.models import Role
from server.ops.args import Amount
from server.queries import as_utc
from server.rules.money import money_text

CSV = "text/csv; charset=utf-8"
SUPERVISOR = [requires(Role.supervisor)]
VALUATION_CSV_COLUMNS = ["part", "description", "unit", "quantity", "fifo_value", "average_price", "average_value"]


class Out(msgspec.Struct, kw_only=True):
    pass


class HeldOut(Out, kw_only=True):
    """Where some of a layer is: the row holding it (its location, with the path from the top of the tree, the
    unit or lot, the unit it is installed in) and how much of the layer it holds."""

    location: str
    path: str
    serial: str | None
    lot: str | None
    installed_in: str | None
    isolated: bool
    quantity: Amount


class LayerOut(Out, kw_only=True):
    """A cost layer: what a receipt (or found stock) added, what is left of it, its value (money as decimal
    strings) and where what is left is (`held`). `kind`: receipt, found, opening, produced (built by a run, at
    its components' cost), built_in (components a run built in: their value is in the assembly's), made (Made
    on Assembly components)."""

    id: UUID
    part: str
    kind: str
    package_ref: str | None
    po_line: str | None
    received_at: datetime
    quantity_received: Amount
    quantity_remaining: Amount
    unit_cost: str
    value: str
    average_price: str  # the part's average price after this layer came
    op_id: UUID
    held: list[HeldOut]


class LayerPage(Out, kw_only=True):
    items: list[LayerOut]
    total: int
    limit: int
    offset: int


class UsageOut(Out, kw_only=True):
    id: UUID
    used_at: datetime
    op_type: str
    part: str
    location: str
    serial: str | None
    lot: str | None
    quantity: Amount
    cost: str
    reason: str | None
    reference: str | None
    actor: str
    op_id: UUID


class UsagePage(Out, kw_only=True):
    items: list[UsageOut]
    total: int
    limit: int
    offset: int
    total_cost: str  # of every record of the filters, not only this page's
    currency: str


class ValuationRow(Out, kw_only=True):
    part: str
    description: str
    unit: str
    quantity: Amount
    fifo_value: str
    average_price: str | None
    average_value: str | None


class Valuation(Out, kw_only=True):
    items: list[ValuationRow]
    fifo_value: str
    average_value: str
    currency: str


def csv_stream(columns: list[str], batches: AsyncIterator[list[Sequence[Any]]]) -> AsyncIterator[str]:
    """Batches of rows (values in `columns`' order; None is empty) as CSV text, in pieces of about 64 kB."""

    async def lines() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        async for rows in batches:
            writer.writerows(rows)
            if buffer.tell() > 64_000:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return lines()


async def _one_batch(items: list[dict[str, Any]], columns: list[str]) -> AsyncIterator[list[Sequence[Any]]]:
    yield [[item.get(c) for c in columns] for item in items]


def usage_filters(part: str | None, since: datetime | None, until: datetime | None, reason: str | None) -> dict[str, Any]:
    return {"part": part, "since": as_utc(since), "until": as_utc(until), "reason": reason}


class CostsController(Controller):
    path = "/api"
    tags = ["costs"]

    @get("/costs/layers")
    async def layers(
        self, costs: CostQueries, part: str | None = None, open: bool = False, limit: Limit = 50, offset: Offset = 0,
    ) -> LayerPage:
        """The FIFO report: cost layers by part number, oldest first (the order FIFO takes them), each with what
        is left, its value and where it is (`held`: the rows holding it, by location). `part` takes a part number
        or id; `open=true` lists only layers with stock left."""
        items, count = await costs.layers(part, open, limit, offset)
        return LayerPage(items=msgspec.convert(items, list[LayerOut]), total=count, limit=limit, offset=offset)

    @get("/usage")
    async def usage(
        self, costs: CostQueries, part: str | None = None, since: datetime | None = None, until: datetime | None = None,
        reason: str | None = None, limit: Limit = 50, offset: Offset = 0,
    ) -> UsagePage:
        """Stock used (`remove`), scrapped or adjusted down, oldest first, each with its FIFO cost; `total_cost`
        is the cost of goods used by the filters. `since` (inclusive) and `until` (exclusive) are RFC 3339 times
        (UTC without an offset); `reason` an exact reason."""
        items, count, cost = await costs.usage(usage_filters(part, since, until, reason), limit, offset)
        return UsagePage(items=msgspec.convert(items, list[UsageOut]), total=count, limit=limit, offset=offset,
                         total_cost=money_text(cost), currency=costs.currency)

    @get("/usage.csv", media_type=CSV)
    async def usage_csv(
        self, costs: CostQueries, part: str | None = None, since: datetime | None = None, until: datetime | None = None,
        reason: str | None = None,
    ) -> Stream:
        """The same filters, every record, streamed as CSV (`used_at` in RFC 3339, as in JSON)."""
        rows = costs.usage_rows(usage_filters(part, since, until, reason))
        return Stream(csv_stream(USAGE_CSV_COLUMNS, rows), media_type=CSV, headers=disposition("usage", "csv"))

    @get("/valuation", guards=SUPERVISOR)
    async def valuation(self, costs: CostQueries, location: str | None = None, part: str | None = None) -> Valuation:
        """Per part held in the location subtree (code or id; everywhere without one): quantity held (on hand,
        isolated and installed), FIFO value, average price and average value; the totals, in `currency`."""
        return msgspec.convert(await costs.valuation(location, part), Valuation)

    @get("/valuation.csv", media_type=CSV, guards=SUPERVISOR)
    async def valuation_csv(self, costs: CostQueries, location: str | None = None, part: str | None = None) -> Stream:
        """The valuation's rows as CSV, and a last row of totals."""
        found = await costs.valuation(location, part)
        totals = {"part": f"total ({found['currency']})", "fifo_value": found["fifo_value"],
                  "average_value": found["average_value"]}
        rows = [*found["items"], {key: totals.get(key) for key in VALUATION_CSV_COLUMNS}]
        return Stream(csv_stream(VALUATION_CSV_COLUMNS, _one_batch(rows, VALUATION_CSV_COLUMNS)), media_type=CSV,
                      headers=disposition("valuation", "csv"))
