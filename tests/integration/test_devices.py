"""A device is bound by a secret only its phone holds: signing in with a known device id without that secret
(or with a wrong one) is refused and rebinds nothing; a shared phone keeps working, each op recorded under
the operator who made it; devices registered before secrets answer only to their own user, who secures
them; operators do not see other devices' ids."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import select

from server.db import Database
from server.models import Device, User
from tests.conftest import PASSWORD, Api
from tests.integration.sync_helpers import Phone

SECRET = "c2VjcmV0LW9mLXRoaXMtcGhvbmUtb25seQ"  # as the PWA makes it: 32 random bytes, base64url
OTHER_SECRET = "b3RoZXItcGhvbmVzLXNlY3JldC1ndWVzcw"


async def sign_in(api: Api, username: str, **extra: Any) -> Any:
    return await api.client.post("/api/auth/token", json={"username": username, "password": PASSWORD, **extra})


async def bound_user(db: Database, device: str) -> str:
    async with db.read() as session:
        return await session.scalar(
            select(User.username).join(Device, Device.user_id == User.id).where(Device.id == uuid.UUID(device))
        )


def assert_refused(response: Any) -> None:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert (body["type"], body["reason"], body["field"]) == (
        "/problems/device-secret-mismatch", "device_secret_mismatch", "device_secret",
    )
    assert "access_token" not in body


async def users(api: Api, *names: str) -> None:
    for name in names:
        created = await api.post("/api/users", {"username": name, "role": "operator", "password": PASSWORD}, "admin")
        assert created.status_code == 201, created.text


async def phone_of(api: Api, username: str, device: str, secret: str | None = SECRET) -> Phone:
    response = await sign_in(api, username, device_id=device, **({"device_secret": secret} if secret else {}))
    assert response.status_code == 200, response.text
    return Phone(api, username, device, response.json()["access_token"])


async def test_a_known_device_id_without_its_secret_is_refused_and_never_rebound(api: Api, db: Database) -> None:
    await users(api, "olga", "mallory")
    await api.part("PN-1", "untracked")
    await api.location("DOCK")
    device = str(uuid.uuid4())
    owner = await phone_of(api, "olga", device)
    first = await owner.push(owner.op("receive", part="PN-1", tracking="untracked", location="DOCK", quantity=1))
    assert first["last_seq"] == 1

    # mallory read the device id somewhere: without the secret, and with a guessed one, she gets nothing
    assert_refused(await sign_in(api, "mallory", device_id=device))
    assert_refused(await sign_in(api, "mallory", device_id=device, device_secret=OTHER_SECRET))
    assert_refused(await sign_in(api, "olga", device_id=device))  # the secret, not the password, binds it
    assert await bound_user(db, device) == "olga"

    # the phone's own next op goes through at the next seq, as if nothing happened
    second = await owner.push(owner.op("receive", part="PN-1", tracking="untracked", location="DOCK", quantity=2))
    assert (second["last_seq"], second["results"][0]["status"]) == (2, "applied")


async def test_a_shared_phone_keeps_working_and_each_op_is_recorded_under_who_made_it(api: Api, db: Database) -> None:
    await users(api, "olga", "piet")
    await api.part("PN-1", "untracked")
    await api.location("DOCK")
    device = str(uuid.uuid4())
    olga = await phone_of(api, "olga", device)
    by_olga = olga.op("receive", part="PN-1", tracking="untracked", location="DOCK", quantity=1)
    assert (await olga.push(by_olga))["results"][0]["status"] == "applied"
    queued = olga.op("receive", part="PN-1", tracking="untracked", location="DOCK", quantity=2)  # not synced yet

    # the next shift: piet signs in on the same phone (same device, same secret)
    piet = await phone_of(api, "piet", device)
    assert await bound_user(db, device) == "piet"
    piet.seq = olga.seq
    by_piet = piet.op("receive", part="PN-1", tracking="untracked", location="DOCK", quantity=3)
    answer = await piet.push(queued, by_piet)  # the queue: olga's last op, then piet's
    assert [r["status"] for r in answer["results"]] == ["applied", "applied"]
    assert answer["last_seq"] == 3

    trail = (await api.get("/api/activity", "supervisor", params={"part": "PN-1"})).json()["items"]
    made_by = {(m["quantity"], m["actor"], m["device_id"]) for m in trail if m["changes"] is None}  # movements
    assert made_by == {(1, "olga", device), (2, "olga", device), (3, "piet", device)}


async def test_an_actor_who_never_signed_in_on_the_device_is_not_taken_from_the_op(api: Api) -> None:
    await users(api, "olga")
    await api.part("PN-1", "untracked")
    await api.location("DOCK")
    olga = await phone_of(api, "olga", str(uuid.uuid4()))
    forged = olga.op("receive", part="PN-1", tracking="untracked", location="DOCK", quantity=1)
    forged["actor"] = "admin"
    assert (await olga.push(forged))["results"][0]["status"] == "applied"
    trail = (await api.get("/api/activity", "supervisor", params={"op_id": forged["op_id"]})).json()["items"]
    assert [m["actor"] for m in trail] == ["olga"]


async def test_a_device_registered_without_a_secret_answers_to_its_own_user_who_secures_it(
    api: Api, db: Database
) -> None:
    await users(api, "olga", "mallory")
    device = str(uuid.uuid4())
    # before device secrets (or a client that sends none): registered without one
    await phone_of(api, "olga", device, secret=None)
    assert_refused(await sign_in(api, "mallory", device_id=device))  # another user: no rebind
    assert_refused(await sign_in(api, "mallory", device_id=device, device_secret=OTHER_SECRET))
    assert await bound_user(db, device) == "olga"
    await phone_of(api, "olga", device, secret=None)  # its own user, as before

    # its own user's first sign-in with a secret secures it; from then on the secret is needed
    await phone_of(api, "olga", device, secret=SECRET)
    assert_refused(await sign_in(api, "olga", device_id=device))
    assert_refused(await sign_in(api, "olga", device_id=device, device_secret=OTHER_SECRET))
    await phone_of(api, "mallory", device, secret=SECRET)  # whoever holds the phone (a shared phone)
    assert await bound_user(db, device) == "mallory"


async def test_a_secret_goes_with_a_device_id_and_has_at_least_128_bits(api: Api) -> None:
    alone = await sign_in(api, "operator", device_secret=SECRET)
    assert alone.status_code == 422 and alone.json()["field"] == "device_secret"
    short = await sign_in(api, "operator", device_id=str(uuid.uuid4()), device_secret="too-short-21-chars-xx")
    assert short.status_code == 422 and short.json()["field"] == "device_secret"


async def test_operators_see_only_their_own_device_id_supervisors_see_every_one(api: Api) -> None:
    await users(api, "olga", "piet")
    await api.part("PN-L", "lot")
    await api.part("PN-S", "serial")
    await api.location("DOCK")
    await api.location("SHELF")
    olga_device, piet_device = str(uuid.uuid4()), str(uuid.uuid4())
    olga = await phone_of(api, "olga", olga_device)
    piet = await phone_of(api, "piet", piet_device, secret=OTHER_SECRET)
    pushed = await olga.push(
        olga.op("receive", part="PN-L", tracking="lot", location="DOCK", quantity=4, lot="L-1"),
        olga.op("receive", part="PN-S", tracking="serial", location="DOCK", quantity=1, serial="SN-1"),
    )
    pushed["results"] += (await piet.push(
        piet.op("receive", part="PN-L", tracking="lot", location="DOCK", quantity=5, lot="L-1"),
        piet.op("move", part="PN-S", tracking="serial", serial="SN-1", quantity=1, from_location="DOCK",
                to_location="SHELF"),
    ))["results"]
    assert [r["status"] for r in pushed["results"]] == ["applied"] * 4, pushed

    async def seen(path: str, token: str, key: str = "items") -> set[tuple[str, str | None]]:
        response = await api.client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        return {(m["actor"], m["device_id"]) for m in response.json()[key] if m.get("changes") is None}  # not master data

    everything = {("olga", olga_device), ("piet", piet_device)}
    for path, key in (("/api/activity", "items"), ("/api/lots/PN-L/L-1/history", "events"),
                      ("/api/units/SN-1/history", "events")):
        assert await seen(path, api.tokens["supervisor"], key) == everything
        assert await seen(path, api.tokens["admin"], key) == everything
        assert await seen(path, olga.token, key) == {("olga", olga_device), ("piet", None)}
        assert await seen(path, piet.token, key) == {("olga", None), ("piet", piet_device)}
        assert await seen(path, api.tokens["operator"], key) == {("olga", None), ("piet", None)}


async def test_two_first_sign_ins_with_one_new_device_id_at_once_register_it_once(api: Api, db: Database) -> None:
    """Both sign-ins hash at once and then write: on PostgreSQL the second INSERT used to fail on the first's
    row (a 500). Now the second finds the device registered by the first and is checked against its secret."""
    await users(api, "olga", "mallory")
    for _ in range(5):
        same = str(uuid.uuid4())
        twins = await asyncio.gather(*(sign_in(api, "olga", device_id=same, device_secret=SECRET) for _ in range(2)))
        assert [response.status_code for response in twins] == [200, 200], [r.text for r in twins]

        contested = str(uuid.uuid4())
        olga, mallory = await asyncio.gather(
            sign_in(api, "olga", device_id=contested, device_secret=SECRET),
            sign_in(api, "mallory", device_id=contested, device_secret=OTHER_SECRET),
        )
        winner, loser = (olga, mallory) if olga.status_code == 200 else (mallory, olga)
        assert winner.status_code == 200, winner.text
        assert_refused(loser)
        assert await bound_user(db, contested) == ("olga" if winner is olga else "mallory")
