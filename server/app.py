"""The app factory: wires settings, the database, services, controllers and error mapping."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

from litestar import Litestar, get
from litestar.config.compression import CompressionConfig
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.response import Redirect, Template
from litestar.template import TemplateConfig
from litestar.datastructures import State
from server.api.auth import AuthController, UsersController
from server.api.catalog import LocationsController, PartsController, SuppliersController
from server.api.contract import render_plugins
from server.api.decode import decode_route
from server.api.inventory import InventoryController, OpsController, inventory_filter
from server.api.labels import LabelsController
from server.api.nul import refuse_nul
from server.api.problems import EXCEPTION_HANDLERS, all_problems
from server.api.scan import ScanController
from server.api.security import TokenAuthMiddleware
from server.auth import AuthService
from server.catalog import CatalogService
from server.costs.api import CostsController
from server.costs.pages import COST_PAGES, TEMPLATES as COST_TEMPLATES
from server.costs.read import CostQueries
from server.counts.api import CountsController
from server.counts.pages import COUNT_PAGES, TEMPLATES as COUNT_TEMPLATES
from server.counts.rules import Thresholds
from server.counts.schedule import ScheduleService
from server.counts.service import CountService
from server.db import Database
from server.health import health, ready
from server.labels.service import LabelService
from server.metrics import metrics_route
from server.quality.api import IssuesController
from server.quality.pages import ISSUE_PAGES, TEMPLATES as QUALITY_TEMPLATES
from server.kits.pages import KIT_PAGES, TEMPLATES as KIT_TEMPLATES
from server.quality.service import IssueService
from server.kits.api import KitsController
from server.kits.service import KitService
from server.ops.service import OpsService
from server.production.api import CONTROLLERS as PRODUCTION_CONTROLLERS
from server.production.bom import BomService
from server.production.pages import PRODUCTION_PAGES, TEMPLATES as PRODUCTION_TEMPLATES
from server.production.runs import RunService
from server.production.trace import ProductionQueries
from server.purchasing.api import ConstraintsController, PurchaseOrdersController
from server.purchasing.pages import PURCHASING_PAGES, TEMPLATES as PURCHASING_TEMPLATES
from server.purchasing.replenishment import ReplenishmentService
from server.purchasing.service import PurchasingService
from server.i18n import install as install_i18n
from server.importing.jobs import Jobs
from server.importing.pages import TEMPLATES as IMPORT_TEMPLATES, import_pages
from server.queries import InventoryQueries
from server.requestlog import RequestObserver, configure_logging
from server.scan.service import ScanService
from server.settings import Settings, get_settings
from server.supervisor.shell import TEMPLATES as SUPERVISOR_TEMPLATES, supervisor_router
from server.web import pwa_router
from sync.api import CONTROLLERS as SYNC_CONTROLLERS, sync_services
from sync.metrics import OPEN_CONFLICTS
from sync.pages import CONFLICT_PAGES, TEMPLATES as SYNC_TEMPLATES
from sync.reopened import held_here, reevaluate_held


# Responses gzip'd for clients that accept it (a phone's first pull of 100,000 rows: 46 MB of JSON, 7 MB gzip'd).
# Level 1: a 500-change pull page in ~7 ms instead of ~60 ms at 9, for ~14 % more bytes. Not the phone app's
# files: server/web.py serves them pre-compressed.
COMPRESSION = CompressionConfig(
    backend="gzip", gzip_compress_level=1, minimum_size=1024, exclude=[r"^/(?:$|sw\.js$|app/)"]
)


@get("/problems", exclude_from_auth=True, include_in_schema=False)
async def problem_types() -> Template:
    return Template("problems.html", context={"problems": sorted(all_problems().items())})


@get("/problems/{slug:str}", exclude_from_auth=True, include_in_schema=False)
async def problem_type(slug: str) -> Redirect:
    return Redirect(f"/problems#{slug.replace('-', '_')}")


GC_THRESHOLDS = (10_000, 10, 10)  # Python's are (700, 10, 10)


def freeze_startup_objects() -> None:
    """The app, SQLAlchemy's metadata and compiled statements and the imported modules live as long as the
    process: out of the cyclic garbage collector's way (`gc.freeze`), so that its full collections walk only
    what requests made. And a young collection once 10,000 more objects are alive rather than 700, so that a
    push of 100 ops rarely makes one. What reference counting frees, it frees as before."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def _constant(value: Any) -> Provide:
    async def provide() -> Any:
        return value

    return Provide(provide)


