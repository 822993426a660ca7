"""Supervisor pages for cycle counts, on the supervisor pages' shell (server/supervisor/shell.py: cookie
sign-in, CSRF, the page frame): the schedule (plan a count from it, set a cadence), the counts, one count
(start, finish counting, the review with adjust / move-to-discrepancy / leave buttons, close, the operations
held on its locations), its printable sheet, and accuracy over time as a chart. Every action goes through
CountService / ScheduleService, as the API's do.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Response, get, post
from litestar.response import Redirect, Template

from server.api.security import actor_of
from server.counts.chart import accuracy_svg
from server.counts.schedule import ScheduleService
from server.counts.schemas import CadenceIn, CountIn, CountOut, DecideIn, DecisionResult
from server.counts.service import CountService
from server.errors import DomainError, Invalid
from server.i18n import lang_of, translator
from server.ops.args import invalid_from
from server.supervisor.shell import Session, checked_form, message, page
from server.supervisor.words import op_summary

TEMPLATES = Path(__file__).parent / "templates"  # the app factory adds it to the template directories
BASE = "/supervisor/counts"


def _parse(body: dict[str, Any], shape: type[Any]) -> Any:
    try:
        return msgspec.convert({k: v for k, v in body.items() if v not in (None, "")}, shape, strict=False)
    except msgspec.ValidationError as error:
        raise invalid_from(error, prefix="form") from None


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _page(name: str, session: Session, status_code: int = 200, **context: Any) -> Template:
    return page(f"counts/{name}", session, status_code, percent=_percent, **context)


def _no_count(request: Request, session: Session, count_id: UUID) -> Template:
    t = translator(request)
    return message(session, 404, t("count.no_such"), t("count.no_such_text", id=count_id))


async def _found(request: Request, counts: CountService, session: Session, count_id: UUID) -> CountOut | Template:
    try:
        return await counts.get(count_id)
    except DomainError:
        return _no_count(request, session, count_id)


@get("/counts")
async def counts_page(session: Session, counts: CountService, count_schedule: ScheduleService) -> Template:
    running = await counts.list("open,review", 100, 0)
    planned = await counts.list("planned", 100, 0)
    closed = await counts.list("closed", 20, 0)
    due = await count_schedule.due()
    return _page("list.html", session, running=running.items, planned=planned.items, closed=closed.items, due=due,
                 today=date.today())


@post("/counts", status_code=200)
async def plan(request: Request, session: Session, counts: CountService) -> Response[Any]:
    form = await checked_form(request, session)
    kind = form.get("kind", "location")
    body = {
        "kind": kind, kind: form.get("scope", "").strip(), "blind": form.get("blind") == "yes",
        "closes_locations": form.get("closes_locations") == "yes", "due": form.get("due"), "name": form.get("name"),
    }
    try:
        planned = await counts.plan(_parse(body, CountIn), actor_of(session.principal))
    except DomainError as error:
        return message(session, error.status_code, translator(request)("counts.not_planned"), error.message)
    return Redirect(f"{BASE}/{planned.id}", status_code=303)


@get("/counts/schedule")
async def schedule_page(session: Session, count_schedule: ScheduleService) -> Template:
    return _page("schedule.html", session, schedule=await count_schedule.schedule())


@post("/counts/schedule/cadence", status_code=200)
async def set_cadence(request: Request, session: Session, count_schedule: ScheduleService) -> Response[Any]:
    form = await checked_form(request, session)
    try:
        days = form.get("cadence_days", "").strip()
        if days and not days.isdigit():
            raise Invalid(translator(request)("schedule.not_whole", value=repr(days)), field="cadence_days")
        await count_schedule.set_cadence(form.get("location", ""), _parse({"cadence_days": days or None}, CadenceIn))
    except DomainError as error:
        return message(session, error.status_code, translator(request)("schedule.not_set"), error.message)
    return Redirect(f"{BASE}/schedule", status_code=303)


@get("/counts/accuracy")
async def accuracy_page(
    request: Request, session: Session, count_schedule: ScheduleService, location: str | None = None
) -> Template:
    t = translator(request)
    try:
        figures = await count_schedule.accuracy(location or None)
    except DomainError as error:
        return message(session, error.status_code, t("counts.no_accuracy"), error.message)
    title = t("counts.accuracy_of", location=location) if location else t("counts.accuracy_over_time")
    return _page("accuracy.html", session, figures=figures, chart=accuracy_svg(figures.counts, title, lang_of(request)),
                 location=location or "")


PAGE_LINES = 500  # open lines per supervisor page


async def count_page(
    request: Request, session: Session, counts: CountService, count: CountOut, *, results: list[DecisionResult] | None = None,
    status_code: int = 200, error: str | None = None,
) -> Template:
    offset = _offset(request.query_params.get("offset"))
    review = (await counts.review(count.id, only_open=True, limit=PAGE_LINES, offset=offset)
              if count.status in ("open", "review", "closed") else None)
    held = [
        {"id": op.conflict_id, "summary": op_summary(op.op_type, op.args, lang_of(request)), "actor": op.actor,
         "reevaluated": op.reevaluated}
        for op in await counts.held(count)
    ]
    return _page(
        "count.html", session, status_code, count=review.count if review else count, review=review,
        open_lines=review.lines if review else [], held=held, results=results or [], error=error,
    )


def _offset(value: str | None) -> int:
    """The page's first line from `?offset=` (a page of PAGE_LINES; anything else: the first page)."""
    try:
        offset = int(value or 0)
    except ValueError:
        return 0
    return max(0, offset - offset % PAGE_LINES)


