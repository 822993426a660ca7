"""HTTP endpoints of the sync protocol: thin controllers over the push, pull and conflict services.

Push and pull read the raw body and decode it themselves (sync/wire.py), so that the protocol version is
checked before anything else: a phone speaking another version gets 409 whatever its body looks like.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post

from server.api.security import actor_of
from server.auth import Principal
from server.db import Database
from sync.pull import PullService
from sync.push import PushService
from sync.wire import PullIn, PullOut, PushIn, PushOut, decode


def sync_services(db: Database) -> dict[str, Any]:
    """The services the app factory provides to these controllers, by dependency name."""
    return {"sync_push": PushService(db), "sync_pull": PullService(db)}


class SyncController(Controller):
    path = "/api/sync"
    tags = ["sync"]

    @post("/push", status_code=200)
    async def push(self, request: Request[Principal, str, Any], sync_push: PushService) -> PushOut:
        """Apply a device's queued ops in seq order, exactly once (sync protocol §3). 200 with a result per
        op; 409 protocol-not-supported; 403 if the token is not bound to `device_id`."""
        data = decode(await request.body(), PushIn)
        return await sync_push.push(data, actor_of(request.user))

    @post("/pull", status_code=200)
    async def pull(self, request: Request[Principal, str, Any], sync_pull: PullService) -> PullOut:
        """Changes since `cursor` in version order, paged at version boundaries, and what became of the
        device's held and rejected ops (sync protocol §4)."""
        data = decode(await request.body(), PullIn)
        return await sync_pull.pull(data, actor_of(request.user))


CONTROLLERS = [SyncController]
