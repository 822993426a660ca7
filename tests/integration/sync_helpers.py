"""Sync test support: phones (a device signed in with a device-bound token, numbering its ops), a small
catalogue, and a client-side replica that applies pulled changes the way a phone would."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.conftest import PASSWORD, Api


class Phone:
    """One device: its bound token, its next seq, and push/pull as the phone app sends them."""

    def __init__(self, api: Api, username: str, device_id: str, token: str) -> None:
        self.api = api
        self.username = username
        self.device_id = device_id
        self.token = token
        self.seq = 0

    @classmethod
    async def sign_in(cls, api: Api, username: str = "operator") -> Phone:
        device_id = str(uuid.uuid4())
        response = await api.client.post(
            "/api/auth/token",
            json={"username": username, "password": PASSWORD, "device_id": device_id, "device_name": f"{username}'s phone"},
        )
        assert response.status_code == 200, response.text
        return cls(api, username, device_id, response.json()["access_token"])

    def op(self, op_type: str, *, depends_on: list[dict[str, Any]] | None = None, **args: Any) -> dict[str, Any]:
        """The next op of this device (seq counts up), as the outbox would hold it."""
        self.seq += 1
        return {
            "op_id": str(uuid.uuid4()), "seq": self.seq, "type": op_type, "actor": self.username,
            "client_time": "2026-11-23T09:14:03Z", "depends_on": [dep["op_id"] for dep in depends_on or []],
            "args": args,
        }

    async def post(self, url: str, body: dict[str, Any]) -> Any:
        return await self.api.client.post(url, json=body, headers={"Authorization": f"Bearer {self.token}"})

    async def push_raw(self, ops: list[dict[str, Any]], **overrides: Any) -> Any:
        return await self.post("/api/sync/push", {"protocol": 1, "device_id": self.device_id, "ops": ops, **overrides})

    async def push(self, *ops: dict[str, Any]) -> dict[str, Any]:
        response = await self.push_raw(list(ops))
        assert response.status_code == 200, response.text
        return response.json()

    async def pull(self, cursor: str | None = None, limit: int = 1000) -> dict[str, Any]:
        response = await self.post(
            "/api/sync/pull", {"protocol": 1, "device_id": self.device_id, "cursor": cursor, "limit": limit}
        )
        assert response.status_code == 200, response.text
        return response.json()


def by_seq(body: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {result["seq"]: result for result in body["results"]}


class Replica:
    """A phone's local copy: changes applied in order, pulled page by page until has_more is false."""

    def __init__(self, phone: Phone) -> None:
        self.phone = phone
        self.cursor: str | None = None
        self.rows: dict[tuple[str, str], dict[str, Any]] = {}
        self.pages: list[dict[str, Any]] = []
        self.op_results: dict[str, dict[str, Any]] = {}

    async def sync(self, limit: int = 1000) -> Replica:
        while True:
            page = await self.phone.pull(self.cursor, limit)
            if page["reset"]:
                self.rows.clear()
            for change in page["changes"]:
                key = (change["entity"], change["id"])
                if change["op"] == "del":
                    self.rows.pop(key, None)
                else:
                    self.rows[key] = change["data"]
            for result in page["op_results"]:
                self.op_results[result["op_id"]] = result
            self.pages.append(page)
            self.cursor = page["cursor"]
            if not page["has_more"]:
                return self

    def of(self, entity: str) -> list[dict[str, Any]]:
        return [data for (kind, _), data in self.rows.items() if kind == entity]

    def stock(self) -> dict[tuple[str, str | None, str | None, str, str], int]:
        """{(part, serial, lot, location, status): quantity} of the inventory rows held."""
        return {
            (row["part"], row["serial"], row["lot"], row["location"], row["status"]): row["quantity"]
            for row in self.of("inventory")
        }


@pytest.fixture
async def shop(api: Api) -> Api:
    """Parts of each tracking type and a few locations."""
    await api.part("PN-S", "serial")
    await api.part("PN-ASM", "serial")
    await api.part("PN-L", "lot")
    await api.part("PN-U", "untracked")
    for code in ("DOCK", "A", "B", "C"):
        await api.location(code)
    return api


@pytest.fixture
async def phone(api: Api) -> Phone:
    return await Phone.sign_in(api, "operator")


@pytest.fixture
async def other_phone(api: Api) -> Phone:
    return await Phone.sign_in(api, "operator")


def receive_u(phone: Phone, quantity: int, location: str = "A", **extra: Any) -> dict[str, Any]:
    return phone.op("receive", part="PN-U", tracking="untracked", location=location, quantity=quantity, **extra)


def move_u(phone: Phone, quantity: int, source: str, target: str, **extra: Any) -> dict[str, Any]:
    return phone.op(
        "move", part="PN-U", tracking="untracked", from_location=source, to_location=target, quantity=quantity, **extra
    )


async def untracked_at(api: Api) -> dict[str, int]:
    """{location: quantity} of PN-U on hand, as the inventory list shows it."""
    return {item["location"]: item["quantity"] for item in await api.items(part="PN-U") if item["status"] == "available"}
