"""Signing in under attack: failed attempts are throttled (429 with Retry-After) per username and address
without locking the real user out; an unknown username costs one hash like a wrong password; hashing runs
in a worker thread with no database transaction open, so sign-ins at the real scrypt cost hold up neither
other requests nor writers."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest
from litestar import Litestar

import server.auth
from server.app import create_app
from server.auth import AuthService
from server.db import Database
from server.errors import BadCredentials, TooManyAttempts
from tests.conftest import PASSWORD, Api

WRONG = "not the password"


@pytest.fixture
async def app(db: Database, api: Api) -> Litestar:  # noqa: ARG001 - api: its users
    """The app, its throttle on the test's own clock (a slow machine does not let a wait run out)."""
    app = create_app(db.settings, db)
    now = app.state.auth.throttle.clock()
    app.state.auth.throttle.clock = lambda: now
    return app


@pytest.fixture
async def client_at(app: Litestar) -> AsyncIterator[Callable[[str], httpx.AsyncClient]]:
    """A client of `app` seen from a given address."""
    clients: list[httpx.AsyncClient] = []

    def at(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        clients.append(httpx.AsyncClient(transport=transport, base_url="http://testserver.local"))
        return clients[-1]

    yield at
    for client in clients:
        await client.aclose()


async def sign_in(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/api/auth/token", json={"username": username, "password": password})


def assert_throttled(response: httpx.Response, seconds: int) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["retry-after"] == str(seconds)
    body = response.json()
    assert (body["type"], body["reason"], body["retry_after"]) == (
        "/problems/too-many-attempts", "too_many_attempts", seconds,
    )


async def test_wrong_passwords_in_a_row_are_throttled_without_locking_the_real_user_out(
    app: Litestar, client_at: Any
) -> None:
    throttle = app.state.auth.throttle
    now = throttle.clock()
    guesser = client_at("203.0.113.9")
    answers = [(await sign_in(guesser, "operator", f"{WRONG} {n}")).status_code for n in range(60)]
    assert answers == [401] * 5 + [429] * 55  # the 55 others were not even checked
    assert_throttled(await sign_in(guesser, "operator", PASSWORD), 1)  # locked: even the right password waits

    # the operator on their own phone is not held back
    assert (await sign_in(client_at("10.0.0.7"), "operator", PASSWORD)).status_code == 200

    # the wait doubles with each further failure, up to GEMBA_SIGNIN_MAX_DELAY
    throttle.clock = lambda: now + 1
    assert (await sign_in(guesser, "operator", WRONG)).status_code == 401
    assert_throttled(await sign_in(guesser, "operator", WRONG), 2)
    throttle.clock = lambda: now + 3
    assert (await sign_in(guesser, "operator", PASSWORD)).status_code == 200  # a success clears the count
    assert (await sign_in(guesser, "operator", WRONG)).status_code == 401


async def test_a_guesser_spread_over_addresses_meets_the_username_cap_but_the_users_own_phone_does_not(
    client_at: Any,
) -> None:
    phone = client_at("10.0.0.7")
    assert (await sign_in(phone, "operator", PASSWORD)).status_code == 200
    for n in range(4):
        for _ in range(5):
            assert (await sign_in(client_at(f"198.51.100.{n}"), "operator", WRONG)).status_code == 401
    assert_throttled(await sign_in(client_at("198.51.100.200"), "operator", PASSWORD), 1)
    assert (await sign_in(phone, "operator", PASSWORD)).status_code == 200


async def test_one_address_trying_many_usernames_is_throttled(client_at: Any) -> None:
    sprayer = client_at("203.0.113.50")
    for n in range(20):
        assert (await sign_in(sprayer, f"user{n}", WRONG)).status_code == 401
    assert_throttled(await sign_in(sprayer, "supervisor", WRONG), 1)
    assert (await sign_in(client_at("10.0.0.8"), "supervisor", PASSWORD)).status_code == 200


async def test_the_back_off_is_a_setting(db: Database, api: Api) -> None:  # noqa: ARG001 - api: its users
    settings = replace(db.settings, signin_free_attempts=2, signin_max_delay=1)
    auth = AuthService(Database(settings, engine=db.engine))
    for _ in range(2):
        with pytest.raises(BadCredentials):
            await auth.issue("operator", WRONG)
    with pytest.raises(TooManyAttempts):
        await auth.issue("operator", PASSWORD)


# ---- hashing ------------------------------------------------------------------------------------
@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch, db: Database) -> list[dict[str, Any]]:
    """Every scrypt computed: its cost, whether it ran off the event loop's thread, and how many database
    connections were checked out meanwhile (a transaction holds one)."""
    seen: list[dict[str, Any]] = []
    real, loop_thread = server.auth._scrypt, threading.get_ident()

    def watched(password: str, salt: bytes, log2_n: int) -> bytes:
        seen.append({
            "cost": log2_n, "off_loop": threading.get_ident() != loop_thread,
            "connections": db.engine.sync_engine.pool.checkedout(),
        })
        return real(password, salt, log2_n)

    monkeypatch.setattr(server.auth, "_scrypt", watched)
    return seen


async def test_an_unknown_user_costs_one_hash_like_a_wrong_password(api: Api, db: Database, hashes: list[Any]) -> None:
    for username in ("operator", "nobody"):
        hashes.clear()
        response = await api.client.post("/api/auth/token", json={"username": username, "password": WRONG})
        assert response.status_code == 401
        assert [h["cost"] for h in hashes] == [db.settings.scrypt_log2_n], username


async def test_hashing_runs_in_a_worker_thread_with_no_transaction_open(api: Api, hashes: list[Any]) -> None:
    for username, password in (("operator", PASSWORD), ("operator", WRONG), ("nobody", WRONG)):
        await api.client.post("/api/auth/token", json={"username": username, "password": password})
    created = await api.post("/api/users", {"username": "dana", "role": "operator", "password": PASSWORD}, "admin")
    assert created.status_code == 201
    assert hashes == [{"cost": 4, "off_loop": True, "connections": 0}] * 4


async def test_sign_ins_at_the_real_cost_hold_up_neither_other_requests_nor_writes(
    api: Api, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_cost = AuthService(Database(replace(db.settings, scrypt_log2_n=server.auth.SCRYPT_LOG2_N), engine=db.engine))
    await real_cost.add_user("olga", "operator", PASSWORD)
    await api.part("PN-1", "untracked")
    await api.location("DOCK")

    # Each hash waits until all four are under way (possible only if none holds the event loop), then
    # until the other requests below are answered.
    started, all_started, go = [0], threading.Event(), threading.Event()
    lock, real = threading.Lock(), server.auth._scrypt

    def gated(password: str, salt: bytes, log2_n: int) -> bytes:
        with lock:
            started[0] += 1
            if started[0] == 4:
                all_started.set()
        go.wait(timeout=5)
        return real(password, salt, log2_n)

    monkeypatch.setattr(server.auth, "_scrypt", gated)
    sign_ins = [
        asyncio.create_task(api.client.post("/api/auth/token", json={"username": "olga", "password": f"{WRONG} {n}"}))
        for n in range(4)
    ]
    assert await asyncio.to_thread(all_started.wait, 5), "the hashes ran one after another"
    health = await api.client.get("/healthz")
    receipt = await api.op("receive", part="PN-1", tracking="untracked", location="DOCK", quantity=1)
    go.set()
    assert (health.status_code, receipt.status_code) == (200, 201)
    assert [answer.status_code for answer in await asyncio.gather(*sign_ins)] == [401] * 4
