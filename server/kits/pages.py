"""Supervisor pages for kits, behind the supervisor pages' cookie sign-in and CSRF (server/supervisor/): the
kits (by status, with a form to open one) and one kit with its lines (picked, remaining, where to pick from),
to complete or cancel. Every action goes through KitService, as the API's do.

A kit made on the page takes one line per row of its text box: `PART QUANTITY`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template

from server.api.security import actor_of
from server.errors import DomainError, Invalid
from server.i18n import translator
from server.kits.schemas import KitClosing, KitIn
from server.kits.service import KitService
from server.supervisor.shell import Session, checked_form, document_page, form_struct, message, page

TEMPLATES = Path(__file__).parent / "templates"  # the app factory adds it to the template directories
BASE = "/supervisor/kits"
TABS = ("open", "completed", "cancelled", "all")


def parse_lines(text: str) -> list[dict[str, str]]:
    """The create form's lines: `PART QUANTITY` per row, blank rows skipped."""
    lines = []
    for number, row in enumerate((r for r in text.splitlines() if r.strip()), start=1):
        words = row.split()
        if len(words) != 2:
            raise Invalid(f"row {number}: write PART QUANTITY", field="lines")
        lines.append({"part": words[0], "quantity": words[1]})
    return lines


@get("/kits")
async def kits_page(session: Session, kits: KitService, status: str = "open") -> Template:
    status = status if status in TABS else "open"
    found = await kits.list(None if status == "all" else status, None, 50, 0)
    return page("kits/list.html", session, found=found, status=status, tabs=TABS)


@post("/kits", status_code=200)
async def create(request: Request, session: Session, kits: KitService) -> Response[Any]:
    form = await checked_form(request, session)
    try:
        body = {"location": form.get("location", "").strip(), "run": form.get("run", "").strip(),
                "lines": parse_lines(form.get("lines", ""))}
        made = await kits.create(form_struct(body, KitIn), actor_of(session.principal))
    except DomainError as error:
        return message(session, error.status_code, translator(request)("kit.not_made"), error.message)
    return Redirect(f"{BASE}/{made.number}", status_code=303)


async def _kit_page(request: Request, session: Session, kits: KitService, number: str, status_code: int = 200,
                    error: str | None = None, closing: KitClosing | None = None) -> Template:
    return await document_page(request, session, "kit", "kits/kit.html", number, kits.get, status_code, error=error,
                               closing=closing)


@get("/kits/{number:str}")
async def kit_page(number: str, request: Request, session: Session, kits: KitService) -> Template:
    return await _kit_page(request, session, kits, number)


async def _close(request: Request, session: Session, kits: KitService, number: str, complete: bool) -> Response[Any]:
    await checked_form(request, session)
    try:
        if complete:
            closed = await kits.complete(number, actor_of(session.principal))
        else:
            closed = await kits.cancel(number, actor_of(session.principal))
    except DomainError as error:
        return await _kit_page(request, session, kits, number, error.status_code, error.message)
    if closed.closing is not None:  # a kit for a run: say what went to the run and what stayed in the tote
        return await _kit_page(request, session, kits, number, closing=closed.closing)
    return Redirect(f"{BASE}/{number}", status_code=303)


@post("/kits/{number:str}/complete", status_code=200)
async def complete(number: str, request: Request, session: Session, kits: KitService) -> Response[Any]:
    return await _close(request, session, kits, number, True)


@post("/kits/{number:str}/cancel", status_code=200)
async def cancel(number: str, request: Request, session: Session, kits: KitService) -> Response[Any]:
    return await _close(request, session, kits, number, False)


KIT_PAGES = [kits_page, create, kit_page, complete, cancel]
