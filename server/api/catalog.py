"""Parts, locations and suppliers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, patch, post, put
from litestar.params import Parameter
from litestar.status_codes import HTTP_201_CREATED

from server.api.params import Limit, Offset
from server.api.schemas import (
    LocationIn,
    LocationOut,
    LocationPatch,
    PartIn,
    PartOut,
    PartPatch,
    PartsPage,
    SupplierIn,
    SupplierOut,
    patch_values,
)
from server.api.security import actor_of, requires
from server.auth import Principal
from server.catalog import CatalogService
from server.errors import AlreadyExists, NotFound, TrackingSwitchBlocked
from server.models import Location, Part, Role, Supplier
from server.rules.quantities import part_places



# Resources below a part that packages above the API serve, `/api/parts/{number}/{name}` by (method, name): the
# part's own routes (paths: part numbers may contain `/`, so they would take these too) hand them on.
# server/production registers `bom`.
PartResource = Callable[[Request[Any, Any, Any], str], Awaitable[Any]]
PART_RESOURCES: dict[tuple[str, str], PartResource] = {}


def part_resource(method: str, key: str) -> tuple[PartResource, str] | None:
    """The handler of `/api/parts/{number}/{name}` for `method`, and the part number; None for a part's own path."""
    number, _, name = natural_key(key).rpartition("/")
    handler = PART_RESOURCES.get((method, name)) if number else None
    return (handler, number) if handler is not None else None


def natural_key(path_value: str) -> str:
    """A `{key:path}` parameter arrives as `/CAGE-B/SHELF-3`: the code is what follows the slash."""
    return path_value.removeprefix("/")


def part_out(part: Part) -> PartOut:
    return PartOut(
        id=part.id, part_number=part.part_number, tracking=part.tracking, description=part.description,
        revision=part.revision, unit=part.unit, places=part_places(part), quantity_places=part.quantity_places,
        packs=part.packs or [], serial_pattern=part.serial_pattern, lot_pattern=part.lot_pattern,
        version=part.version, created_at=part.created_at, updated_at=part.updated_at,
    )


def location_out(location: Location, parent_code: str | None) -> LocationOut:
    return LocationOut(
        id=location.id, code=location.code, name=location.name, parent=parent_code, kind=location.kind,
        available=location.available, count_locked=location.count_locked, version=location.version,
    )


def supplier_out(supplier: Supplier) -> SupplierOut:
    return SupplierOut(id=supplier.id, name=supplier.name, code=supplier.code)


class PartsController(Controller):
    path = "/api/parts"
    tags = ["parts"]

    @post("/", status_code=HTTP_201_CREATED, guards=[requires(Role.supervisor)], raises=[AlreadyExists])
    async def create(self, data: PartIn, catalog: CatalogService, request: Request[Principal, str, object]) -> PartOut:
        values = {name: getattr(data, name) for name in data.__struct_fields__}
        values["tracking"] = data.tracking.value
        return part_out(await catalog.create_part(values, actor_of(request.user)))

    @get("/")
    async def list_parts(
        self, catalog: CatalogService, q: str | None = None, limit: Limit = 100, offset: Offset = 0
    ) -> PartsPage:
        """Parts by part number; `q` searches part numbers and descriptions."""
        parts, total = await catalog.list_parts(q, limit, offset)
        return PartsPage(items=[part_out(p) for p in parts], total=total, limit=limit, offset=offset)

    @get("/{key:path}", raises=[NotFound])
    async def get_part(
        self, key: str, catalog: CatalogService, request: Request[Principal, str, object]
    ) -> Response[PartOut]:
        """A part by id or part number (which may contain `/`). `/api/parts/{number}/bom`: its BOM
        (docs/production.md)."""
        if (resource := part_resource("GET", key)) is not None:
            return Response(await resource[0](request, resource[1]))
        return Response(part_out(await catalog.get_part(natural_key(key))))

    @put("/{key:path}", guards=[requires(Role.supervisor)], raises=[NotFound],
         opt={"request_body": {"application/json": {"type": "object"}}})
    async def put_resource(self, key: str, request: Request[Principal, str, object]) -> Response[Any]:
        """Set a resource of a part: `/api/parts/{number}/bom`, its BOM (docs/production.md)."""
        resource = part_resource("PUT", key)
        if resource is None:
            raise NotFound(f"Nothing to set at /api/parts/{natural_key(key)}", field="key")
        return Response(await resource[0](request, resource[1]))

    @patch("/{key:path}", guards=[requires(Role.supervisor)], raises=[NotFound, AlreadyExists, TrackingSwitchBlocked])
    async def update(
        self, key: str, data: PartPatch, catalog: CatalogService, request: Request[Principal, str, object]
    ) -> PartOut:
        """Edit a part. Changing `tracking` needs an admin and follows the switch rules (409 if blocked)."""
        changes = patch_values(data)
        if "tracking" in changes:
            changes["tracking"] = changes["tracking"].value
        return part_out(await catalog.update_part(natural_key(key), changes, actor_of(request.user)))


class LocationsController(Controller):
    path = "/api/locations"
    tags = ["locations"]

    @post("/", status_code=HTTP_201_CREATED, guards=[requires(Role.supervisor)], raises=[AlreadyExists, NotFound])
    async def create(
        self, data: LocationIn, catalog: CatalogService, request: Request[Principal, str, object]
    ) -> LocationOut:
        values = {name: getattr(data, name) for name in data.__struct_fields__}
        values["kind"] = data.kind.value
        location = await catalog.create_location(values, actor_of(request.user))
        return location_out(location, await catalog.parent_code(location))

    @get("/")
    async def list_locations(self, catalog: CatalogService, q: str | None = None) -> list[LocationOut]:
        return [location_out(loc, parent) for loc, parent in await catalog.list_locations(q)]

    @patch("/{key:path}", guards=[requires(Role.supervisor)], raises=[NotFound, AlreadyExists])
    async def update(
        self, key: str, data: LocationPatch, catalog: CatalogService, request: Request[Principal, str, object]
    ) -> LocationOut:
        """Edit a location, named by id or code (codes such as `PLANT-1/STORES` contain `/`)."""
        changes = patch_values(data)
        if "kind" in changes:
            changes["kind"] = changes["kind"].value
        location = await catalog.update_location(natural_key(key), changes, actor_of(request.user))
        return location_out(location, await catalog.parent_code(location))


class SuppliersController(Controller):
    path = "/api/suppliers"
    tags = ["suppliers"]

    @post("/", status_code=HTTP_201_CREATED, raises=[AlreadyExists])
    async def create(self, data: SupplierIn, catalog: CatalogService) -> SupplierOut:
        return supplier_out(await catalog.create_supplier(data.name, data.code))

    @get("/")
    async def search(
        self, catalog: CatalogService, q: str | None = None, limit: Annotated[int, Parameter(ge=1, le=100)] = 20
    ) -> list[SupplierOut]:
        """Autocomplete: names or codes starting with `q` first, then containing it."""
        return [supplier_out(s) for s in await catalog.search_suppliers(q, limit)]
