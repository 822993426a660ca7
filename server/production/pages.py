"""Supervisor pages for production, behind the supervisor pages' cookie sign-in and CSRF (server/supervisor/):
the runs (by state), one run with its requirements, what was issued and produced (start, complete, fail or
cancel it), and the printable traceability report of a unit or a lot. Every action goes through RunService, as
the API's do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template

from server.api.security import actor_of
from server.errors import DomainError
from server.i18n import translator
from server.ops.registry import OP_TYPES
from server.production.runs import RunService
from server.production.trace import ProductionQueries
from server.supervisor.shell import Session, checked_form, document_page, message, page

TEMPLATES = Path(__file__).parent / "templates"  # the app factory adds it to the template directories
BASE = "/supervisor/runs"
TABS = ("open", "planned", "failed", "completed", "cancelled", "all")
ACTIONS = ("start", "complete", "fail", "cancel")
PAGE = 50


def _page(name: str, session: Session, status_code: int = 200, **context: Any) -> Template:
    return page(f"production/{name}", session, status_code, **context)


@get("/runs")
async def runs_page(session: Session, runs: RunService,
                    run_state: Annotated[str, Parameter(query="state")] = "open") -> Template:
    state = run_state if run_state in TABS else "open"
    found = await runs.list(None if state == "all" else state, None, PAGE, 0)
    return _page("runs.html", session, found=found, state=state, tabs=TABS)


async def _run_page(request: Request, session: Session, runs: RunService, number: str, status_code: int = 200,
                    error: str | None = None) -> Template:
    return await document_page(request, session, "run", "production/run.html", number, runs.get, status_code,
                               error=error)


@get("/runs/{number:str}")
async def run_page(number: str, request: Request, session: Session, runs: RunService) -> Template:
    return await _run_page(request, session, runs, number)


@post("/runs/{number:str}/{action:str}", status_code=200)
async def act(number: str, action: str, request: Request, session: Session, runs: RunService) -> Response[Any]:
    await checked_form(request, session)
    if action not in ACTIONS:
        return await _run_page(request, session, runs, number, 404, translator(request)("run.no_such_action"))
    try:
        await runs.act(number, action, actor_of(session.principal))
    except DomainError as error:
        return await _run_page(request, session, runs, number, error.status_code, error.message)
    return Redirect(f"{BASE}/{number}", status_code=303)


@get("/trace")
async def trace_page(request: Request, session: Session, production: ProductionQueries, serial: str = "",
                     part: str = "", lot: str = "") -> Template:
    """The printable traceability report; without a serial or part and lot, the form that asks for one."""
    serial, part, lot = serial.strip(), part.strip(), lot.strip()
    report, error = None, None
    if serial or part or lot:
        try:
            report = await production.trace(serial or None, part or None, lot or None)
        except DomainError as failed:
            error = failed.message
    return _page("trace.html", session, 404 if error else 200, report=report, error=error, serial=serial, part=part,
                 lot=lot, op_names=OP_TYPES)


PRODUCTION_PAGES = [runs_page, run_page, act, trace_page]
