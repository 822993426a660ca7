"""The API keeps its documented contract: schemathesis generates requests from /schema/openapi.json for every
operation (valid and invalid data), sends them in process to the app, and checks each answer — never a
server error, and the status code, content type and body as documented.

It runs as an operator and as an admin, each with a device-bound token (so push and pull get past the
device check), on the demo data, with a fixed seed. By default a short run: 2 examples per operation and mode
(valid, invalid), each role on one engine (with PostgreSQL: the admin on SQLite, the operator on PostgreSQL);
GEMBA_SOAK=1 runs 150 per operation and mode, every role on every engine (GEMBA_CONTRACT_EXAMPLES=N sets the
number).
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi

from server.app import create_app
from server.auth import AuthService
from server.db import Database
from server.demo import load_demo
from sync.wire import PROTOCOL
from tests.dbs import ENGINES

SEED = 20261202
SOAK = bool(os.environ.get("GEMBA_SOAK"))
EXAMPLES = int(os.environ.get("GEMBA_CONTRACT_EXAMPLES") or (150 if SOAK else 2))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MODES = [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
USERS = {"operator": ("olga", "gemba-oper"), "admin": ("admin", "gemba-admin")}
ENGINE_OF = {role: ENGINES[n % len(ENGINES)] for n, role in enumerate(sorted(USERS))}  # the default run's pairs
SIGN_OUT = ("DELETE", "/api/auth/token")


@pytest.fixture
async def demo(db: Database) -> Database:
    """A database with the demo shop in it (users, parts, locations, stock, a history)."""
    assert await load_demo(db)
    return db


class Device:
    """A phone signed in through the API: its id and its device-bound token."""

    def __init__(self, client: asgi.ASGIClient, username: str, password: str) -> None:
        self.client = client
        self.username, self.password = username, password
        self.device_id = str(uuid.uuid4())
        self.token = self.sign_in()

    def sign_in(self) -> str:
        response = self.client.post(
            "/api/auth/token",
            json={"username": self.username, "password": self.password, "device_id": self.device_id},
        )
        assert response.status_code == 200, response.text
        return response.json()["access_token"]


def bind_to_device(case: schemathesis.Case, device: Device, mode: schemathesis.GenerationMode) -> None:
    """Push and pull name the device and the protocol version in the body: a valid request names the device
    the token is bound to, in the version the server speaks."""
    if mode.is_positive and isinstance(case.body, dict) and "device_id" in case.body:
        case.body.update(device_id=device.device_id, protocol=PROTOCOL)


def run_operation(operation: Any, device: Device, mode: schemathesis.GenerationMode, answers: Counter) -> None:
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis.settings(
        max_examples=EXAMPLES, deadline=None, database=None, derandomize=False, print_blob=False,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.seed(SEED)
    def check(case: schemathesis.Case) -> None:
        bind_to_device(case, device, mode)
        # signing out revokes the token used: sign out a token of its own
        token = device.sign_in() if (operation.method.upper(), operation.path) == SIGN_OUT else device.token
        response = case.call(headers={"Authorization": f"Bearer {token}"})
        answers[operation.path, response.status_code] += 1
        case.validate_response(response, checks=CHECKS)

    check()


def failures_of(schema: Any, device: Device, answers: Counter) -> Iterator[str]:
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in MODES:
            try:
                run_operation(operation, device, mode, answers)
            except hypothesis.errors.Unsatisfiable:
                assert mode.is_negative, f"{operation.method} {operation.path}: no valid request can be generated"
                # an operation with nothing to get wrong (no parameters, no body): nothing negative to send
            except FailureGroup as group:
                yield f"{operation.method.upper()} {operation.path} ({mode.value}): {group}"


@pytest.mark.parametrize("role", sorted(USERS))
def test_every_operation_keeps_the_contract(demo: Database, role: str) -> None:
    if not SOAK and demo.dialect != ENGINE_OF[role]:
        pytest.skip(f"by default the {role} runs on {ENGINE_OF[role]} only (GEMBA_SOAK=1: on every engine)")
    # the app's own Database: schemathesis runs the app on its event loop thread, where its pool must live
    app = create_app(demo.settings, Database(demo.settings))
    try:
        schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
        with asgi.get_client(app) as client:
            device = Device(client, *USERS[role])
        answers: Counter = Counter()
        failures = list(failures_of(schema, device, answers))
    finally:
        asgi.shutdown_lifespans()  # the app's shutdown: its database pool is closed on its own event loop
    assert not failures, "\n\n".join(failures)
    # the device-bound token gets push and pull past the device check: some of each were answered
    assert answers["/api/sync/push", 200] and answers["/api/sync/pull", 200], sorted(answers.items())
