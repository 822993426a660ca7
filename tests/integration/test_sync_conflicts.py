"""Conflicts through the HTTP API: who may see and decide them, what a supervisor sees, approving a held op
(then its dependants, in seq order), approving a rejected op with corrected args (a new op), rejecting
(final, dependants rejected), and the log of decisions."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api
from tests.integration.sync_helpers import (  # noqa: F401 - fixtures
    Phone,
    by_seq,
    move_u,
    phone,
    receive_u,
    shop,
    untracked_at,
)


async def open_conflicts(api: Api) -> list[dict[str, Any]]:
    response = await api.get("/api/sync/conflicts?status=open", "supervisor")
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def decide(api: Api, conflict_id: str, action: str, body: dict[str, Any], role: str = "supervisor") -> Any:
    return await api.post(f"/api/sync/conflicts/{conflict_id}/{action}", body, role)


async def held_chain(phone: Phone) -> dict[str, dict[str, Any]]:
    """5 on hand at A; a move of 8 (held), a move and a scrap that depend on it, an unrelated receipt."""
    stock = receive_u(phone, 5)
    move = move_u(phone, 8, "A", "B")
    onward = move_u(phone, 8, "B", "C", depends_on=[move])
    scrap = phone.op("scrap", part="PN-U", tracking="untracked", location="C", quantity=2, reason="bent",
                     depends_on=[onward])
    other = receive_u(phone, 1, location="DOCK")
    results = by_seq(await phone.push(stock, move, onward, scrap, other))
    assert [results[n]["status"] for n in range(1, 6)] == ["applied", "held", "held", "held", "applied"]
    assert results[3]["conflict_id"] == results[4]["conflict_id"] == results[2]["conflict_id"]
    return {"move": move, "onward": onward, "scrap": scrap, "conflict": {"id": results[2]["conflict_id"]}}


async def test_only_supervisors_and_admins_list_and_decide_conflicts(shop: Api, phone: Phone) -> None:
    chain = await held_chain(phone)
    assert (await shop.get("/api/sync/conflicts", "operator")).status_code == 403
    assert (await decide(shop, chain["conflict"]["id"], "approve", {}, "operator")).status_code == 403
    assert (await decide(shop, chain["conflict"]["id"], "reject", {"note": "no"}, "operator")).status_code == 403
    assert (await shop.get("/api/sync/resolutions", "operator")).status_code == 403
    for role in ("supervisor", "admin"):
        response = await shop.get("/api/sync/conflicts?status=open", role)
        assert response.status_code == 200 and response.json()["total"] == 1


async def test_a_conflict_shows_the_op_as_sent_the_current_state_and_the_ops_held_behind_it(
    shop: Api, phone: Phone
) -> None:
    chain = await held_chain(phone)
    [conflict] = await open_conflicts(shop)
    assert conflict["id"] == chain["conflict"]["id"]
    assert (conflict["status"], conflict["kind"], conflict["reason"]) == ("open", "held", "insufficient_quantity")
    assert "holds 5" in conflict["message"] and conflict["details"] == {"available": 5}
    sent = chain["move"]
    assert conflict["op"] == {
        "op_id": sent["op_id"], "seq": 2, "type": "move", "args": sent["args"], "actor": "operator",
        "client_time": sent["client_time"], "depends_on": [],
    }
    assert conflict["device"] == {"id": phone.device_id, "name": "operator's phone"}
    assert (conflict["actor"], conflict["pushed_by"]) == ("operator", "operator")
    state = conflict["state"]
    assert (state["part"]["part_number"], state["part"]["tracking"]) == ("PN-U", "untracked")
    assert sorted(location["code"] for location in state["locations"]) == ["A", "B"]
    assert [(row["location"], row["quantity"], row["status"]) for row in state["inventory"]] == [("A", 5, "available")]
    assert sorted((place["location"], place["rows"]) for place in state["in_all"]) == [("A", 1), ("B", 0)]
    held = conflict["held_behind"]
    assert [(h["op"]["seq"], h["reason"]) for h in held] == [(3, "dependency_held"), (4, "dependency_held")]
    assert held[0]["op"]["depends_on"] == [chain["move"]["op_id"]]
    one = await shop.get(f"/api/sync/conflicts/{conflict['id']}", "supervisor")
    assert one.status_code == 200 and one.json()["op"] == conflict["op"]


async def test_approving_a_held_op_applies_it_then_reruns_its_dependants_in_seq_order(
    shop: Api, phone: Phone
) -> None:
    chain = await held_chain(phone)
    cursor = (await phone.pull())["cursor"]
    await shop.ok("receive", "supervisor", part="PN-U", tracking="untracked", location="A", quantity=3)

    response = await decide(shop, chain["conflict"]["id"], "approve", {"note": "found 3 more on the shelf"})
    assert response.status_code == 200, response.text
    decided = response.json()
    assert decided["status"] == "approved" and decided["held_behind"] == []
    resolution = decided["resolution"]
    assert (resolution["action"], resolution["actor"], resolution["outcome"]) == ("approve", "supervisor", "applied")
    assert resolution["note"] == "found 3 more on the shelf" and resolution["applied_op_id"] == chain["move"]["op_id"]
    assert [(d["seq"], d["status"]) for d in resolution["dependants"]] == [(3, "applied"), (4, "applied")]
    assert await untracked_at(shop) == {"C": 6, "DOCK": 1}  # the scrap ran after the move it needed
    assert await open_conflicts(shop) == []

    page = await phone.pull(cursor)
    told = {r["seq"]: (r["status"], r["resolved_by"]) for r in page["op_results"]}
    assert told == {2: ("applied", "supervisor"), 3: ("applied", "supervisor"), 4: ("applied", "supervisor")}
    moves = (await shop.get(f"/api/activity?op_id={chain['move']['op_id']}")).json()["items"]
    assert [(m["action"], m["actor"], m["quantity"]) for m in moves] == [("Move", "operator", 8)]
    replay = by_seq(await phone.push(chain["move"]))[2]  # a replay still answers the first outcome
    assert (replay["status"], replay["original_status"]) == ("duplicate", "held")


async def test_approving_with_corrected_args_reruns_dependants_which_may_be_held_again(
    shop: Api, phone: Phone
) -> None:
    chain = await held_chain(phone)
    corrected = chain["move"]["args"] | {"quantity": 5}
    response = await decide(shop, chain["conflict"]["id"], "approve", {"args": corrected})
    assert response.status_code == 200, response.text
    dependants = response.json()["resolution"]["dependants"]
    assert [(d["seq"], d["status"], d["reason"]) for d in dependants] == [
        (3, "held", "insufficient_quantity"), (4, "held", "dependency_held")
    ]
    assert dependants[0]["conflict_id"] == dependants[1]["conflict_id"] != chain["conflict"]["id"]
    assert await untracked_at(shop) == {"B": 5, "DOCK": 1}
    [again] = await open_conflicts(shop)
    assert (again["id"], again["op"]["seq"], again["details"]) == (dependants[0]["conflict_id"], 3, {"available": 5})
    assert [h["op"]["seq"] for h in again["held_behind"]] == [4]


async def test_a_failed_approval_changes_nothing(shop: Api, phone: Phone) -> None:
    chain = await held_chain(phone)
    still_short = await decide(shop, chain["conflict"]["id"], "approve", {"note": "try"})
    assert still_short.status_code == 409 and still_short.json()["reason"] == "insufficient_quantity"
    invalid = await decide(shop, chain["conflict"]["id"], "approve", {"args": {"quantity": "lots"}})
    assert invalid.status_code == 422 and invalid.json()["reason"] == "invalid"
    [conflict] = await open_conflicts(shop)
    assert conflict["resolution"] is None and len(conflict["held_behind"]) == 2
    assert await untracked_at(shop) == {"A": 5, "DOCK": 1}


async def test_rejecting_a_held_op_is_final_and_rejects_what_was_held_behind_it(shop: Api, phone: Phone) -> None:
    chain = await held_chain(phone)
    cursor = (await phone.pull())["cursor"]
    assert (await decide(shop, chain["conflict"]["id"], "reject", {})).status_code == 422  # a note is required
    response = await decide(shop, chain["conflict"]["id"], "reject", {"note": "miscounted, nothing moved"})
    assert response.status_code == 200, response.text
    decided = response.json()
    assert decided["status"] == "rejected"
    assert [(d["seq"], d["status"], d["reason"]) for d in decided["resolution"]["dependants"]] == [
        (3, "rejected", "dependency_rejected"), (4, "rejected", "dependency_rejected")
    ]
    again = await decide(shop, chain["conflict"]["id"], "approve", {})
    assert again.status_code == 409 and again.json()["type"] == "/problems/conflict"
    page = await phone.pull(cursor)
    told = {r["seq"]: (r["status"], r["reason"], r["resolved_by"]) for r in page["op_results"]}
    assert told == {
        2: ("rejected", "insufficient_quantity", "supervisor"),
        3: ("rejected", "dependency_rejected", "supervisor"),
        4: ("rejected", "dependency_rejected", "supervisor"),
    }
    assert page["op_results"][0]["note"] == "miscounted, nothing moved"
    assert await untracked_at(shop) == {"A": 5, "DOCK": 1}
    rejected = await shop.get("/api/sync/conflicts?status=rejected", "supervisor")
    assert [c["id"] for c in rejected.json()["items"]] == [chain["conflict"]["id"]]


async def test_an_op_depending_on_a_held_op_pushed_later_waits_behind_the_same_conflict(
    shop: Api, phone: Phone
) -> None:
    chain = await held_chain(phone)
    late = move_u(phone, 1, "C", "DOCK", depends_on=[chain["scrap"]])
    result = (await phone.push(late))["results"][0]
    assert (result["status"], result["reason"], result["conflict_id"]) == ("held", "dependency_held", chain["conflict"]["id"])
    await shop.ok("receive", "supervisor", part="PN-U", tracking="untracked", location="A", quantity=3)
    decided = (await decide(shop, chain["conflict"]["id"], "approve", {})).json()
    assert [(d["seq"], d["status"]) for d in decided["resolution"]["dependants"]] == [
        (3, "applied"), (4, "applied"), (6, "applied")
    ]
    assert await untracked_at(shop) == {"C": 5, "DOCK": 2}


async def test_approving_a_rejected_op_applies_corrected_args_as_a_new_op_by_the_supervisor(
    shop: Api, phone: Phone
) -> None:
    first = phone.op("receive", part="PN-S", tracking="serial", location="DOCK", quantity=1, serial="SN-1")
    clash = phone.op("receive", part="PN-S", tracking="serial", location="A", quantity=1, serial="SN-1")
    results = by_seq(await phone.push(first, clash))
    assert (results[2]["status"], results[2]["reason"]) == ("rejected", "duplicate_serial")
    cursor = (await phone.pull())["cursor"]
    [conflict] = await open_conflicts(shop)
    assert (conflict["id"], conflict["kind"]) == (results[2]["conflict_id"], "rejected")
    assert [(row["serial"], row["location"]) for row in conflict["state"]["inventory"]] == [("SN-1", "DOCK")]

    corrected = clash["args"] | {"serial": "SN-1B"}
    response = await decide(shop, conflict["id"], "approve", {"args": corrected, "note": "label misprinted"})
    assert response.status_code == 200, response.text
    resolution = response.json()["resolution"]
    new_op = resolution["applied_op_id"]
    assert new_op != clash["op_id"] and resolution["args"] == corrected
    assert resolution["result"]["serial"] == "SN-1B"
    assert [(m["actor"], m["serial"], m["to_location"]) for m in
            (await shop.get(f"/api/activity?op_id={new_op}")).json()["items"]] == [("supervisor", "SN-1B", "A")]
    told = (await phone.pull(cursor))["op_results"]
    assert [(r["seq"], r["status"], r["applied_as"], r["resolved_by"]) for r in told] == [
        (2, "applied", new_op, "supervisor")
    ]
    replay = (await phone.push(clash))["results"][0]  # the op as sent stays rejected
    assert (replay["status"], replay["original_status"], replay["reason"]) == ("duplicate", "rejected", "duplicate_serial")


async def test_rejecting_a_rejected_op_closes_its_conflict(shop: Api, phone: Phone) -> None:
    op = phone.op("receive", part="PN-S", tracking="lot", location="A", quantity=1, lot="L-9")
    result = (await phone.push(op))["results"][0]
    assert (result["reason"], bool(result["conflict_id"])) == ("tracking_changed", True)
    response = await decide(shop, result["conflict_id"], "reject", {"note": "part is serialized now; rescan"})
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    assert await open_conflicts(shop) == []


async def test_every_decision_is_in_the_resolution_log(shop: Api, phone: Phone) -> None:
    chain = await held_chain(phone)
    await decide(shop, chain["conflict"]["id"], "reject", {"note": "wrong shelf"})
    clash = [phone.op("receive", part="PN-S", tracking="serial", location="A", quantity=1, serial="SN-5")
             for _ in "ab"]
    conflict_id = by_seq(await phone.push(*clash))[phone.seq]["conflict_id"]
    await decide(shop, conflict_id, "approve", {"args": clash[1]["args"] | {"serial": "SN-6"}, "note": "relabelled"})
    response = await shop.get("/api/sync/resolutions", "supervisor")
    assert response.status_code == 200
    log = response.json()["items"]
    assert [(e["action"], e["actor"], e["note"], e["conflict_id"]) for e in log] == [
        ("approve", "supervisor", "relabelled", conflict_id),
        ("reject", "supervisor", "wrong shelf", chain["conflict"]["id"]),
    ]
    assert all(entry["at"] for entry in log)
