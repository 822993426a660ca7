"""HTTP API of purchasing: thin controllers over PurchasingService and ReplenishmentService.

Everyone signed in reads purchase orders, constraints and the replenishment list; supervisors create,
open, cancel and close, set constraints and draft POs from the replenishment list.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post, put
from litestar.params import Parameter
from litestar.status_codes import HTTP_201_CREATED

from server.api.params import Limit, Offset
from server.api.security import actor_of, requires
from server.auth import Principal
from server.errors import AlreadyExists, Conflict, DuplicateSerial, NotFound, PoNotOpen, TrackingMismatch
from server.models import Role
from server.purchasing.replenishment import ReplenishmentService
from server.purchasing.schemas import (
    ConstraintIn, ConstraintOut, ConstraintsPage, DraftIn, DraftOut, PoIn, PoOut, PoPage, ReplenishmentOut,
)
from server.purchasing.service import PurchasingService

SUPERVISOR = [requires(Role.supervisor)]
LineNo = Annotated[int, Parameter(ge=1, le=1_000_000, description="the line's number on its PO: 1, 2, …")]


class PurchaseOrdersController(Controller):
    path = "/api/purchase-orders"
    tags = ["purchasing"]

    @post("/", status_code=HTTP_201_CREATED, guards=SUPERVISOR,
          raises=[NotFound, AlreadyExists, DuplicateSerial, TrackingMismatch])
    async def create(self, data: PoIn, purchasing: PurchasingService, request: Request[Principal, str, Any]) -> PoOut:
        """A draft purchase order to `supplier` (picked by name in any case, or created). `number` from the pattern
        (GEMBA_PO_NUMBER_PATTERN, default `PO-{yyyy}-{seq:04}`) when omitted; lines are numbered 1, 2, … and
        named `NUMBER/LINE`. A line lists `serials` (one per unit) or a `lot` when they are known; `location`
        is where it will be received (default: the first incoming location by code). `unit_price` is money:
        a decimal string, at most 6 decimal places, in the installation's currency."""
        return await purchasing.create(data, actor_of(request.user))

    @get("/")
    async def list_orders(
        self, purchasing: PurchasingService, status: str | None = None, supplier: str | None = None,
        part: str | None = None, limit: Limit = 50, offset: Offset = 0,
    ) -> PoPage:
        """Purchase orders, newest first. `status`: draft, open, received, cancelled, or several separated by
        commas; `supplier`: a name (any case) or code; `part`: the POs with a line of that part number."""
        return await purchasing.list(status, supplier, part, limit, offset)

    @get("/{number:str}", raises=[NotFound])
    async def get_order(self, number: str, purchasing: PurchasingService) -> PoOut:
        """One purchase order: each line with `ordered`, `received`, `remaining` and `status` (open, received,
        closed_short, cancelled), its unit price and total."""
        return await purchasing.get(number)

    @post("/{number:str}/open", status_code=200, guards=SUPERVISOR, raises=[NotFound, Conflict, DuplicateSerial])
    async def open_order(self, number: str, purchasing: PurchasingService,
                         request: Request[Principal, str, Any]) -> PoOut:
        """Open a draft: its goods are on order. Each line's inventory rows are made, status On order (a unit per
        listed serial, else one row of the quantity), and the ledger's `on_order` grows by each line."""
        return await purchasing.open(number, actor_of(request.user))

    @post("/{number:str}/cancel", status_code=200, guards=SUPERVISOR, raises=[NotFound, Conflict])
    async def cancel_order(self, number: str, purchasing: PurchasingService,
                           request: Request[Principal, str, Any]) -> PoOut:
        """Cancel a draft or an open PO: its open lines are cancelled, their rows still on order become
        Unavailable and leave `on_order`."""
        return await purchasing.cancel(number, actor_of(request.user))

    @post("/{number:str}/lines/{line:int}/close", status_code=200, guards=SUPERVISOR, raises=[NotFound, PoNotOpen])
    async def close_line(self, number: str, line: LineNo, purchasing: PurchasingService,
                         request: Request[Principal, str, Any]) -> PoOut:
        """Close an open line short: what was not received leaves `on_order` and its rows (emptied). A PO whose
        lines are all received or closed is `received`."""
        return await purchasing.close_line(number, line, actor_of(request.user))


class ConstraintsController(Controller):
    path = "/api"
    tags = ["purchasing"]

    @put("/constraints", guards=SUPERVISOR, raises=[NotFound])
    async def set_constraint(self, data: ConstraintIn, replenishment: ReplenishmentService,
                             request: Request[Principal, str, Any]) -> ConstraintOut:
        """Set the min and max stock of a part in a location and everything below it; neither removes it."""
        return await replenishment.put(data, actor_of(request.user))

    @get("/constraints", raises=[NotFound])
    async def list_constraints(self, replenishment: ReplenishmentService, part: str | None = None,
                               location: str | None = None, limit: Limit = 50, offset: Offset = 0) -> ConstraintsPage:
        """Constraints, by location code and part number; `location`: at it and below."""
        return await replenishment.list(part, location, limit, offset)

    @get("/replenishment", raises=[NotFound])
    async def below_min(self, replenishment: ReplenishmentService, location: str | None = None) -> ReplenishmentOut:
        """Every constraint (at `location` and below) whose available quantity there and below is under its min,
        with what is on order, and `suggested` = max (else min) − available − on order, never below 0; the
        part's last supplier and unit price."""
        return await replenishment.below_min(location)

    @post("/replenishment/draft-po", status_code=HTTP_201_CREATED, guards=SUPERVISOR, raises=[NotFound])
    async def draft(self, data: DraftIn, replenishment: ReplenishmentService,
                    request: Request[Principal, str, Any]) -> DraftOut:
        """One draft PO per supplier (each part's last supplier) with the suggested quantities at the last unit
        prices. Left out (`skipped`, with why): nothing to order, already on a draft, no supplier known."""
        return await replenishment.draft(data, actor_of(request.user))
