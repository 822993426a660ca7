"""Signing in, bearer tokens on every /api/ route, revocation, devices, roles, and `gemba users add`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar.routes import HTTPRoute
from sqlalchemy import select

from server.app import create_app
from server.auth import AuthService
from server.db import Database
from server.models import Device
from server.settings import REPO_ROOT, Settings
from tests.conftest import PASSWORD, Api

SIGN_IN = ("POST", "/api/auth/token")


async def sign_in(api: Api, username: str, password: str = PASSWORD, **extra: Any) -> Any:
    return await api.client.post("/api/auth/token", json={"username": username, "password": password, **extra})


def assert_problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == f"/problems/{slug}"
    assert body["status"] == status
    assert body["reason"] == slug.replace("-", "_")
    return body


# ---- signing in ---------------------------------------------------------------------------------
async def test_sign_in_gives_a_bearer_token_valid_for_at_least_a_week(api: Api, db: Database) -> None:
    before = datetime.now(UTC)
    response = await sign_in(api, "operator")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert (body["user"]["username"], body["user"]["role"]) == ("operator", "operator")
    uuid.UUID(body["user"]["id"])
    assert body["device_id"] is None
    assert datetime.fromisoformat(body["expires_at"]) >= before + timedelta(days=7)
    token = body["access_token"]
    assert len(token) >= 32
    assert (await api.client.get("/api/parts", headers={"Authorization": f"Bearer {token}"})).status_code == 200

    # Wrong password and unknown user: the same answer, so it gives no hint which usernames exist.
    for username, password in [("operator", "not the password"), ("nobody", PASSWORD)]:
        refused = assert_problem(await sign_in(api, username, password), 401, "bad-credentials")
        assert refused["detail"] == "Wrong username or password"
    missing = await api.client.post("/api/auth/token", json={"username": "operator"})
    assert assert_problem(missing, 422, "invalid")["field"] == "password"

    # The lifetime is a setting (GEMBA_TOKEN_TTL_HOURS).
    settings = Settings.from_env({"DATABASE_URL": db.settings.database_url, "GEMBA_TOKEN_TTL_HOURS": "30"})
    before = datetime.now(UTC)
    issued = await AuthService(Database(settings, engine=db.engine)).issue("operator", PASSWORD)
    assert before + timedelta(hours=30) <= issued.expires_at <= datetime.now(UTC) + timedelta(hours=30)


async def test_a_device_id_binds_the_device_and_its_ops_carry_it(api: Api, db: Database) -> None:
    device, secret = uuid.uuid4(), "s3cret-of-this-phone-only-0123456789"
    response = await sign_in(api, "operator", device_id=str(device), device_name="Zebra TC52 #4", device_secret=secret)
    assert response.status_code == 200, response.text
    assert response.json()["device_id"] == str(device)
    phone = {"Authorization": f"Bearer {response.json()['access_token']}"}

    await api.part("PN-DEV", "untracked")
    await api.location("DOCK")
    op = {"op_id": str(uuid.uuid4()), "type": "receive",
          "args": {"part": "PN-DEV", "tracking": "untracked", "location": "DOCK", "quantity": 5}}
    assert (await api.client.post("/api/ops", json=op, headers=phone)).status_code == 201
    trail = (await api.get("/api/activity", "supervisor", params={"op_id": op["op_id"]})).json()["items"]
    assert [(m["actor"], m["device_id"]) for m in trail] == [("operator", str(device))]

    # A shared phone (it holds the device's secret): the latest sign-in binds it to the new user.
    assert (await sign_in(api, "supervisor", device_id=str(device), device_secret=secret)).status_code == 200
    async with db.read() as session:
        bound_to = await session.scalar(select(Device.user_id).where(Device.id == device))
    supervisor_id = (await sign_in(api, "supervisor")).json()["user"]["id"]
    assert str(bound_to) == supervisor_id


# ---- every /api/ route needs a valid token ------------------------------------------------------
def api_routes(db: Database) -> list[tuple[str, str]]:
    """(method, path with sample parameters) of every /api/ route the app serves, except sign-in."""
    app = create_app(db.settings, db)
    routes = set()
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith("/api/"):
            continue
        samples = {"uuid": str(uuid.UUID(int=7)), "int": "1"}
        path = re.sub(r"\{(\w+):(\w+)\}", lambda m: samples.get(m.group(2), "X-1"), route.path)
        for method in route.methods - {"OPTIONS", "HEAD"}:  # CORS pre-flights carry no credentials
            if (method, route.path) != SIGN_IN:
                routes.add((method, path))
    return sorted(routes)


async def expired_token(db: Database) -> str:
    expired = Database(replace(db.settings, token_ttl_hours=-1), engine=db.engine)
    return (await AuthService(expired).issue("operator", PASSWORD)).access_token


async def revoked_token(api: Api) -> str:
    token = (await sign_in(api, "operator")).json()["access_token"]
    revoked = await api.client.delete("/api/auth/token", headers={"Authorization": f"Bearer {token}"})
    assert revoked.status_code == 204
    return token


async def test_every_api_route_refuses_a_missing_wrong_expired_or_revoked_token(api: Api, db: Database) -> None:
    routes = api_routes(db)
    expected = {("GET", "/api/inventory"), ("POST", "/api/ops"), ("DELETE", "/api/auth/token"), ("POST", "/api/users")}
    assert expected <= set(routes)  # the enumeration really sees the app's routes
    credentials: dict[str, dict[str, str]] = {
        "none": {},
        "not bearer": {"Authorization": f"Basic {api.tokens['admin']}"},
        "empty bearer": {"Authorization": "Bearer "},
        "garbage": {"Authorization": "Bearer not-a-token-at-all"},
        "expired": {"Authorization": f"Bearer {await expired_token(db)}"},
        "revoked": {"Authorization": f"Bearer {await revoked_token(api)}"},
    }
    failures = []
    for method, path in routes:
        for name, headers in credentials.items():
            response = await api.client.request(method, path, headers=headers, json={} if method != "GET" else None)
            ok = (
                response.status_code == 401
                and response.headers.get("content-type", "").startswith("application/problem+json")
                and response.json()["type"] == "/problems/unauthorized"
                and response.headers.get("www-authenticate") == "Bearer"
            )
            if not ok:
                failures.append(f"{method} {path} with {name} token: {response.status_code} {response.text[:120]}")
    assert failures == []


async def test_signing_out_revokes_the_token_used_and_an_admin_can_revoke_all_of_a_user(api: Api) -> None:
    first = (await sign_in(api, "operator")).json()["access_token"]
    second = (await sign_in(api, "operator", device_id=str(uuid.uuid4()))).json()["access_token"]
    out = await api.client.delete("/api/auth/token", headers={"Authorization": f"Bearer {first}"})
    assert out.status_code == 204
    assert (await api.client.get("/api/parts", headers={"Authorization": f"Bearer {first}"})).status_code == 401
    assert (await api.client.get("/api/parts", headers={"Authorization": f"Bearer {second}"})).status_code == 200

    # A lost phone: the admin signs the user out everywhere.
    response = await api.post("/api/users/operator/revoke-tokens", {}, "admin")
    assert response.status_code == 200, response.text
    assert response.json() == {"revoked": 2}  # the fixture's token and the phone's; the first was already
    for token in (second, api.tokens["operator"]):
        assert (await api.client.get("/api/parts", headers={"Authorization": f"Bearer {token}"})).status_code == 401
    assert (await api.get("/api/parts", "supervisor")).status_code == 200
    assert (await sign_in(api, "operator")).status_code == 200  # signing in again works


# ---- roles --------------------------------------------------------------------------------------
async def test_only_an_admin_manages_users(api: Api) -> None:
    for role in ("operator", "supervisor"):
        new_user = {"username": "dana", "role": "operator", "password": "long enough"}
        assert_problem(await api.post("/api/users", new_user, role), 403, "forbidden")
        assert_problem(await api.get("/api/users", role), 403, "forbidden")
        assert_problem(await api.post("/api/users/admin/revoke-tokens", {}, role), 403, "forbidden")
    assert (await sign_in(api, "dana", "long enough")).status_code == 401

    created = await api.post("/api/users", {"username": "dana", "role": "supervisor", "password": "long enough"}, "admin")
    assert created.status_code == 201, created.text
    assert created.json()["username"] == "dana" and created.json()["role"] == "supervisor"
    signed_in = await sign_in(api, "dana", "long enough")
    assert signed_in.status_code == 200 and signed_in.json()["user"]["role"] == "supervisor"
    listed = (await api.get("/api/users", "admin")).json()
    assert [(u["username"], u["role"]) for u in listed] == [
        ("admin", "admin"), ("dana", "supervisor"), ("operator", "operator"), ("supervisor", "supervisor"),
    ]

    again = await api.post("/api/users", {"username": "dana", "role": "operator", "password": "long enough"}, "admin")
    assert assert_problem(again, 409, "already-exists")["field"] == "username"
    short = await api.post("/api/users", {"username": "eve", "role": "operator", "password": "short"}, "admin")
    assert assert_problem(short, 422, "invalid")["field"] == "password"
    bad_role = await api.post("/api/users", {"username": "eve", "role": "boss", "password": "long enough"}, "admin")
    assert assert_problem(bad_role, 422, "invalid")["field"] == "role"


async def test_an_operator_cannot_create_or_edit_parts_and_locations_nor_switch_tracking(api: Api) -> None:
    await api.part("PN-1", "untracked")
    await api.location("SHELF-1")
    assert_problem(await api.post("/api/parts", {"part_number": "PN-2", "tracking": "lot"}), 403, "forbidden")
    assert_problem(await api.post("/api/locations", {"code": "SHELF-2"}), 403, "forbidden")
    assert_problem(await api.patch("/api/parts/PN-1", {"description": "x"}, "operator"), 403, "forbidden")
    assert_problem(await api.patch("/api/locations/SHELF-1", {"available": False}, "operator"), 403, "forbidden")
    assert (await api.get("/api/parts/PN-2")).status_code == 404
    assert [(loc["code"], loc["available"]) for loc in (await api.get("/api/locations")).json()] == [("SHELF-1", True)]
    # An operator may add a supplier on the fly (as when receiving).
    assert (await api.post("/api/suppliers", {"name": "Acme"})).status_code == 201

    # Tracking type: admin only; a supervisor's other edits still go through.
    for role in ("operator", "supervisor"):
        body = assert_problem(await api.patch("/api/parts/PN-1", {"tracking": "lot"}, role), 403, "forbidden")
        if role == "supervisor":
            assert body["field"] == "tracking"
    assert (await api.get("/api/parts/PN-1")).json()["tracking"] == "untracked"
    edited = await api.patch("/api/parts/PN-1", {"description": "M3 screw"}, "supervisor")
    assert edited.status_code == 200 and edited.json()["description"] == "M3 screw"
    switched = await api.patch("/api/parts/PN-1", {"tracking": "lot"}, "admin")
    assert switched.status_code == 200 and switched.json()["tracking"] == "lot"


# ---- the command line ---------------------------------------------------------------------------
# tests/integration/test_cli.py covers the command's options and errors; this proves the user it makes
# can sign in with the password given on stdin (how a test harness bootstraps a fresh install).
@pytest.mark.skipif(not (REPO_ROOT / "server" / "migrate.py").exists(), reason="no migrations yet (server/migrate.py)")
async def test_a_user_added_by_the_gemba_command_can_sign_in(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    script = Path(sys.executable).with_name("gemba")
    added = subprocess.run(
        [str(script), "users", "add", "alice", "--role", "supervisor"], input="alice-secret-pw\n",
        capture_output=True, text=True, env={**os.environ, "DATABASE_URL": url}, cwd=REPO_ROOT, timeout=120,
    )
    assert added.returncode == 0, added.stderr
    db = Database(Settings(database_url=url))
    try:
        issued = await AuthService(db).issue("alice", "alice-secret-pw")
        assert (issued.user.username, issued.user.role) == ("alice", "supervisor")
        assert await AuthService(db).resolve(issued.access_token) is not None
    finally:
        await db.dispose()
