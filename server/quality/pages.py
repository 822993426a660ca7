"""Supervisor pages for quality issues, behind the supervisor pages' cookie sign-in and CSRF
(server/supervisor/): the issues (open, closed, all, with a form to open one) and one issue with what it
isolated and the form to close it with a disposition. Every action goes through IssueService, as the API's
do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template

from server.api.security import actor_of
from server.errors import DomainError
from server.i18n import translator
from server.quality.models import Disposition
from server.quality.schemas import CloseIn, OpenIssue
from server.quality.service import IssueService
from server.supervisor.shell import Session, checked_form, document_page, form_struct, message, page

TEMPLATES = Path(__file__).parent / "templates"  # the app factory adds it to the template directories
BASE = "/supervisor/issues"
TABS = ("open", "closed", "all")
FIELDS = ("title", "description", "serial", "part", "lot", "location")


@get("/issues")
async def issues_page(session: Session, issues: IssueService, status: str = "open") -> Template:
    status = status if status in TABS else "open"
    found = await issues.list(None if status == "all" else status, None, None, None, 50, 0)
    return page("issues/list.html", session, found=found, status=status, tabs=TABS)


@post("/issues", status_code=200)
async def create(request: Request, session: Session, issues: IssueService) -> Response[Any]:
    form = await checked_form(request, session)
    try:
        body: dict[str, Any] = {name: form.get(name, "").strip() for name in FIELDS}
        body["isolate"] = form.get("isolate") == "on"
        made = await issues.open(form_struct(body, OpenIssue), actor_of(session.principal))
    except DomainError as error:
        return message(session, error.status_code, translator(request)("issue.not_made"), error.message)
    return Redirect(f"{BASE}/{made.number}", status_code=303)


async def _issue_page(request: Request, session: Session, issues: IssueService, number: str, status_code: int = 200,
                      error: str | None = None) -> Template:
    return await document_page(request, session, "issue", "issues/issue.html", number, issues.get, status_code,
                               error=error, dispositions=[d.value for d in Disposition])


@get("/issues/{number:str}")
async def issue_page(number: str, request: Request, session: Session, issues: IssueService) -> Template:
    return await _issue_page(request, session, issues, number)


@post("/issues/{number:str}/close", status_code=200)
async def close(number: str, request: Request, session: Session, issues: IssueService) -> Response[Any]:
    form = await checked_form(request, session)
    try:
        body = {"disposition": form.get("disposition", ""), "note": form.get("note", "").strip()}
        await issues.close(number, form_struct(body, CloseIn), actor_of(session.principal))
    except DomainError as error:
        return await _issue_page(request, session, issues, number, error.status_code, error.message)
    return Redirect(f"{BASE}/{number}", status_code=303)


ISSUE_PAGES = [issues_page, create, issue_page, close]