@get("/counts/{count_id:uuid}")
async def count_view(count_id: UUID, request: Request, session: Session, counts: CountService) -> Template:
    found = await _found(request, counts, session, count_id)
    return found if isinstance(found, Template) else await count_page(request, session, counts, found)


async def _act(request: Request, session: Session, counts: CountService, count_id: UUID, action: str) -> Response[Any]:
    form = await checked_form(request, session)
    found = await _found(request, counts, session, count_id)
    if isinstance(found, Template):
        return found
    actor = actor_of(session.principal)
    try:
        if action == "start":
            await counts.start(count_id, actor)
        elif action == "finish":
            await counts.finish(count_id)
        elif action == "close":
            await counts.close(count_id, form.get("note", "").strip() or None, actor, form.get("not_counted") == "yes")
        else:
            lines = [UUID(text) for text in form.get("lines", "").split(",") if text.strip()]
            decision = _parse({"lines": lines, "action": form.get("action"), "to_location": form.get("to_location"),
                               "note": form.get("note", "").strip()}, DecideIn)
            results = await counts.decide(count_id, decision, actor)
            if any(result.status == "refused" for result in results):
                return await count_page(request, session, counts, await counts.get(count_id), results=results,
                                        status_code=409)
    except (DomainError, ValueError) as error:
        text = error.message if isinstance(error, DomainError) else translator(request)("count.bad_line")
        code = error.status_code if isinstance(error, DomainError) else 422
        return await count_page(request, session, counts, await counts.get(count_id), status_code=code, error=text)
    return Redirect(f"{BASE}/{count_id}", status_code=303)


@post("/counts/{count_id:uuid}/start", status_code=200)
async def start(count_id: UUID, request: Request, session: Session, counts: CountService) -> Response[Any]:
    return await _act(request, session, counts, count_id, "start")


@post("/counts/{count_id:uuid}/finish", status_code=200)
async def finish(count_id: UUID, request: Request, session: Session, counts: CountService) -> Response[Any]:
    return await _act(request, session, counts, count_id, "finish")


@post("/counts/{count_id:uuid}/decide", status_code=200)
async def decide(count_id: UUID, request: Request, session: Session, counts: CountService) -> Response[Any]:
    return await _act(request, session, counts, count_id, "decide")


@post("/counts/{count_id:uuid}/close", status_code=200)
async def close(count_id: UUID, request: Request, session: Session, counts: CountService) -> Response[Any]:
    return await _act(request, session, counts, count_id, "close")


@get("/counts/{count_id:uuid}/sheet")
async def sheet_page(count_id: UUID, request: Request, session: Session, counts: CountService) -> Template:
    """The printable count sheet: a blank `Counted` column to write in (no expected quantity if blind)."""
    try:
        count, lines = await counts.sheet(count_id)
    except DomainError:
        return _no_count(request, session, count_id)
    return _page("sheet.html", session, count=count, lines=lines)


COUNT_PAGES = [
    counts_page, plan, schedule_page, set_cadence, accuracy_page, count_view, start, finish, decide, close, sheet_page,
]
