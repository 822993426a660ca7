"""HTTP endpoints of the sync protocol: thin controllers over the push, pull and conflict services.

Push and pull read the raw body and decode it themselves (sync/wire.py), so that the protocol version is
checked before anything else: a phone speaking another version gets 409 whatever its body looks like.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import Parameter

from server.api.nul import OPS_CHECKED_ONE_BY_ONE
from server.api.params import Limit, Offset
from server.api.security import actor_of, requires
from server.auth import Principal
from server.db import Database
from server.errors import OP_ERRORS, Conflict, Forbidden, NotFound, RetryLater
from server.models import Role
from sync import metrics
from sync.conflicts import ConflictService
from sync.errors import ProtocolNotSupported
from sync.pull import PullService
from sync.push import PushService
from sync.wire import (
    ApproveIn,
    ConflictOut,
    ConflictsPage,
    PullIn,
    PullOut,
    PushIn,
    PushOut,
    RejectIn,
    ResolutionsPage,
    decode,
)

StatusFilter = Annotated[str, Parameter(pattern="^(open|approved|rejected|all)$")]


def sync_services(db: Database) -> dict[str, Any]:
    """The services the app factory provides to these controllers, by dependency name."""
    return {"sync_push": PushService(db), "sync_pull": PullService(db), "sync_conflicts": ConflictService(db)}


class SyncController(Controller):
    path = "/api/sync"
    tags = ["sync"]

    # the bodies are read raw (the protocol version first): documented by opt["request_body"]
    @post(
        "/push", status_code=200, raises=[Forbidden, NotFound, ProtocolNotSupported],
        opt={"request_body": PushIn, OPS_CHECKED_ONE_BY_ONE: True},
    )
    async def push(self, request: Request[Principal, str, Any], sync_push: PushService) -> PushOut:
        """Apply a device's queued ops in seq order, exactly once (sync protocol §3). 200 with a result per
        op; 409 protocol-not-supported; 403 if the token is not bound to `device_id`."""
        data = decode(await request.body(), PushIn)
        answer = await sync_push.push(data, actor_of(request.user))
        metrics.heard_from(data.device_id, data.oldest_unsynced_age)
        metrics.pushed(answer)
        return answer

    @post("/pull", status_code=200, raises=[Forbidden, ProtocolNotSupported], opt={"request_body": PullIn})
    async def pull(self, request: Request[Principal, str, Any], sync_pull: PullService) -> PullOut:
        """Changes since `cursor` in version order, paged at version boundaries, and what became of the
        device's held and rejected ops (sync protocol §4)."""
        data = decode(await request.body(), PullIn)
        answer = await sync_pull.pull(data, actor_of(request.user))
        metrics.heard_from(data.device_id, data.oldest_unsynced_age)
        return answer


class ConflictsController(Controller):
    path = "/api/sync"
    tags = ["sync"]
    guards = [requires(Role.supervisor)]

    @get("/conflicts")
    async def list_conflicts(
        self, sync_conflicts: ConflictService, status: StatusFilter = "open", limit: Limit = 50, offset: Offset = 0
    ) -> ConflictsPage:
        """Conflicts, oldest first: the op as sent, device, actor, reason, the server's current state of
        what the op touches, the ops held behind it, and the resolution once decided."""
        return await sync_conflicts.list(None if status == "all" else status, limit, offset)

    @get("/conflicts/{conflict_id:uuid}", raises=[NotFound])
    async def get_conflict(self, conflict_id: UUID, sync_conflicts: ConflictService) -> ConflictOut:
        return await sync_conflicts.get(conflict_id)

    @post("/conflicts/{conflict_id:uuid}/approve", status_code=200, raises=[Conflict, RetryLater, *OP_ERRORS])
    async def approve(
        self, conflict_id: UUID, data: ApproveIn, sync_conflicts: ConflictService, request: Request[Principal, str, Any]
    ) -> ConflictOut:
        """Held op: apply it now (with corrected `args` if given), then re-run the ops held behind it.
        Rejected op: apply the corrected `args` as a new op by you, linked to the original."""
        return await sync_conflicts.approve(conflict_id, data, actor_of(request.user))

    @post("/conflicts/{conflict_id:uuid}/reject", status_code=200, raises=[NotFound, Conflict, RetryLater])
    async def reject(
        self, conflict_id: UUID, data: RejectIn, sync_conflicts: ConflictService, request: Request[Principal, str, Any]
    ) -> ConflictOut:
        """Final: the op stays unapplied, and the ops held behind it are rejected (`dependency_rejected`)."""
        return await sync_conflicts.reject(conflict_id, data, actor_of(request.user))

    @get("/resolutions")
    async def resolutions(self, sync_conflicts: ConflictService, limit: Limit = 50, offset: Offset = 0) -> ResolutionsPage:
        """The log of conflict decisions, newest first: who, when, what (args, outcome, dependants), why."""
        return await sync_conflicts.resolutions(limit, offset)


CONTROLLERS = [SyncController, ConflictsController]
