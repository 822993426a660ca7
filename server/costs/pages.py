"""The supervisor's valuation page (behind the supervisor pages' cookie sign-in, server/supervisor/): the
valuation per part with its totals, stock value by location as a chart, and the FIFO report — the open cost
layers by package. Read through CostQueries, as the API's routes are."""

from __future__ import annotations

from pathlib import Path

from litestar import Request, get
from litestar.response import Template

from server.costs.chart import value_by_location_svg
from server.costs.read import CostQueries
from server.errors import DomainError
from server.i18n import lang_of, translator
from server.supervisor.shell import Session, message, page

TEMPLATES = Path(__file__).parent / "templates"  # the app factory adds it to the template directories
LAYERS_SHOWN = 200


@get("/valuation")
async def valuation_page(request: Request, session: Session, costs: CostQueries, location: str = "") -> Template:
    where = location.strip() or None
    try:
        valuation = await costs.valuation(where)
        by_location = await costs.value_by_location(where)
        layers, total = await costs.layers(None, True, LAYERS_SHOWN, 0)
    except DomainError as error:
        return message(session, error.status_code, translator(request)("costs.title"), error.message)
    chart = value_by_location_svg(by_location, valuation["currency"], lang_of(request))
    return page("costs/valuation.html", session, valuation=valuation, chart=chart, layers=layers,
                layers_total=total, location=location.strip())


COST_PAGES = [valuation_page]
