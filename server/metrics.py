"""Prometheus metrics at `GET /metrics` (prometheus-client), for a site's monitoring to scrape.

Protected by a setting: with `GEMBA_METRICS_TOKEN` set, a scrape must send `Authorization: Bearer <it>`
(401 otherwise); unset, `/metrics` answers 404 as if it did not exist. API tokens do not open it.

What is counted where:
- every request (server/requestlog.py): `gemba_http_requests_total{method, route, status}` and
  `gemba_http_request_duration_seconds{method, route}` (a histogram; `route` is the route's template, such as
  `/api/sync/push` or `/api/parts/{part_number}`, or `unmatched`);
- what only sync knows (sync/metrics.py): ops answered by pushes, by outcome; each device's report;
- values read from the database when scraped (`ScrapeGauge`, e.g. the open conflicts): one cheap query
  each, so that every process answers the same.

Several server processes (`gemba serve --workers N`): prometheus-client's multiprocess mode. `gemba serve`
points `PROMETHEUS_MULTIPROC_DIR` at a fresh directory before the workers start; each worker writes its
values to files there, and a scrape, whichever worker answers it, adds up every worker's.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

from litestar import Request, Response, get
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.handlers import HTTPRouteHandler
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from server.db import Database

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)  # a push's p95 goal is 0.5 s

REQUESTS = Counter(
    "gemba_http_requests", "HTTP requests answered, by method, route template and status", ["method", "route", "status"]
)
REQUEST_SECONDS = Histogram(
    "gemba_http_request_duration_seconds", "Time from a request's arrival to its last byte, by method and route template",
    ["method", "route"], buckets=SECONDS_BUCKETS,
)


@dataclass(frozen=True, slots=True)
class ScrapeGauge:
    """A gauge whose value is read from the database at each scrape."""

    name: str
    documentation: str
    read: Callable[[Database], Awaitable[float]]


class _Values:
    """A collector of values already read (prometheus-client collects synchronously; the reads are async)."""

    def __init__(self, values: list[tuple[ScrapeGauge, float]]) -> None:
        self.values = values

    def collect(self) -> Iterator[Metric]:
        for gauge, value in self.values:
            yield GaugeMetricFamily(gauge.name, gauge.documentation, value=value)


def exposition(scraped: list[tuple[ScrapeGauge, float]]) -> bytes:
    """The text exposition of this process's metrics (every worker's in multiprocess mode) and `scraped`."""
    if os.environ.get(MULTIPROCESS_DIR):
        counted = CollectorRegistry()
        MultiProcessCollector(counted)
    else:
        counted = REGISTRY
    read_now = CollectorRegistry()
    read_now.register(_Values(scraped))
    return generate_latest(counted) + generate_latest(read_now)


def metrics_route(token: str | None, gauges: list[ScrapeGauge]) -> HTTPRouteHandler:
    """`GET /metrics`, answering only scrapes that bring `token` (404 for everyone when it is None)."""

    @get("/metrics", exclude_from_auth=True, include_in_schema=False)
    async def metrics(request: Request) -> Response[bytes]:
        if token is None:
            raise NotFoundException("No such route: metrics are off (set GEMBA_METRICS_TOKEN)")
        scheme, _, sent = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(sent.strip().encode(), token.encode()):
            raise NotAuthorizedException("Send Authorization: Bearer <GEMBA_METRICS_TOKEN>")
        db: Database = request.app.state.db
        scraped = [(gauge, await gauge.read(db)) for gauge in gauges]
        return Response(exposition(scraped), media_type=CONTENT_TYPE_LATEST)

    return metrics
