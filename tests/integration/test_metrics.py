"""GET /metrics as a site's Prometheus scrapes it: behind its own token (404 when none is set), counting
requests by route and status, push ops by outcome, latencies, the conflicts open now (read from the
database) and each phone's report of its oldest unsynced op."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from server.app import create_app
from server.auth import AuthService
from server.db import Database
from tests.conftest import PASSWORD, Api
from tests.integration.sync_helpers import Phone

TOKEN = "scrape-me-0123456789"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
async def metered(db: Database) -> AsyncIterator[Api]:
    """The app with GEMBA_METRICS_TOKEN set, and a signed-in user per role."""
    settings = dataclasses.replace(db.settings, metrics_token=TOKEN)
    auth, tokens = AuthService(db), {}
    for role in ("operator", "supervisor", "admin"):
        await auth.add_user(role, role, PASSWORD)
        tokens[role] = (await auth.issue(role, PASSWORD)).access_token
    transport = httpx.ASGITransport(app=create_app(settings, db))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
        yield Api(client, tokens)


async def scrape(api: Api) -> Samples:
    answer = await api.client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text) for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_metrics_are_off_without_a_token_and_closed_to_others(db: Database, metered: Api) -> None:
    assert db.settings.metrics_token is None
    transport = httpx.ASGITransport(app=create_app(db.settings, db))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
        off = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert off.status_code == 404
    for headers in ({}, {"Authorization": "Bearer wrong"}, metered.headers("admin")):  # an API token does not open it
        closed = await metered.client.get("/metrics", headers=headers)
        assert closed.status_code == 401, closed.text
        assert closed.json()["type"] == "/problems/unauthorized"
        assert "gemba_" not in closed.text


async def test_a_scrape_counts_requests_push_outcomes_latencies_conflicts_and_device_reports(metered: Api) -> None:
    api = metered
    await api.part("PN-M", "untracked")
    await api.location("RACK-1")
    await api.location("RACK-2")
    phone = await Phone.sign_in(api)
    before = await scrape(api)
    assert value(before, "gemba_sync_open_conflicts") == 0

    received = phone.op("receive", part="PN-M", tracking="untracked", location="RACK-1", quantity=5)
    too_many = phone.op("move", part="PN-M", tracking="untracked", from_location="RACK-1", to_location="RACK-2", quantity=50)
    pushed = await phone.push_raw([received, too_many], oldest_unsynced_age=754.5)
    assert [r["status"] for r in pushed.json()["results"]] == ["applied", "held"]
    replay = await phone.push_raw([received])
    assert replay.json()["results"][0]["status"] == "duplicate"
    after = await scrape(api)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("gemba_sync_push_ops_total", outcome="applied") == 1
    assert grew("gemba_sync_push_ops_total", outcome="held") == 1
    assert grew("gemba_sync_push_ops_total", outcome="duplicate") == 1
    assert grew("gemba_http_requests_total", method="POST", route="/api/sync/push", status="200") == 2
    assert grew("gemba_http_request_duration_seconds_count", method="POST", route="/api/sync/push") == 2
    assert grew("gemba_http_requests_total", method="POST", route="/api/parts", status="201") == 0  # before `before`
    assert value(after, "gemba_sync_open_conflicts") == 1  # the held move waits for a supervisor
    assert value(after, "gemba_device_oldest_unsynced_op_age_seconds", device=phone.device_id) == 754.5
    assert value(after, "gemba_device_last_sync_timestamp_seconds", device=phone.device_id) > 0

    # the phone's queue is empty now: its next pull says so
    synced = await phone.post("/api/sync/pull", {"protocol": 1, "device_id": phone.device_id, "oldest_unsynced_age": 0})
    assert synced.status_code == 200
    # an unknown path, or a method no route has, is counted under one label, not its own
    assert (await api.client.get("/no/such/page")).status_code == 404
    assert (await api.client.request("BREW", "/healthz")).status_code == 405
    later = await scrape(api)
    assert value(later, "gemba_http_requests_total", method="OTHER", route="unmatched", status="405") >= 1
    assert not any(("method", "BREW") in labels for _, labels in later)
    assert value(later, "gemba_device_oldest_unsynced_op_age_seconds", device=phone.device_id) == 0
    assert value(later, "gemba_http_requests_total", method="GET", route="unmatched", status="404") >= 1
    assert not any("/no/such/page" in str(labels) for _, labels in later)


async def test_a_bad_report_is_refused_naming_the_field(metered: Api) -> None:
    phone = await Phone.sign_in(metered)
    answer = await phone.push_raw([], oldest_unsynced_age=-1)
    assert answer.status_code == 422
    assert answer.json()["field"] == "oldest_unsynced_age"
