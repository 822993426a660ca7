"""HTTP API of quality issues: anyone signed in opens one (the `open_issue` op applied now) and reads them;
supervisors close them with a disposition."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.status_codes import HTTP_201_CREATED

from server.api.params import Limit, Offset
from server.api.security import actor_of, requires
from server.auth import Principal
from server.errors import Invalid, IssueNotOpen, LocationLocked, NotFound
from server.models import Role
from server.quality.schemas import CloseIn, IssueOut, IssuePage, OpenIssue
from server.quality.service import IssueService

SUPERVISOR = [requires(Role.supervisor)]


class IssuesController(Controller):
    path = "/api/issues"
    tags = ["quality"]

    @post("/", status_code=HTTP_201_CREATED, raises=[NotFound, Invalid])
    async def open_issue(self, data: OpenIssue, issues: IssueService, request: Request[Principal, str, Any]) -> IssueOut:
        """An open issue on a unit (`serial`), a lot (`part` + `lot`) or a row (`part` + `location`); with
        `isolate: true` the stock it names is set aside (Unavailable) in the same op. The same as the op
        `open_issue` (POST /api/ops, or a push from an offline phone)."""
        return await issues.open(data, actor_of(request.user))

    @get("/")
    async def list_issues(self, issues: IssueService, status: str | None = None, part: str | None = None,
                          serial: str | None = None, lot: str | None = None, limit: Limit = 50,
                          offset: Offset = 0) -> IssuePage:
        """Issues, newest first. `status`: open or closed; `part` (a part number), `serial`, `lot`."""
        return await issues.list(status, part, serial, lot, limit, offset)

    @get("/{number:str}", raises=[NotFound])
    async def get_issue(self, number: str, issues: IssueService) -> IssueOut:
        """One issue, by its number or its id, with the stock it isolated."""
        return await issues.get(number)

    @post("/{number:str}/close", status_code=200, guards=SUPERVISOR, raises=[NotFound, IssueNotOpen, LocationLocked])
    async def close(self, number: str, data: CloseIn, issues: IssueService,
                    request: Request[Principal, str, Any]) -> IssueOut:
        """Close an open issue: `use_as_is` and `rework` release what it isolated, `scrap` scraps it,
        `return_to_supplier` moves it to the supplier-return location (`SUPPLIER-RETURN`, made on first use) and
        removes it there (gone from stock; a unit stays findable, Removed). Both cost it from the part's layers.
        Without an isolation, scrap and return act on what it names now."""
        return await issues.close(number, data, actor_of(request.user))
