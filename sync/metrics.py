"""What sync adds to the metrics (server/metrics.py): ops answered by pushes, each device's report, and the
conflicts open now.

A phone reports, in the optional `oldest_unsynced_age` of its pushes and pulls (docs/sync.md), how old
the oldest op still waiting in its queue is, in seconds by its own clock (0: nothing waits). The latest
report of each device is a gauge, and so is when the server last heard from it: a phone whose queue
keeps ageing is one that cannot sync.
"""

from __future__ import annotations

import time
from uuid import UUID

from prometheus_client import Counter, Gauge
from sqlalchemy import func, select

from server.db import Database
from server.metrics import ScrapeGauge
from sync.models import SyncConflict
from sync.wire import PushOut

PUSH_OPS = Counter(
    "gemba_sync_push_ops", "Ops answered by pushes, by outcome (applied, rejected, held, duplicate)", ["outcome"]
)
PUSH_STOPS = Counter("gemba_sync_push_stopped", "Pushes that stopped before their last op, by reason", ["reason"])
# the most recent report wins, whichever server process received it
OLDEST_UNSYNCED = Gauge(
    "gemba_device_oldest_unsynced_op_age_seconds", "Age of the oldest op waiting on the device, as it last reported",
    ["device"], multiprocess_mode="mostrecent",
)
LAST_SYNC = Gauge(
    "gemba_device_last_sync_timestamp_seconds", "When the device last pushed or pulled (Unix time, server clock)",
    ["device"], multiprocess_mode="mostrecent",
)


def heard_from(device_id: UUID, oldest_unsynced_age: float | None) -> None:
    device = str(device_id)
    LAST_SYNC.labels(device).set(time.time())
    if oldest_unsynced_age is not None:
        OLDEST_UNSYNCED.labels(device).set(oldest_unsynced_age)


def pushed(answer: PushOut) -> None:
    for result in answer.results:
        PUSH_OPS.labels(result.status).inc()
    if answer.stopped is not None:
        PUSH_STOPS.labels(answer.stopped.reason).inc()


async def open_conflicts(db: Database) -> float:
    """Conflicts waiting for a supervisor: counted on the (status, created_at) index."""
    async with db.read(quick=True) as session:
        waiting = select(func.count()).select_from(SyncConflict).where(SyncConflict.status == "open")
        return float(await session.scalar(waiting) or 0)


OPEN_CONFLICTS = ScrapeGauge(
    "gemba_sync_open_conflicts", "Conflicts waiting for a supervisor's decision", open_conflicts
)
