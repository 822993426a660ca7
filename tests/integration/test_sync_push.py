"""Sync push through the HTTP API: seq order, exactly once, replays, gaps, reused ids, every reason of the
protocol's table, dependencies, concurrency, transient failures, protocol version and device binding."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

import sync.runner
from server.ops import handlers
from server.errors import OP_REASONS
from sync.decide import OUTCOMES
from sync.errors import SYNC_REASONS
from tests.conftest import Api
from tests.integration.sync_helpers import (  # noqa: F401 - fixtures
    Phone,
    by_seq,
    move_u,
    other_phone,
    phone,
    receive_u,
    shop,
    untracked_at,
)

DOCS = Path(__file__).resolve().parents[2] / "docs"
ERROR_TABLE = (DOCS / "api.md").read_text()
SYNC_PAGE = (DOCS / "sync.md").read_text()


def outcome(result: dict[str, Any]) -> tuple[str, str | None, bool]:
    return result["status"], result.get("reason"), "conflict_id" in result


# ---- order, exactly once ------------------------------------------------------------------------
async def test_ops_apply_in_seq_order_and_a_replayed_batch_is_answered_from_the_stored_results(
    shop: Api, phone: Phone
) -> None:
    ops = [receive_u(phone, 10), move_u(phone, 4, "A", "B")]
    first = await phone.push(*reversed(ops))  # the server orders a batch by seq
    assert [r["status"] for r in first["results"]] == ["applied", "applied"]
    assert [r["seq"] for r in first["results"]] == [1, 2]
    assert first["last_seq"] == 2 and first["stopped"] is None
    assert first["results"][1]["result"]["location"] == "B"

    again = await phone.push(*ops)
    assert again["last_seq"] == 2
    for before, after in zip(first["results"], again["results"], strict=True):
        assert after["status"] == "duplicate"
        assert after["original_status"] == "applied"
        assert after["result"] == before["result"]
    assert await untracked_at(shop) == {"A": 6, "B": 4}  # applied once


async def test_concurrent_identical_pushes_apply_each_op_once(shop: Api, phone: Phone) -> None:
    ops = [receive_u(phone, 5), move_u(phone, 2, "A", "B"), move_u(phone, 1, "B", "C")]
    bodies = await asyncio.gather(*(phone.push(*ops) for _ in range(3)))
    for seq in (1, 2, 3):
        statuses = sorted(by_seq(body)[seq]["status"] for body in bodies if seq in by_seq(body))
        assert statuses.count("applied") == 1, statuses
        assert set(statuses) <= {"applied", "duplicate"}
    assert await untracked_at(shop) == {"A": 3, "B": 1, "C": 1}


async def test_a_seq_gap_stops_the_batch_and_nothing_after_it_is_applied(shop: Api, phone: Phone) -> None:
    first, second, third = receive_u(phone, 5), receive_u(phone, 6), receive_u(phone, 7)
    body = await phone.push(first, third)
    assert [r["seq"] for r in body["results"]] == [1]
    assert body["stopped"] == {"reason": "seq_gap", "expected_seq": 2}
    assert body["last_seq"] == 1
    assert await untracked_at(shop) == {"A": 5}

    body = await phone.push(second, third)
    assert [outcome(r) for r in body["results"]] == [("applied", None, False)] * 2
    assert await untracked_at(shop) == {"A": 18}


async def test_the_same_op_id_with_another_body_is_rejected_op_id_reused(shop: Api, phone: Phone) -> None:
    original = receive_u(phone, 5)
    await phone.push(original)
    reuse = receive_u(phone, 50) | {"op_id": original["op_id"]}
    body = await phone.push(reuse)
    assert outcome(body["results"][0]) == ("rejected", "op_id_reused", False)
    assert body["last_seq"] == 2  # one bad op never blocks the queue

    tampered = dict(original, args=original["args"] | {"quantity": 9})  # a replay of seq 1 with another body
    assert outcome((await phone.push(tampered))["results"][0]) == ("rejected", "op_id_reused", False)
    assert await untracked_at(shop) == {"A": 5}


async def test_an_op_already_applied_online_is_a_duplicate_when_pushed(shop: Api, phone: Phone) -> None:
    op = receive_u(phone, 5)
    online = await shop.post("/api/ops", {"op_id": op["op_id"], "type": op["type"], "args": op["args"]})
    assert online.status_code == 201, online.text
    result = (await phone.push(op))["results"][0]
    assert (result["status"], result["original_status"]) == ("duplicate", "applied")
    assert await untracked_at(shop) == {"A": 5}


async def test_a_used_seq_sent_with_another_op_is_refused_unless_that_op_is_known(shop: Api, phone: Phone) -> None:
    first, second = receive_u(phone, 5), receive_u(phone, 2)
    assert [r["status"] for r in (await phone.push(first, second))["results"]] == ["applied", "applied"]
    stranger = {**receive_u(phone, 7), "seq": 2}  # a new op under a seq the device used already
    online = receive_u(phone, 3)
    assert (await shop.post("/api/ops", {"op_id": online["op_id"], "type": "receive", "args": online["args"]})).status_code == 201
    body = await phone.push(stranger, {**online, "seq": 1})  # an op applied online, sent under a used seq
    answers = {r["op_id"]: r for r in body["results"]}
    refused = answers[stranger["op_id"]]
    assert (refused["status"], refused["reason"], refused["field"]) == ("rejected", "invalid", "seq")
    assert "seq 2 was already used" in refused["message"]
    known = answers[online["op_id"]]
    assert (known["status"], known["original_status"], known["result"]["received"]) == ("duplicate", "applied", 3)
    assert body["last_seq"] == 2 and await untracked_at(shop) == {"A": 10}  # nothing applied again


# ---- every reason -------------------------------------------------------------------------------
async def test_every_reason_of_the_table_is_detected_and_advances_last_seq(shop: Api, phone: Phone) -> None:
    await shop.patch("/api/locations/C", {"count_locked": True})
    setup = [
        phone.op("receive", part="PN-S", tracking="serial", location="A", quantity=1, serial="SN-1"),
        phone.op("receive", part="PN-ASM", tracking="serial", location="A", quantity=1, serial="ASM-1"),
        phone.op("receive", part="PN-ASM", tracking="serial", location="A", quantity=1, serial="ASM-2"),
        phone.op("install", parent_serial="ASM-1", part="PN-S", tracking="serial", serial="SN-1", quantity=1),
        receive_u(phone, 5),
    ]
    assert all(r["status"] == "applied" for r in (await phone.push(*setup))["results"])
    unknown = receive_u(phone, 1, location="NOWHERE")
    short = move_u(phone, 50, "A", "B")
    cases = [
        (phone.op("receive", part="PN-S", tracking="serial", location="A", quantity=1, serial="SN-1"),
         ("rejected", "duplicate_serial", True)),
        (phone.op("receive", part="PN-S", tracking="lot", location="A", quantity=1, lot="L1"),
         ("rejected", "tracking_changed", True)),
        (receive_u(phone, 1, lot="L1"), ("rejected", "tracking_mismatch", False)),
        (unknown, ("rejected", "unknown_reference", False)),
        (receive_u(phone, 1, depends_on=[unknown]), ("rejected", "dependency_rejected", False)),
        (short, ("held", "insufficient_quantity", True)),
        (move_u(phone, 1, "B", "C", depends_on=[short]), ("held", "dependency_held", True)),
        (move_u(phone, 1, "A", "C"), ("held", "location_locked", True)),
        (phone.op("move", part="PN-ASM", tracking="serial", serial="ASM-2", from_location="B", to_location="DOCK",
                  quantity=1), ("held", "stale_location", True)),
        (phone.op("install", parent_serial="ASM-2", part="PN-S", tracking="serial", serial="SN-1", quantity=1),
         ("rejected", "already_installed", True)),
        (receive_u(phone, -3), ("rejected", "invalid", False)),
        (phone.op("teleport", part="PN-U"), ("rejected", "unknown_op_type", False)),
        (phone.op("adjust", part="PN-U", tracking="untracked", location="A", delta=5, reason="found"),
         ("rejected", "forbidden", False)),  # the op's `actor` is recorded; permissions are the token's
    ]
    body = await phone.push(*(op for op, _ in cases))
    assert body["stopped"] is None and body["last_seq"] == phone.seq
    results = by_seq(body)
    for op, expected in cases:
        result = results[op["seq"]]
        assert outcome(result) == expected, result
        assert result["message"]
    assert results[cases[6][0]["seq"]]["conflict_id"] == results[short["seq"]]["conflict_id"]  # waits behind it
    assert results[cases[10][0]["seq"]]["field"] == "args.quantity"
    assert "SN-1" in results[cases[0][0]["seq"]]["message"]
    assert await untracked_at(shop) == {"A": 5}

    replayed = by_seq(await phone.push(*(op for op, _ in cases)))  # replays keep the first answers
    for op, (status, reason, conflict) in cases:
        result = replayed[op["seq"]]
        assert (result["status"], result["original_status"], result.get("reason")) == ("duplicate", status, reason)
        assert result.get("conflict_id") == results[op["seq"]].get("conflict_id")


async def test_two_devices_pushing_the_same_serial_at_once_apply_it_once(
    shop: Api, phone: Phone, other_phone: Phone
) -> None:
    ops = [
        device.op("receive", part="PN-S", tracking="serial", location="DOCK", quantity=1, serial="SN-RACE")
        for device in (phone, other_phone)
    ]
    bodies = await asyncio.gather(phone.push(ops[0]), other_phone.push(ops[1]))
    outcomes = sorted(outcome(body["results"][0]) for body in bodies)
    assert outcomes == [("applied", None, False), ("rejected", "duplicate_serial", True)]
    assert len(await shop.items(serial="SN-RACE")) == 1


async def test_two_receives_of_one_serial_in_a_batch_apply_the_first(shop: Api, phone: Phone) -> None:
    ops = [phone.op("receive", part="PN-S", tracking="serial", location="A", quantity=1, serial="SN-7") for _ in "ab"]
    assert [outcome(r) for r in (await phone.push(*ops))["results"]] == [
        ("applied", None, False), ("rejected", "duplicate_serial", True)
    ]


async def test_the_unique_index_on_serials_has_the_last_word(
    shop: Api, phone: Phone, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_check(*_: Any) -> None:  # as if two receipts raced past the check: the index decides
        return None

    monkeypatch.setattr(handlers, "refuse_existing_serial", no_check)
    ops = [phone.op("receive", part="PN-S", tracking="serial", location="A", quantity=1, serial="SN-9") for _ in "ab"]
    body = await phone.push(*ops, receive_u(phone, 4))
    assert [outcome(r) for r in body["results"]] == [
        ("applied", None, False), ("rejected", "duplicate_serial", True), ("applied", None, False)
    ]
    assert len(await shop.items(serial="SN-9")) == 1 and await untracked_at(shop) == {"A": 4}


async def test_dependants_of_a_rejected_op_are_rejected_transitively(shop: Api, phone: Phone) -> None:
    bad = receive_u(phone, 1, location="NOWHERE")
    child = move_u(phone, 1, "NOWHERE", "B", depends_on=[bad])
    grandchild = move_u(phone, 1, "B", "C", depends_on=[child])
    unrelated = receive_u(phone, 2)
    body = await phone.push(bad, child, grandchild, unrelated)
    assert [outcome(r)[:2] for r in body["results"]] == [
        ("rejected", "unknown_reference"), ("rejected", "dependency_rejected"),
        ("rejected", "dependency_rejected"), ("applied", None),
    ]


# ---- failures, versions, devices ------------------------------------------------------------------
async def test_a_transient_database_error_stops_the_batch_with_retry_later(
    shop: Api, phone: Phone, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = sync.runner.apply_op

    async def flaky(batch: Any, op: Any, args: Any, actor: Any, version: int) -> Any:
        if getattr(args, "quantity", None) == 13:
            raise OperationalError("UPDATE inventory", {}, Exception("database is locked"))
        return await real(batch, op, args, actor, version)

    monkeypatch.setattr(sync.runner, "apply_op", flaky)
    ops = [receive_u(phone, 1), receive_u(phone, 13), receive_u(phone, 2)]
    body = await phone.push(*ops)
    assert body["stopped"] == {"reason": "retry_later"}
    assert [r["status"] for r in body["results"]] == ["applied"]
    assert body["last_seq"] == 1
    assert await untracked_at(shop) == {"A": 1}

    monkeypatch.setattr(sync.runner, "apply_op", real)  # the database is back: the client retries
    body = await phone.push(*ops)
    assert [r["status"] for r in body["results"]] == ["duplicate", "applied", "applied"]
    assert await untracked_at(shop) == {"A": 16}


async def test_another_protocol_version_is_409_and_consumes_nothing(shop: Api, phone: Phone) -> None:
    ops = [receive_u(phone, 5)]
    response = await phone.post("/api/sync/push", {"protocol": 2, "device_id": phone.device_id, "batch": ops})
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("/protocol-not-supported")
    assert await untracked_at(shop) == {}
    body = await phone.push(*ops)  # seq 1 was not consumed: it applies now
    assert (body["results"][0]["status"], body["last_seq"]) == ("applied", 1)


async def test_a_token_not_bound_to_the_pushed_device_is_403(shop: Api, phone: Phone, other_phone: Phone) -> None:
    op = receive_u(phone, 5)
    response = await phone.push_raw([op], device_id=other_phone.device_id)
    assert response.status_code == 403 and response.json()["type"] == "/problems/forbidden"
    unbound = await shop.post("/api/sync/push", {"protocol": 1, "device_id": phone.device_id, "ops": [op]})
    assert unbound.status_code == 403
    assert await untracked_at(shop) == {}
    body = await other_phone.push(other_phone.op("receive", part="PN-U", tracking="untracked", location="A", quantity=1))
    assert (body["results"][0]["status"], body["last_seq"]) == ("applied", 1)


async def test_a_malformed_op_envelope_is_a_422_naming_the_field(shop: Api, phone: Phone) -> None:
    response = await phone.push_raw([{"op_id": "not-a-uuid", "seq": 1, "type": "receive", "args": {}}])
    assert response.status_code == 422
    assert response.json()["field"] == "ops[0].op_id"


# ---- documentation --------------------------------------------------------------------------------
def test_every_sync_reason_is_in_the_error_table() -> None:
    documented = set(re.findall(r"^\| `/problems/[a-z-]+` \| \d{3} \| `([a-z_]+)` \|", ERROR_TABLE, re.MULTILINE))
    assert set(OUTCOMES) | set(SYNC_REASONS) | {"protocol_not_supported", "retry_later"} <= documented
    assert set(OP_REASONS) <= set(OUTCOMES)  # every op error has a push outcome
    for reason in ("seq_gap", "retry_later", *OUTCOMES):
        assert f"`{reason}`" in SYNC_PAGE, reason
