"""One log line per request: a request id (the client's X-Request-ID when sane, else a new one, echoed in
the answer), method, route, status, duration, the user, and the device on a phone's sync requests."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

import server.health
from server.requestlog import JsonLines, PlainLines
from tests.conftest import Api
from tests.integration.sync_helpers import Phone


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def fields(self) -> list[dict[str, object]]:
        return [record.fields for record in self.records]  # type: ignore[attr-defined]


@pytest.fixture
def lines() -> Iterator[Lines]:
    handler = Lines()
    logger = logging.getLogger("gemba.requests")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


async def test_the_request_id_is_the_clients_when_sane_else_a_new_one_and_comes_back(api: Api, lines: Lines) -> None:
    given = await api.client.get("/healthz", headers={"X-Request-ID": "lb-7f3a:42"})
    made = await api.client.get("/healthz")
    insane = await api.client.get("/healthz", headers={"X-Request-ID": "x" * 200})
    injected = await api.client.get("/healthz", headers={"X-Request-ID": 'a" level=error'})
    assert given.headers["x-request-id"] == "lb-7f3a:42"
    ids = [made.headers["x-request-id"], insane.headers["x-request-id"], injected.headers["x-request-id"]]
    assert all(len(request_id) == 32 for request_id in ids) and len(set(ids)) == 3
    assert [line["request_id"] for line in lines.fields()] == ["lb-7f3a:42", *ids]


async def test_a_sync_push_is_logged_with_user_device_route_status_and_duration(api: Api, lines: Lines) -> None:
    phone = await Phone.sign_in(api)
    await phone.push()
    refused = await api.client.get("/api/inventory")
    missing = await api.get("/api/units/NO-SUCH/history")
    push, unsigned, unknown = lines.fields()[1:]
    assert push["method"] == "POST" and push["route"] == push["path"] == "/api/sync/push"
    assert (push["status"], push["user"], push["device_id"]) == (200, "operator", phone.device_id)
    assert 0 < float(push["duration_ms"]) < 60_000  # type: ignore[arg-type]
    assert (unsigned["status"], unsigned["user"], unsigned["device_id"]) == (refused.status_code, None, None) == (401, None, None)
    assert (unknown["status"], unknown["user"]) == (missing.status_code, "operator")
    assert unknown["route"] == "/api/units/{serial}/history" and unknown["path"] == "/api/units/NO-SUCH/history"


async def test_json_lines_are_one_object_a_line_and_plain_lines_read_as_text(api: Api, lines: Lines) -> None:
    phone = await Phone.sign_in(api)
    await phone.pull()
    record = lines.records[-1]
    line = JsonLines().format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["logger"] == "gemba.requests" and parsed["level"] == "info"
    assert (parsed["route"], parsed["status"], parsed["device_id"], parsed["user"]) == (
        "/api/sync/pull", 200, phone.device_id, "operator"
    )
    plain = PlainLines().format(record)
    assert "POST /api/sync/pull 200" in plain and f"device_id={phone.device_id}" in plain and "user=operator" in plain


async def test_an_unhandled_error_is_logged_with_the_request_id_of_its_answer(
    api: Api, lines: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    errors = Lines()
    logging.getLogger("gemba.errors").addHandler(errors)

    def broken() -> str:
        raise RuntimeError("a bug")

    monkeypatch.setattr(server.health, "migrations_head", broken)
    try:
        answer = await api.client.get("/readyz", headers={"X-Request-ID": "req-500"})
    finally:
        logging.getLogger("gemba.errors").removeHandler(errors)
    assert answer.status_code == 500 and answer.json()["type"] == "/problems/internal-error"
    assert "a bug" not in answer.text
    [error] = errors.records
    assert error.fields == {"request_id": "req-500"}  # type: ignore[attr-defined]
    assert "RuntimeError: a bug" in JsonLines().format(error)
    assert lines.fields()[-1]["request_id"] == "req-500" and lines.fields()[-1]["status"] == 500
