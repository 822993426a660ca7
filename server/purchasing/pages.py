"""Supervisor pages for purchasing, behind the supervisor pages' cookie sign-in and CSRF (server/supervisor/): the
purchase orders (by status, with a form to create one), one PO with its lines (open it, cancel it, close a
line short), and "Below minimum" — the replenishment list with a button that drafts the POs. Every action
goes through PurchasingService / ReplenishmentService, as the API's do.

A PO made on the page takes one line per row of its text box: `PART QUANTITY UNIT-PRICE [LOCATION]`
(serials and lots of a line go through the API).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.response import Redirect, Template

from server.api.security import actor_of
from server.errors import DomainError, Invalid
from server.i18n import translator
from server.ops.args import invalid_from
from server.purchasing.replenishment import ReplenishmentService
from server.purchasing.schemas import DraftIn, PoIn
from server.purchasing.service import PurchasingService
from server.rules.quantities import parse_quantity, quantity_text
from server.supervisor.shell import Session, checked_form, document_page, message, page

TEMPLATES = Path(__file__).parent / "templates"  # the app factory adds it to the template directories
BASE = "/supervisor/purchase-orders"
TABS = ("open", "draft", "received", "cancelled", "all")
PAGE = 50


def _page(name: str, session: Session, status_code: int = 200, **context: Any) -> Template:
    return page(f"purchasing/{name}", session, status_code, **context)


def parse_lines(text: str) -> list[dict[str, Any]]:
    """The create form's lines: `PART QUANTITY UNIT-PRICE [LOCATION]` per row, blank rows skipped."""
    lines = []
    for number, row in enumerate((r for r in text.splitlines() if r.strip()), start=1):
        words = row.split()
        if len(words) not in (3, 4):
            raise Invalid(f"row {number}: write PART QUANTITY UNIT-PRICE and, if you like, LOCATION", field="lines")
        try:  # "2.5" or "2,5" (a decimal comma, as typed in much of Europe); the part's precision is checked later
            quantity = parse_quantity(words[1].replace(",", "."), "quantity")
        except Invalid as error:
            raise Invalid(f"row {number}: {error.message}", field="lines") from None
        line = {"part": words[0], "quantity": quantity_text(quantity), "unit_price": words[2]}
        if len(words) == 4:
            line["location"] = words[3]
        lines.append(line)
    return lines


def _parse(body: dict[str, Any], shape: type[Any]) -> Any:
    try:
        return msgspec.convert({k: v for k, v in body.items() if v not in (None, "")}, shape, strict=False)
    except msgspec.ValidationError as error:
        raise invalid_from(error, prefix="form") from None


@get("/purchase-orders")
async def orders_page(session: Session, purchasing: PurchasingService, status: str = "open") -> Template:
    status = status if status in TABS else "open"
    found = await purchasing.list(None if status == "all" else status, None, None, PAGE, 0)
    return _page("list.html", session, found=found, status=status, tabs=TABS)


@post("/purchase-orders", status_code=200)
async def create(request: Request, session: Session, purchasing: PurchasingService) -> Response[Any]:
    form = await checked_form(request, session)
    try:
        body = {"supplier": form.get("supplier", "").strip(), "number": form.get("number", "").strip(),
                "note": form.get("note", "").strip(), "lines": parse_lines(form.get("lines", ""))}
        made = await purchasing.create(_parse(body, PoIn), actor_of(session.principal))
    except DomainError as error:
        return message(session, error.status_code, translator(request)("po.not_made"), error.message)
    return Redirect(f"{BASE}/{made.number}", status_code=303)


async def _po_page(request: Request, session: Session, purchasing: PurchasingService, number: str,
                   status_code: int = 200, error: str | None = None) -> Template:
    return await document_page(request, session, "po", "purchasing/po.html", number, purchasing.get, status_code,
                               error=error)


@get("/purchase-orders/{number:str}")
async def order_page(number: str, request: Request, session: Session, purchasing: PurchasingService) -> Template:
    return await _po_page(request, session, purchasing, number)


async def _act(request: Request, session: Session, purchasing: PurchasingService, number: str, action: str,
               line: int = 0) -> Response[Any]:
    await checked_form(request, session)
    actor = actor_of(session.principal)
    try:
        if action == "open":
            await purchasing.open(number, actor)
        elif action == "cancel":
            await purchasing.cancel(number, actor)
        else:
            await purchasing.close_line(number, line, actor)
    except DomainError as error:
        return await _po_page(request, session, purchasing, number, error.status_code, error.message)
    return Redirect(f"{BASE}/{number}", status_code=303)


@post("/purchase-orders/{number:str}/open", status_code=200)
async def open_order(number: str, request: Request, session: Session, purchasing: PurchasingService) -> Response[Any]:
    return await _act(request, session, purchasing, number, "open")


@post("/purchase-orders/{number:str}/cancel", status_code=200)
async def cancel_order(number: str, request: Request, session: Session, purchasing: PurchasingService) -> Response[Any]:
    return await _act(request, session, purchasing, number, "cancel")


@post("/purchase-orders/{number:str}/lines/{line:int}/close", status_code=200)
async def close_line(number: str, line: int, request: Request, session: Session,
                     purchasing: PurchasingService) -> Response[Any]:
    return await _act(request, session, purchasing, number, "close", line)


@get("/replenishment")
async def below_min_page(request: Request, session: Session, replenishment: ReplenishmentService,
                         location: str = "") -> Template:
    try:
        found = await replenishment.below_min(location.strip() or None)
    except DomainError as error:
        return message(session, error.status_code, translator(request)("repl.title"), error.message)
    return _page("below_min.html", session, found=found, location=location.strip())


@post("/replenishment/draft", status_code=200)
async def draft(request: Request, session: Session, replenishment: ReplenishmentService) -> Response[Any]:
    form = await checked_form(request, session)
    try:
        body = {"location": form.get("location", "").strip(), "supplier": form.get("supplier", "").strip()}
        drafted = await replenishment.draft(_parse(body, DraftIn), actor_of(session.principal))
    except DomainError as error:
        return message(session, error.status_code, translator(request)("repl.not_drafted"), error.message)
    return _page("drafted.html", session, drafted=drafted)


PURCHASING_PAGES = [orders_page, create, order_page, open_order, cancel_order, close_line, below_min_page, draft]
