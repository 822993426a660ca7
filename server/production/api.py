"""HTTP API of production: thin controllers over the BOM and run services and production's read side.

Everyone signed in reads BOMs, runs, what expires and the traceability report; supervisors set BOMs and plan,
start, complete, fail and cancel runs. Issuing to a run and building with it are ops (`issue`,
`complete_run`: POST /api/ops, or a phone's push).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import Parameter
from litestar.status_codes import HTTP_201_CREATED

from server.api.catalog import PART_RESOURCES
from server.api.params import Limit, Offset
from server.api.security import actor_of, requires
from server.auth import Principal
from server.errors import AlreadyExists, Invalid, NotFound, RunNotOpen
from server.models import Role
from server.ops.args import invalid_from
from server.production.runs import RunService
from server.production.schemas import BomIn, BomOut, ExpiringPage, RunIn, RunOut, RunPage, TraceOut
from server.production.trace import ProductionQueries

SUPERVISOR = [requires(Role.supervisor)]
StateParam = Annotated[str | None, Parameter(query="state", description="planned, open, completed, failed, cancelled")]
Days = Annotated[int, Parameter(ge=0, le=3650, description="how many days ahead (0: expired already or today)")]


async def _get_bom(request: Request[Any, Any, Any], number: str) -> BomOut:
    """GET /api/parts/{number}/bom?revision=: the BOM of the part's revision (its current one unless given); no
    lines when it has none."""
    return await request.app.state["boms"].get(number, request.query_params.get("revision"))


async def _put_bom(request: Request[Any, Any, Any], number: str) -> BomOut:
    """PUT /api/parts/{number}/bom (supervisor): set the BOM of the part's revision — each line a component part,
    its `quantity` per assembly and whether it is `made_on_assembly`. `install` onto a unit of the part then takes
    only what the BOM lists (`not_on_bom`)."""
    try:
        data = msgspec.json.decode(await request.body(), type=BomIn)
    except msgspec.ValidationError as error:
        invalid = invalid_from(error, prefix="body")
        invalid.field = (invalid.field or "body").removeprefix("body.")
        raise invalid from None
    except msgspec.DecodeError:
        raise Invalid("body: not a JSON object", field="body") from None
    return await request.app.state["boms"].put(number, data, actor_of(request.user))


PART_RESOURCES[("GET", "bom")] = _get_bom
PART_RESOURCES[("PUT", "bom")] = _put_bom


class RunsController(Controller):
    path = "/api/runs"
    tags = ["production"]

    @post("/", status_code=HTTP_201_CREATED, guards=SUPERVISOR, raises=[NotFound, AlreadyExists])
    async def create(self, data: RunIn, runs: RunService, request: Request[Principal, str, Any]) -> RunOut:
        """A planned run of `quantity` of `part`, built at `location`; its requirements are the BOM of the part's
        revision times the quantity. `number` from RUN-{yyyy}-{seq:04} unless given; `serials` (one per unit) or a
        `lot` when they are known."""
        return await runs.create(data, actor_of(request.user))

    @get("/", raises=[Invalid])
    async def list_runs(self, runs: RunService, run_state: StateParam = None, part: str | None = None,
                        limit: Limit = 50, offset: Offset = 0) -> RunPage:
        """Runs, newest first; `state`: planned, open, completed, failed, cancelled (or several, by commas)."""
        return await runs.list(run_state, part, limit, offset)

    @get("/{run:str}", raises=[NotFound])
    async def get_run(self, run: str, runs: RunService) -> RunOut:
        """One run: its requirements (required, issued, consumed, remaining to issue per component), what was
        issued to it and what it produced."""
        return await runs.get(run)

    @post("/{run:str}/start", status_code=200, guards=SUPERVISOR, raises=[NotFound, RunNotOpen, AlreadyExists])
    async def start(self, run: str, runs: RunService, request: Request[Principal, str, Any]) -> RunOut:
        """Open a planned run: its WIP location `<location>/<number>` is made and `demand` posted per component."""
        return await runs.act(run, "start", actor_of(request.user))

    @post("/{run:str}/complete", status_code=200, guards=SUPERVISOR, raises=[NotFound, RunNotOpen])
    async def complete(self, run: str, runs: RunService, request: Request[Principal, str, Any]) -> RunOut:
        """Close an open run as completed: what is left in its WIP location goes back to its location and the
        demand not met is given up."""
        return await runs.act(run, "complete", actor_of(request.user))

    @post("/{run:str}/fail", status_code=200, guards=SUPERVISOR, raises=[NotFound, RunNotOpen])
    async def fail(self, run: str, runs: RunService, request: Request[Principal, str, Any]) -> RunOut:
        """Mark an open run failed: its components stay WIP until moved out of its WIP location, scrapped, or
        the run is cancelled."""
        return await runs.act(run, "fail", actor_of(request.user))

    @post("/{run:str}/cancel", status_code=200, guards=SUPERVISOR, raises=[NotFound, RunNotOpen])
    async def cancel(self, run: str, runs: RunService, request: Request[Principal, str, Any]) -> RunOut:
        """Cancel a planned, open or failed run: what is left in its WIP location goes back to its location."""
        return await runs.act(run, "cancel", actor_of(request.user))


class ProductionReadController(Controller):
    path = "/api"
    tags = ["production"]

    @get("/expiring")
    async def expiring(self, production: ProductionQueries, days: Days = 30) -> ExpiringPage:
        """Stock whose lot (or unit) expires within `days` from today (UTC), or has expired: earliest first, with
        `days_left` (negative: expired that many days ago). An expired lot is Unavailable from its expiry date."""
        return await production.expiring(days)

    @get("/trace", raises=[NotFound, Invalid])
    async def trace(self, production: ProductionQueries, serial: str | None = None, part: str | None = None,
                    lot: str | None = None) -> TraceOut:
        """The genealogy of a unit (`serial`) or a lot (`part` and `lot`): `down` what it is made of, `up` the
        assemblies it is in, `runs` the runs that touched it, `ops` every op on them."""
        return await production.trace(serial, part, lot)


CONTROLLERS = [RunsController, ProductionReadController]