def create_app(settings: Settings | None = None, db: Database | None = None) -> Litestar:
    settings = settings or get_settings()
    db = db or Database(settings)
    services: dict[str, Any] = {
        "auth": AuthService(db),
        "catalog": CatalogService(db),
        "ops": OpsService(db),
        "queries": InventoryQueries(db),
        "scanner": ScanService(db, InventoryQueries(db)),
        "labels": LabelService(db),
        **sync_services(db),
        # closing a count re-evaluates the ops held on the locations it reopens (in the same transaction); a
        # count's page lists those held on its locations
        "counts": CountService(
            db, Thresholds(settings.count_major_value, settings.count_major_percent), reevaluate_held, held_here
        ),
        "count_schedule": ScheduleService(db),
        "import_jobs": Jobs(settings.data_dir / "imports", db),  # uploads on the supervisor pages
        "purchasing": PurchasingService(db),
        "replenishment": ReplenishmentService(db),
        "kits": KitService(db),
        "issues": IssueService(db, OpsService(db)),
        "boms": BomService(db),
        "runs": RunService(db),
        "production": ProductionQueries(db),
        "costs": CostQueries(db),
    }

    configure_logging(settings.log_format)
    app = Litestar(
        route_handlers=[
            AuthController,
            UsersController,
            PartsController,
            LocationsController,
            SuppliersController,
            InventoryController,
            OpsController,
            ScanController,
            decode_route(settings),  # its own body limit: an image, not GEMBA_MAX_REQUEST_BYTES
            LabelsController,
            CountsController,
            PurchaseOrdersController,
            ConstraintsController,
            KitsController,
            IssuesController,
            CostsController,
            *PRODUCTION_CONTROLLERS,
            *SYNC_CONTROLLERS,
            supervisor_router([*CONFLICT_PAGES, *COUNT_PAGES, *PURCHASING_PAGES, *PRODUCTION_PAGES, *KIT_PAGES, *ISSUE_PAGES,
                               *COST_PAGES, *import_pages(settings)]),  # pages with their own sign-in
            problem_types,
            problem_type,
            health,
            ready,
            metrics_route(settings.metrics_token, [OPEN_CONFLICTS]),
            pwa_router(),
        ],
        state=State({"db": db, **services}),
        dependencies={
            **{name: _constant(value) for name, value in services.items()},
            "filters": Provide(inventory_filter, sync_to_thread=False),
        },
        middleware=[DefineMiddleware(TokenAuthMiddleware, exclude=["^/schema"])],  # other non-API routes opt out
        exception_handlers=EXCEPTION_HANDLERS,
        before_request=refuse_nul,  # NUL characters: a 422 before any handler runs (server/rules/text.py)
        openapi_config=OpenAPIConfig(  # problem responses and raw bodies documented by server/api/contract.py
            title="Gemba API", version="1", path="/schema", render_plugins=render_plugins()
        ),
        template_config=TemplateConfig(
            directory=[
                Path(__file__).parent / "templates", SUPERVISOR_TEMPLATES, SYNC_TEMPLATES, COUNT_TEMPLATES,
                IMPORT_TEMPLATES, PURCHASING_TEMPLATES, PRODUCTION_TEMPLATES, KIT_TEMPLATES, QUALITY_TEMPLATES,
                COST_TEMPLATES,
            ],
            engine=JinjaTemplateEngine,
            engine_callback=install_i18n,  # t(key, …) and lang() in every template: server/i18n.py
        ),
        request_max_body_size=settings.max_request_bytes,
        compression_config=COMPRESSION,
        on_startup=[freeze_startup_objects],
        on_shutdown=[db.dispose],
        debug=settings.debug,
    )
    # around routing too (as Litestar's OpenTelemetry plugin does), so that an unknown path is logged as well
    app.asgi_handler = RequestObserver(app.asgi_handler)
    return app
