"""Sync you can trust: a revoked token never costs queued work (sign in again, then it syncs), an op held
for a supervisor shows the supervisor's later decision in plain words, and a shared phone is bound by the
secret it holds (its id alone signs no one in) while each operator's work is recorded under their name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.e2e.server import HTTP, USERS


def test_a_revoked_token_keeps_the_queue_until_the_operator_signs_in_again(phones: Any, server: Any, artifacts: Path, uid: str) -> None:
    phone = phones("olga")
    phone.offline()
    phone.receive("PUMP-A", "DOCK-1", serial=f"REAUTH-{uid}-1")
    phone.receive("PUMP-A", "DOCK-1", serial=f"REAUTH-{uid}-2")
    server.api("POST", "/api/users/olga/revoke-tokens")  # a supervisor signs olga out everywhere

    phone.offline(False)
    phone.page.wait_for_selector("#banner:has-text('Sign in again')")
    assert phone.pending() == 2  # nothing was dropped
    phone.screenshot(artifacts, "10-sign-in-again")
    phone.page.click("#banner button")
    phone.page.wait_for_selector("form.signin .note:has-text('2 operations are waiting')")
    assert phone.page.input_value("form.signin input[name=username]") == "olga"
    phone.page.fill("form.signin input[name=password]", USERS["olga"][1])
    phone.page.click("form.signin button[type=submit]")
    phone.wait_synced()
    assert phone.pending() == 0
    assert phone.page.is_hidden("#banner")
    assert [row["location"] for row in server.inventory(q=f"REAUTH-{uid}")] == ["DOCK-1", "DOCK-1"]


def conflict_of(server: Any, op_id: str) -> dict[str, Any]:
    conflicts = server.api("GET", "/api/sync/conflicts", user="sam", params={"status": "open", "limit": 500})["items"]
    return next(c for c in conflicts if c["op"]["op_id"] == op_id)


def test_held_ops_show_the_supervisors_later_decision(phones: Any, server: Any, artifacts: Path, uid: str) -> None:
    cage = f"CAGE-{uid}"
    server.api("POST", "/api/locations", json={"code": cage, "name": "Count cage"})
    for n in (1, 2):
        server.op("receive", part="PUMP-A", tracking="serial", serial=f"HOLD-{uid}-{n}", location="STORES", quantity=1)
    server.api("PATCH", f"/api/locations/{cage}", json={"count_locked": True})  # closed for a cycle count

    phone = phones("olga")
    phone.go("move")
    phone.scan(f"HOLD-{uid}-1")
    phone.scan(f"HOLD-{uid}-2")
    phone.page.wait_for_selector("ul.picked li >> nth=1")
    phone.scan(cage)
    phone.page.click("button.primary:has-text('Move 2 items')")
    phone.wait_queued(2)
    phone.wait_synced()
    lines = phone.outcomes()
    assert all(f"Held for a supervisor: {cage} is closed for a cycle count" in line for line in lines[:2]), lines
    phone.page.wait_for_selector("#syncchip:has-text('2 held')")  # always in sight

    records = phone.page.evaluate("import('/app/outbox.js').then((o) => o.recent(2))")
    second, first = records  # newest first
    server.api("PATCH", f"/api/locations/{cage}", json={"count_locked": False})  # the count is closed
    server.api("POST", f"/api/sync/conflicts/{conflict_of(server, first['op_id'])['id']}/approve", user="sam", json={"note": "count done"})
    server.api("POST", f"/api/sync/conflicts/{conflict_of(server, second['op_id'])['id']}/reject", user="sam", json={"note": "wrong cage"})

    phone.page.click("button:has-text('Sync now')")
    phone.page.wait_for_selector("ul.outcomes li:has-text('Approved by sam')")
    phone.page.wait_for_selector("ul.outcomes li:has-text('Rejected by sam: wrong cage')")
    phone.page.wait_for_selector("#syncchip:text-is('Synced')")
    phone.screenshot(artifacts, "11-supervisor-decisions")
    assert server.inventory(serial=f"HOLD-{uid}-1")[0]["location"] == cage
    assert server.inventory(serial=f"HOLD-{uid}-2")[0]["location"] == "STORES"


def test_a_shared_phone_holds_its_secret_and_records_each_operators_work_under_their_name(
    phones: Any, server: Any, uid: str
) -> None:
    phone = phones("olga")
    device_id, secret = phone.page.evaluate(
        "import('/app/db.js').then(async (db) => [await db.getMeta('device_id'), await db.getMeta('device_secret')])"
    )
    assert len(secret) >= 43  # 256 random bits, base64url
    # someone who read the phone's id elsewhere cannot sign in as it
    stolen = HTTP.post(f"{server.url}/api/auth/token",
                        json={"username": "oleg", "password": USERS["oleg"][1], "device_id": device_id})
    assert stolen.status_code == 403 and stolen.json()["type"] == "/problems/device-secret-mismatch"

    phone.offline()
    phone.receive("PUMP-A", "DOCK-1", serial=f"SHARED-{uid}-OLGA")  # queued when the shift ends
    phone.offline(False)
    phone.page.once("dialog", lambda dialog: dialog.accept())  # "1 operation is still waiting … Sign out?"
    phone.go("sync")
    phone.page.click("button:has-text('Sign out')")
    phone.page.wait_for_selector("form.signin")
    phone.sign_in("oleg")  # the next shift, on the same phone: the queue syncs
    phone.receive("PUMP-A", "DOCK-1", serial=f"SHARED-{uid}-OLEG")
    phone.wait_synced()
    assert phone.pending() == 0
    for who in ("olga", "oleg"):
        trail = server.api("GET", "/api/activity", user="sam", params={"serial": f"SHARED-{uid}-{who.upper()}"})["items"]
        assert [(m["actor"], m["device_id"]) for m in trail] == [(who, device_id)]
