"""HTTP API of kits: thin controllers over KitService. Everyone signed in reads kits and completes one (the
picker who finished it); supervisors open and cancel them. Picking is the `kit` op (POST /api/ops, or a
push)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.status_codes import HTTP_201_CREATED

from server.api.params import Limit, Offset
from server.api.security import actor_of, requires
from server.auth import Principal
from server.errors import Invalid, KitNotOpen, NotFound
from server.kits.schemas import KitIn, KitOut, KitPage
from server.kits.service import KitService
from server.models import Role

SUPERVISOR = [requires(Role.supervisor)]


class KitsController(Controller):
    path = "/api/kits"
    tags = ["kits"]

    @post("/", status_code=HTTP_201_CREATED, guards=SUPERVISOR, raises=[NotFound, Invalid])
    async def create(self, data: KitIn, kits: KitService, request: Request[Principal, str, Any]) -> KitOut:
        """An open kit for `run` (its number, kept as text) or for `location`, where it is staged: its tote, a
        location `<location>/KIT-0001` under it, is made, and what is picked into it (op `kit`) is Kitted while
        the kit is open. One line per part."""
        return await kits.create(data, actor_of(request.user))

    @get("/")
    async def list_kits(self, kits: KitService, status: str | None = None, run: str | None = None,
                        limit: Limit = 50, offset: Offset = 0) -> KitPage:
        """Kits, newest first. `status`: open, completed, cancelled, or several separated by commas; `run`: the
        kits of that run."""
        return await kits.list(status, run, limit, offset)

    @get("/{number:str}", raises=[NotFound])
    async def get_kit(self, number: str, kits: KitService) -> KitOut:
        """One kit, by its number or its id: each line with `quantity`, `picked`, `remaining`, and while the kit is open `suggested`:
        where to pick the remaining from (available stock, first expiring first when expiry is known, else
        oldest first)."""
        return await kits.get(number)

    @post("/{number:str}/complete", status_code=200, raises=[NotFound, KitNotOpen])
    async def complete(self, number: str, kits: KitService, request: Request[Principal, str, Any]) -> KitOut:
        """Complete an open kit: what is in its tote is released — Available again, in the tote."""
        return await kits.complete(number, actor_of(request.user))

    @post("/{number:str}/cancel", status_code=200, guards=SUPERVISOR, raises=[NotFound, KitNotOpen])
    async def cancel(self, number: str, kits: KitService, request: Request[Principal, str, Any]) -> KitOut:
        """Cancel an open kit: what is in its tote is released, as when it completes."""
        return await kits.cancel(number, actor_of(request.user))
