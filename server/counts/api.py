"""HTTP API of cycle counts (/api/counts): thin controllers over CountService and ScheduleService.

Operators list counts, read a count and its (blind) sheet, and count through `count` ops (POST /api/ops or
sync push). Supervisors plan, start, finish, review, decide, close, and read the schedule and accuracy.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from litestar import Controller, Request, Response, get, post, put
from litestar.params import Parameter
from litestar.status_codes import HTTP_201_CREATED

from server.api.files import disposition
from server.api.params import Limit, Offset
from server.api.security import actor_of, requires
from server.auth import Principal
from server.counts.rules import DEFAULT_HORIZON_DAYS, DEFAULT_WINDOW_DAYS
from server.counts.schedule import ScheduleService
from server.counts.schemas import (
    AccuracyOut, CadenceIn, CloseIn, CloseOut, CountIn, CountOut, CountsPage, DecideIn, DecideOut, DueOut, ReviewOut,
    ScheduleItem, ScheduleOut, SheetOut,
)
from server.counts.service import CountService
from server.counts.sheet import sheet_csv
from server.errors import Conflict, CountNotOpen, NotFound
from server.models import Role

Days = Annotated[int, Parameter(ge=1, le=3650)]
REVIEW_PAGE = 1000  # review lines per response unless asked otherwise: a page a phone can show
ReviewLimit = Annotated[int, Parameter(ge=1, le=100_000)]
SUPERVISOR = [requires(Role.supervisor)]
CSV = "text/csv; charset=utf-8"


class CountsController(Controller):
    path = "/api/counts"
    tags = ["counts"]

    @get("/")
    async def list_counts(self, counts: CountService, status: str | None = None, limit: Limit = 50,
                          offset: Offset = 0) -> CountsPage:
        """Counts, due first. `status`: planned, open, review, closed, or several separated by commas."""
        return await counts.list(status, limit, offset)

    @post("/", status_code=HTTP_201_CREATED, guards=SUPERVISOR, raises=[NotFound])
    async def plan(self, data: CountIn, counts: CountService, request: Request[Principal, str, Any]) -> CountOut:
        """Plan a count: `kind` location (with `location`: it and everything below it) or part (with `part`:
        in every location); `blind` hides expected quantities from the sheet; `closes_locations` locks the
        locations while it is open (location counts only); `due` its date."""
        return await counts.plan(data, actor_of(request.user))

    @get("/{count_id:uuid}", raises=[NotFound])
    async def get_count(self, count_id: UUID, counts: CountService) -> CountOut:
        return await counts.get(count_id)

    @post("/{count_id:uuid}/start", status_code=200, guards=SUPERVISOR, raises=[NotFound, Conflict])
    async def start(self, count_id: UUID, counts: CountService, request: Request[Principal, str, Any]) -> CountOut:
        """Open a planned count for counting; a count that closes its locations locks them now."""
        return await counts.start(count_id, actor_of(request.user))

    @post("/{count_id:uuid}/finish", status_code=200, guards=SUPERVISOR, raises=[NotFound, Conflict])
    async def finish(self, count_id: UUID, counts: CountService) -> CountOut:
        """Counting is done: the count goes to review (recounts are still taken)."""
        return await counts.finish(count_id)

    @get("/{count_id:uuid}/sheet", raises=[NotFound])
    async def sheet(self, count_id: UUID, counts: CountService) -> SheetOut:
        """What should be there (not installed stock): per location, part, lot and serial; a blind count's
        sheet has no expected quantities."""
        return await counts.sheet_out(count_id)

    @get("/{count_id:uuid}/sheet.csv", media_type=CSV, raises=[NotFound])
    async def sheet_as_csv(self, count_id: UUID, counts: CountService) -> Response[str]:
        """The sheet as CSV with an empty `counted` column to fill in (and `expected` unless blind)."""
        count, lines = await counts.sheet(count_id)
        return Response(
            sheet_csv(lines, count.blind), media_type=CSV,
            headers=disposition(f"count-sheet-{count.name}", "csv"),
        )

    @get("/{count_id:uuid}/review", guards=SUPERVISOR, raises=[NotFound])
    async def review(
        self, count_id: UUID, counts: CountService, lines: Literal["all", "open"] = "all",
        limit: ReviewLimit = REVIEW_PAGE, offset: Offset = 0,
    ) -> ReviewOut:
        """Per item: expected and counted, the difference and its value, major or not, likely causes, the
        decision taken; with totals (progress, accuracy) over every line. `lines=open`: only the lines not
        counted or counted wrong. A page of `limit` lines from `offset` (ordered by location, part, lot,
        serial), of `total_lines`."""
        return await counts.review(count_id, only_open=lines == "open", limit=limit, offset=offset)

    @post("/{count_id:uuid}/decide", status_code=200, guards=SUPERVISOR, raises=[NotFound, Conflict, CountNotOpen])
    async def decide(self, count_id: UUID, data: DecideIn, counts: CountService,
                     request: Request[Principal, str, Any]) -> DecideOut:
        """Decide counted lines: `adjust`, `move` (to or back from a count-discrepancy location) or `leave`.
        One result per line; a refused line says why and does not undo the others."""
        return DecideOut(results=await counts.decide(count_id, data, actor_of(request.user)))

    @post("/{count_id:uuid}/close", status_code=200, guards=SUPERVISOR, raises=[NotFound, Conflict, CountNotOpen])
    async def close(self, count_id: UUID, data: CloseIn, counts: CountService,
                    request: Request[Principal, str, Any]) -> CloseOut:
        """Record the results, reopen the locations, and re-evaluate the operations held on them. Expected lines
        not counted refuse it (409 `count_incomplete`) unless `not_counted: true` with a `note` saying why:
        they are then recorded as not counted and count against accuracy."""
        return await counts.close(count_id, data.note, actor_of(request.user), data.not_counted)

    @get("/schedule", guards=SUPERVISOR)
    async def schedule(self, count_schedule: ScheduleService, window_days: Days = DEFAULT_WINDOW_DAYS,
                       horizon_days: Days = DEFAULT_HORIZON_DAYS, today: date | None = None) -> ScheduleOut:
        """Each location's class (value and movement), cadence, last count and next count date."""
        return await count_schedule.schedule(today, window_days, horizon_days)

    @put("/schedule/{location:path}", guards=SUPERVISOR, raises=[NotFound])
    async def set_cadence(self, location: str, data: CadenceIn, count_schedule: ScheduleService) -> ScheduleItem | None:
        """Set a location's own cadence in days (null: back to its class's)."""
        return await count_schedule.set_cadence(location.removeprefix("/"), data)

    @get("/due", guards=SUPERVISOR)
    async def due(self, count_schedule: ScheduleService, horizon_days: Days = DEFAULT_HORIZON_DAYS,
                  today: date | None = None) -> DueOut:
        """Locations due or overdue for a count, and planned or running counts due within the horizon."""
        return await count_schedule.due(today, horizon_days)

    @get("/accuracy", guards=SUPERVISOR, raises=[NotFound])
    async def accuracy(self, count_schedule: ScheduleService, location: str | None = None,
                       since: date | None = None) -> AccuracyOut:
        """Accuracy of closed counts: overall, per count over time, and per location (with sub-locations
        when `location` is given)."""
        return await count_schedule.accuracy(location, since)
