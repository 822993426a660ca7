"""Supervisor pages of the sync engine: the conflicts a supervisor must decide, the log of decisions, and the
inventory list the conflicts link to — on the supervisor pages' shell (server/supervisor/shell.py: sign-in,
CSRF, the page frame), templates in sync/templates/supervisor/. Decisions go through `ConflictService`, the
same calls as the API's, so each lands in the resolution log (`sync_resolutions`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Response, get, post
from litestar.response import Redirect, Template

from server.api.params import Offset
from server.api.security import actor_of
from server.errors import DomainError, NotFound
from server.i18n import lang_of, translator
from server.ops.args import invalid_from
from server.queries import InventoryFilter, InventoryQueries
from server.supervisor.shell import PREFIX, Session, checked_form, message, page
from sync.conflicts import STATUSES, ConflictService
from sync.forms import arg_fields, args_from_form, correction, from_where_it_is, source_key, typed_values
from sync.wire import ApproveIn, ConflictOut, RejectIn

TEMPLATES = Path(__file__).parent / "templates"  # the app factory adds it to the template directories
PAGE = 20


# ---- conflicts ----------------------------------------------------------------------------------------
@get("/conflicts")
async def conflicts(session: Session, sync_conflicts: ConflictService, status: str = "open", offset: Offset = 0) -> Template:
    status = status if status in (*STATUSES, "all") else "open"
    found = await sync_conflicts.list(None if status == "all" else status, PAGE, max(offset, 0))
    return page("conflicts.html", session, found=found, status=status, statuses=(*STATUSES, "all"), page_size=PAGE)


def conflict_page(
    request: Request, session: Session, conflict: ConflictOut, *, status_code: int = 200,
    error: DomainError | None = None, typed: dict[str, Any] | None = None, note: str | None = None,
) -> Template:
    lang = lang_of(request)
    here_now = from_where_it_is(conflict.reason, conflict.op.type, conflict.op.args, conflict.state)
    return page(
        "conflict.html", session, status_code, conflict=conflict, error=error, note=note or "",
        fields=arg_fields(conflict.op.type, typed if typed is not None else conflict.op.args, lang),
        here_now=here_now, here_fields=arg_fields(conflict.op.type, here_now, lang) if here_now else [],
        source_key=source_key(conflict.op.type),
    )


async def _conflict(
    request: Request, session: Session, sync_conflicts: ConflictService, conflict_id: UUID
) -> ConflictOut | Template:
    try:
        return await sync_conflicts.get(conflict_id)
    except NotFound:
        t = translator(request)
        return message(session, 404, t("message.no_conflict"), t("message.no_conflict_text", id=conflict_id))


@get("/conflicts/{conflict_id:uuid}")
async def conflict(conflict_id: UUID, request: Request, session: Session, sync_conflicts: ConflictService) -> Template:
    found = await _conflict(request, session, sync_conflicts, conflict_id)
    return found if isinstance(found, Template) else conflict_page(request, session, found)


@post("/conflicts/{conflict_id:uuid}/approve", status_code=200)
async def approve(
    conflict_id: UUID, request: Request, session: Session, sync_conflicts: ConflictService
) -> Response[Any]:
    """Approve as sent, or with the args the supervisor corrected in the form (sent only if they differ)."""
    form = await checked_form(request, session)
    found = await _conflict(request, session, sync_conflicts, conflict_id)
    if isinstance(found, Template):
        return found
    note = form.get("note", "").strip() or None
    try:
        args = correction(found.op.type, found.op.args, args_from_form(found.op.type, form, lang_of(request)))
        decision = _decision({"note": note, "args": args}, ApproveIn)
        await sync_conflicts.approve(conflict_id, decision, actor_of(session.principal))
    except DomainError as error:
        found = await sync_conflicts.get(conflict_id)
        return conflict_page(request, session, found, status_code=error.status_code, error=error,
                             typed=typed_values(form), note=note)
    return Redirect(f"{PREFIX}/conflicts/{conflict_id}", status_code=303)


@post("/conflicts/{conflict_id:uuid}/reject", status_code=200)
async def reject(conflict_id: UUID, request: Request, session: Session, sync_conflicts: ConflictService) -> Response[Any]:
    form = await checked_form(request, session)
    found = await _conflict(request, session, sync_conflicts, conflict_id)
    if isinstance(found, Template):
        return found
    note = form.get("note", "").strip()
    try:
        decision = _decision({"note": note}, RejectIn)
        await sync_conflicts.reject(conflict_id, decision, actor_of(session.principal))
    except DomainError as error:
        found = await sync_conflicts.get(conflict_id)
        return conflict_page(request, session, found, status_code=error.status_code, error=error, note=note)
    return Redirect(f"{PREFIX}/conflicts/{conflict_id}", status_code=303)


def _decision(body: dict[str, Any], shape: type[Any]) -> Any:
    """The decision as the API would decode it (the note's length and all)."""
    try:
        return msgspec.convert({key: value for key, value in body.items() if value is not None}, shape)
    except msgspec.ValidationError as error:
        raise invalid_from(error, prefix="form") from None


@get("/resolutions")
async def resolutions(session: Session, sync_conflicts: ConflictService, offset: Offset = 0) -> Template:
    found = await sync_conflicts.resolutions(PAGE, max(offset, 0))
    return page("resolutions.html", session, found=found, page_size=PAGE)


@get("/inventory")
async def inventory(
    session: Session, queries: InventoryQueries, part: str = "", location: str = "", offset: int = 0
) -> Template:
    """The inventory list filtered by part and location (with its sub-locations): where a conflict's
    "on the server now" links for the rows it does not show."""
    f = InventoryFilter(part=part.strip() or None, location=location.strip() or None)
    items, total = await queries.page(f, PAGE, max(offset, 0))
    return page("inventory.html", session, items=items, total=total, offset=max(offset, 0), page_size=PAGE,
                part=f.part or "", location=f.location or "")


CONFLICT_PAGES = [conflicts, conflict, approve, reject, resolutions, inventory]
