"""Hostile and careless input through the HTTP API, on both engines: huge paging numbers, OPTIONS without a
token, JSON nested too deeply, dates past 9999, non-ASCII file names, NUL characters, quantities past a
bucket's limit and unknown dependencies. Each is a 4xx problem naming what is wrong, never a 500, and
nothing of it is stored."""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import replace
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from sqlalchemy import text

from server.api.params import MAX_OFFSET
from server.app import create_app
from server.db import Database
from server.ops.registry import OP_TYPES
from tests.conftest import Api
from tests.integration.sync_helpers import Phone, move_u, phone, receive_u, shop, untracked_at  # noqa: F401 - fixtures
from tests.integration.test_supervisor_pages import Browser

HUGE = 2**63  # one past the databases' 64-bit integers


def assert_problem(response: httpx.Response, status: int, slug: str, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == f"/problems/{slug}", body
    if field is not None:
        assert body.get("field") == field, body
    return body


async def plan_count(api: Api, name: str, location: str = "CAGE") -> dict[str, Any]:
    response = await api.post("/api/counts", {"kind": "location", "name": name, "location": location}, "supervisor")
    assert response.status_code == 201, response.text
    return response.json()


# ---- 1. paging numbers ----------------------------------------------------------------------------
PAGED = [
    "/api/inventory", "/api/activity", "/api/parts", "/api/counts", "/api/scan/misses", "/api/sync/conflicts",
    "/api/sync/resolutions", "/api/counts/{count_id}/review", "/api/purchase-orders", "/api/constraints",
    "/api/transactions", "/api/balances", "/api/costs/layers", "/api/usage",
]


async def test_every_paged_route_of_the_schema_is_checked_here(api: Api) -> None:
    schema = (await api.get("/schema/openapi.json")).json()
    paged = {
        path for path, methods in schema["paths"].items()
        for operation in methods.values()
        if any(p["name"] in ("offset", "limit") and p["in"] == "query" for p in operation.get("parameters", []))
    }
    assert paged - {"/api/suppliers"} == set(PAGED)  # suppliers: `limit` only, at most 100


@pytest.mark.parametrize("field", ["offset", "limit"])
async def test_a_paging_number_past_the_databases_integers_is_a_422_naming_it(api: Api, field: str) -> None:
    await api.location("CAGE")
    count = await plan_count(api, "Q4")
    for path in [*PAGED, "/api/suppliers"]:
        if field == "offset" and path == "/api/suppliers":
            continue
        url = path.format(count_id=count["id"])
        for value in (HUGE, MAX_OFFSET + 1) if field == "offset" else (HUGE,):
            assert_problem(await api.get(url, "admin", params={field: value}), 422, "invalid", field)
        if field == "offset":  # the largest offset allowed is an empty page, not an error
            page = await api.get(url, "admin", params={"offset": MAX_OFFSET})
            assert page.status_code == 200, (url, page.text)


async def test_the_supervisor_pages_refuse_a_huge_offset_too(db: Database, api: Api) -> None:
    transport = httpx.ASGITransport(app=create_app(db.settings, db))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
        browser = Browser(client)
        assert (await browser.sign_in("supervisor")).status_code in (200, 303)
        for page in ("/supervisor/conflicts", "/supervisor/resolutions"):
            assert_problem(await browser.get(f"{page}?offset={HUGE}"), 422, "invalid", "offset")
            assert (await browser.get(f"{page}?offset=0")).status_code == 200


# ---- 2. OPTIONS without a token ---------------------------------------------------------------------
async def test_options_without_a_token_answers_the_allowed_methods_on_every_route(api: Api) -> None:
    schema = (await api.get("/schema/openapi.json")).json()
    pages = ["/supervisor/conflicts", f"/supervisor/counts/{uuid.uuid4()}", "/problems", "/healthz", "/"]
    for path in [*schema["paths"], *pages]:
        url = path.replace("{count_id}", str(uuid.uuid4())).replace("{conflict_id}", str(uuid.uuid4()))
        url = url.replace("{line}", "1")  # a PO line's number
        response = await api.client.options(url.replace("{", "").replace("}", ""))
        assert (response.status_code, "allow" in response.headers) == (204, True), (url, response.text)
    assert_problem(await api.client.get("/api/users"), 401, "unauthorized")  # the route itself stays guarded


# ---- 3. JSON nested too deeply ------------------------------------------------------------------------
DEEP = "[" * 100_000 + "]" * 100_000
DEEP_IN_A_FIELD = '{"protocol": 1, "device_id": "%s", "ops": [], "x": ' + DEEP + "}"


@pytest.mark.parametrize("path", ["/api/auth/token", "/api/ops", "/api/labels/sheet", "/api/sync/push", "/api/sync/pull"])
async def test_json_nested_too_deeply_is_a_quick_400_with_or_without_a_token(api: Api, path: str) -> None:
    json = {"content-type": "application/json"}
    for body in (DEEP, DEEP_IN_A_FIELD % uuid.uuid4()):
        started = time.process_time()  # CPU, not wall time: a loaded machine must not fail it
        signed_in = await api.client.post(path, content=body, headers={**json, **api.headers("operator")})
        anonymous = await api.client.post(path, content=body, headers=json)
        assert time.process_time() - started < 1
        if path.startswith("/api/sync/") and body == DEEP:  # the protocol version is read first: not an object
            assert_problem(signed_in, 422, "invalid", "body")
        else:
            assert_problem(signed_in, 400, "bad-request", "body")
        if path == "/api/auth/token":
            assert_problem(anonymous, 400, "bad-request", "body")
        else:  # the body is not read before the token is checked
            assert_problem(anonymous, 401, "unauthorized")


# ---- 4. dates at the end of the calendar ----------------------------------------------------------------
async def test_a_schedule_horizon_past_9999_is_a_422_naming_today(api: Api) -> None:
    await api.location("CAGE")
    await plan_count(api, "Q4")
    for path in ("/api/counts/schedule", "/api/counts/due"):
        late = await api.get(path, "supervisor", params={"today": "9999-12-31", "horizon_days": 3650})
        assert_problem(late, 422, "invalid", "today")
        assert (await api.get(path, "supervisor", params={"today": "9989-12-31", "horizon_days": 3650})).status_code == 200
        assert (await api.get(path, "supervisor", params={"today": "0001-01-01"})).status_code == 200


@pytest.mark.parametrize(
    "moment", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59", "0001-01-01T00:00:00"]
)
async def test_activity_times_at_the_ends_of_the_calendar_are_bounds_not_errors(api: Api, moment: str) -> None:
    await api.location("CAGE")
    await api.part("PN-U", "untracked")
    await api.ok("receive", part="PN-U", tracking="untracked", location="CAGE", quantity=1)
    late = moment.startswith("9999")
    for name in ("since", "until"):
        response = await api.get("/api/activity", params={name: moment, "op_type": "receive"})
        assert response.status_code == 200, response.text
        assert response.json()["total"] == (1 if late == (name == "until") else 0)
        ledger = await api.get("/api/transactions", params={name: moment})
        assert ledger.status_code == 200, ledger.text
        assert ledger.json()["total"] == (1 if late == (name == "until") else 0)
    accuracy = await api.get("/api/counts/accuracy", "supervisor", params={"since": moment[:10]})
    assert accuracy.status_code == 200, accuracy.text


# ---- 5. file names people chose ---------------------------------------------------------------------
def file_names(response: httpx.Response) -> tuple[str, str | None]:
    """(the ASCII `filename`, the `filename*` decoded) of a download (RFC 6266)."""
    header = response.headers["content-disposition"]
    plain = re.search(r'filename="([^"]*)"', header)
    encoded = re.search(r"filename\*=UTF-8''([^;]+)", header)
    assert plain is not None and plain.group(1).isascii(), header
    return plain.group(1), unquote(encoded.group(1)) if encoded else None


async def test_a_count_named_in_any_script_downloads_its_sheet_under_that_name(api: Api) -> None:
    await api.location("CAGE")
    count = await plan_count(api, "Inventur 東京")
    sheet = await api.get(f"/api/counts/{count['id']}/sheet.csv")
    assert sheet.status_code == 200, sheet.text
    assert file_names(sheet) == ("count-sheet-Inventur.csv", "count-sheet-Inventur-東京.csv")
    plain = await plan_count(api, "Q4 2026")
    assert file_names(await api.get(f"/api/counts/{plain['id']}/sheet.csv")) == ("count-sheet-Q4-2026.csv", None)


async def test_every_other_download_named_by_the_user_is_encoded_too(api: Api) -> None:
    await api.location("Lager-München")
    label = await api.get("/api/labels/location.svg", params={"location": "Lager-München"})
    assert label.status_code == 200, label.text
    assert file_names(label) == ("location-Lager-Munchen.svg", "location-Lager-München.svg")
    assert file_names(await api.get("/api/inventory/export.csv")) == ("inventory.csv", None)


# ---- 6. NUL characters ----------------------------------------------------------------------------------
NUL_IN_PARAMETERS = [
    ("/api/inventory", {"q": "a\x00"}, "q"), ("/api/inventory/export.csv", {"part": "\x00"}, "part"),
    ("/api/parts", {"q": "\x00"}, "q"), ("/api/locations", {"q": "\x00"}, "q"), ("/api/suppliers", {"q": "\x00"}, "q"),
    ("/api/activity", {"serial": "\x00"}, "serial"), ("/api/activity", {"actor": "x\x00"}, "actor"),
    ("/api/scan", {"code": "SN\x001"}, "code"), ("/api/counts", {"status": "open\x00"}, "status"),
    ("/api/labels/unit.svg", {"serial": "\x00"}, "serial"), ("/api/counts/accuracy", {"location": "\x00"}, "location"),
    ("/api/parts/PN%00X", {}, "key"), ("/api/units/SN%00/history", {}, "serial"),
    ("/api/lots/PN-L/L%001/history", {}, "lot"), ("/api/transactions", {"part": "\x00"}, "part"),
    ("/api/balances", {"location": "\x00"}, "location"),
]


async def test_a_nul_in_a_query_or_path_parameter_is_a_422_naming_it(api: Api) -> None:
    await api.part("PN-L", "lot")
    for path, params, field in NUL_IN_PARAMETERS:
        assert_problem(await api.get(path, "admin", params=params), 422, "invalid", field)


async def test_a_nul_in_a_body_is_a_422_naming_the_field_and_nothing_is_stored(api: Api) -> None:
    await api.location("CAGE")
    await api.part("PN-U", "untracked")
    bodies = [
        ("/api/parts", {"part_number": "PN\x00X", "tracking": "lot"}, "part_number"),
        ("/api/parts", {"part_number": "PN-X", "tracking": "lot", "description": "\x00"}, "description"),
        ("/api/locations", {"code": "SHELF\x001"}, "code"),
        ("/api/locations", {"code": "SHELF-1", "name": "top\x00"}, "name"),
        ("/api/suppliers", {"name": "ACME\x00"}, "name"),
        ("/api/counts", {"kind": "location", "name": "Q\x00", "location": "CAGE"}, "name"),
        ("/api/labels/sheet", {"items": [{"kind": "part", "part": "PN-U"}, {"kind": "part", "part": "\x00"}]},
         "items[1].part"),
        ("/api/ops", {"op_id": str(uuid.uuid4()), "type": "receive", "args": {
            "part": "PN-U", "tracking": "untracked", "location": "CAGE", "quantity": 1, "po_line": "PO\x001"}},
         "args.po_line"),
        ("/api/ops", {"op_id": str(uuid.uuid4()), "type": "receive", "client_time": "\x00", "args": {
            "part": "PN-U", "tracking": "untracked", "location": "CAGE", "quantity": 1}}, "client_time"),
        ("/api/ops", {"op_id": str(uuid.uuid4()), "type": "receive", "args": {
            "part": "PN-U", "tracking": "untracked", "location": "CAGE", "quantity": 1, "x\x00": 1}}, "args.x\\0"),
    ]
    for path, body, field in bodies:
        assert_problem(await api.post(path, body, "admin"), 422, "invalid", field)
    assert_problem(await api.patch("/api/parts/PN-U", {"description": "d\x00"}, "admin"), 422, "invalid", "description")
    anonymous = await api.client.post("/api/auth/token", json={"username": "admin\x00", "password": "x"})
    assert_problem(anonymous, 422, "invalid", "username")
    assert (await api.get("/api/parts")).json()["total"] == 1
    assert [loc["code"] for loc in (await api.get("/api/locations")).json()] == ["CAGE"]
    assert (await api.get("/api/suppliers")).json() == [] and await api.items() == []
    assert (await api.get("/api/parts/PN-U")).json()["description"] == ""


async def test_a_nul_written_as_text_in_json_is_kept_as_text(api: Api) -> None:
    created = await api.client.post(
        "/api/parts", content=b'{"part_number": "PN-T", "tracking": "lot", "description": "C:\\\\u0000"}',
        headers={**api.headers("admin"), "content-type": "application/json"},
    )
    assert created.status_code == 201, created.text
    assert created.json()["description"] == "C:\\u0000"


async def test_a_nul_in_a_supervisor_page_form_is_refused(db: Database, api: Api) -> None:
    transport = httpx.ASGITransport(app=create_app(db.settings, db))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
        assert_problem(await Browser(client).sign_in("supervisor\x00"), 422, "invalid", "username")


async def test_a_nul_in_a_pushed_op_rejects_that_op_invalid_and_the_queue_goes_on(shop: Api, phone: Phone) -> None:
    first = receive_u(phone, 1)
    bad_serial = phone.op("receive", part="PN-S", tracking="serial", location="A", quantity=1, serial="SN\x001")
    bad_actor = {**receive_u(phone, 2), "actor": "op\x00"}
    bad_time = {**receive_u(phone, 3), "client_time": "\x00"}
    bad_type = {**receive_u(phone, 4), "type": "rec\x00eive"}
    last = receive_u(phone, 5)
    body = await phone.push(first, bad_serial, bad_actor, bad_time, bad_type, last)
    assert [(r["status"], r.get("reason"), r.get("field")) for r in body["results"]] == [
        ("applied", None, None), ("rejected", "invalid", "args.serial"), ("rejected", "invalid", "actor"),
        ("rejected", "invalid", "client_time"), ("rejected", "invalid", "type"), ("applied", None, None),
    ]
    assert body["last_seq"] == 6 and body["stopped"] is None
    assert await untracked_at(shop) == {"A": 6}
    again = await phone.push(first, bad_serial, bad_actor, bad_time, bad_type, last)  # the phone retries: replays
    assert [(r["status"], r.get("original_status")) for r in again["results"]] == [
        ("duplicate", "applied"), *[("duplicate", "rejected")] * 4, ("duplicate", "applied")
    ]


# ---- 7. a bucket's quantity -----------------------------------------------------------------------------
BILLION = 1_000_000_000


async def test_a_bucket_holds_at_most_a_billion_whatever_op_grows_it(api: Api) -> None:
    for code in ("A", "B"):
        await api.location(code)
    await api.part("PN-U", "untracked")
    await api.part("PN-L", "lot")
    u = {"part": "PN-U", "tracking": "untracked"}

    async def refused(op_type: str, field: str, role: str = "operator", **args: Any) -> None:
        body = assert_problem(await api.op(op_type, role, **args), 422, "invalid", field)
        assert body["max_quantity"] == BILLION

    await api.ok("receive", **u, location="A", quantity=BILLION)
    for _ in range(2):  # the third receipt of 10^9 was a 500 on PostgreSQL, SQLite stored 3 × 10^9
        await refused("receive", "args.quantity", **u, location="A", quantity=BILLION)
    await refused("receive", "args.quantity", **u, location="A", quantity=1)
    await api.ok("receive", **u, location="B", quantity=5)
    await refused("move", "args.quantity", **u, from_location="B", to_location="A", quantity=1)
    await refused("adjust", "args.delta", "supervisor", **u, location="A", delta=1, reason="found")
    await api.ok("isolate", **u, location="A", quantity=BILLION, reason="QA")
    await api.ok("receive", **u, location="A", quantity=BILLION)
    await refused("isolate", "args.quantity", **u, location="A", quantity=1, reason="QA")

    lot = {"part": "PN-L", "tracking": "lot"}
    await api.ok("receive", **lot, lot="L1", location="A", quantity=BILLION)
    await api.ok("receive", **lot, lot="L2", location="A", quantity=5)
    await refused("merge", "args.lots", part="PN-L", tracking="lot", location="A", lots=["L1", "L2"], into_lot="L1")
    await refused("split", "args.quantity", **lot, lot="L2", location="A", quantity=1, new_lot="L1")

    stock = {(i["part"], i["lot"], i["location"], i["status"]): i["quantity"] for i in await api.items()}
    assert stock == {
        ("PN-U", None, "A", "available"): BILLION, ("PN-U", None, "A", "unavailable"): BILLION,
        ("PN-U", None, "B", "available"): 5, ("PN-L", "L1", "A", "available"): BILLION,
        ("PN-L", "L2", "A", "available"): 5,
    }
    movements = [m for m in (await api.get("/api/activity")).json()["items"] if m["changes"] is None]
    assert len(movements) == 6  # the refused ops left no line (the rest: parts and locations created)


# ---- 8. one bad op never blocks a phone's queue ---------------------------------------------------------
FAILURES = ["nul", "overflow", "check_constraint", "missing_table", "bug"]


async def failing_receive(ctx: Any, args: Any, real: Any, failure: str) -> Any:
    """The receive handler, failing for real when `quantity` is 13 (a database error raised inside it)."""
    if args.quantity == 13:
        await ctx.written()
        if failure == "check_constraint":  # the database's own CHECK (quantity >= 0) refuses it
            await ctx.session.execute(text("UPDATE inventory SET quantity = -1"))
        elif failure == "missing_table":
            await ctx.session.execute(text("SELECT * FROM no_such_table"))
        else:
            raise RuntimeError("a bug in a handler")
    return await real(ctx, args)


@pytest.mark.parametrize("failure", FAILURES)
async def test_a_failing_op_in_a_push_of_100_is_its_own_outcome_and_the_queue_goes_on(
    shop: Api, phone: Phone, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    await shop.ok("receive", part="PN-U", tracking="untracked", location="C", quantity=BILLION)
    real = OP_TYPES["receive"].handler

    async def receive(ctx: Any, args: Any) -> Any:
        return await failing_receive(ctx, args, real, failure)

    monkeypatch.setitem(OP_TYPES, "receive", replace(OP_TYPES["receive"], handler=receive))
    good = [receive_u(phone, 2) if n % 2 == 0 else move_u(phone, 1, "A", "B") for n in range(49)]
    if failure == "nul":
        bad = receive_u(phone, 1, po_line="PO\x001")
    elif failure == "overflow":
        bad = receive_u(phone, 1, location="C")
    else:
        bad = receive_u(phone, 13)
    good_after = [receive_u(phone, 2) if n % 2 == 1 else move_u(phone, 1, "A", "B") for n in range(50)]
    body = await phone.push(*good, bad, *good_after)

    assert (body["last_seq"], body["stopped"], len(body["results"])) == (100, None, 100)
    statuses = [r["status"] for r in body["results"]]
    assert statuses == ["applied"] * 49 + ["rejected"] + ["applied"] * 50
    refused = body["results"][49]
    assert refused["reason"] == "invalid" and refused["seq"] == 50, refused
    assert refused.get("field") == {"nul": "args.po_line", "overflow": "args.quantity"}.get(failure)
    assert await untracked_at(shop) == {"A": 100 - 49, "B": 49, "C": BILLION}  # 50 receipts of 2, 49 moves of 1

    after = await phone.push(receive_u(phone, 7))  # the next push goes on from seq 101
    assert (after["last_seq"], [r["status"] for r in after["results"]]) == (101, ["applied"])
    replay = await phone.push(bad)  # and the phone retrying it is answered from its record
    assert [(r["status"], r["original_status"]) for r in replay["results"]] == [("duplicate", "rejected")]


@pytest.mark.parametrize("failure", FAILURES)
async def test_a_failing_op_online_is_a_422_of_its_own_and_writes_nothing(
    shop: Api, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    await shop.ok("receive", part="PN-U", tracking="untracked", location="C", quantity=BILLION)
    real = OP_TYPES["receive"].handler

    async def receive(ctx: Any, args: Any) -> Any:
        return await failing_receive(ctx, args, real, failure)

    monkeypatch.setitem(OP_TYPES, "receive", replace(OP_TYPES["receive"], handler=receive))
    args = {"part": "PN-U", "tracking": "untracked", "location": "A", "quantity": 13}
    if failure == "nul":
        args["po_line"] = "PO\x001"
    if failure == "overflow":
        args.update(location="C", quantity=1)
    body = assert_problem(await shop.op("receive", **args), 422, "invalid")
    assert body.get("field") == {"nul": "args.po_line", "overflow": "args.quantity"}.get(failure)
    assert await untracked_at(shop) == {"C": BILLION}
    await shop.ok("receive", part="PN-U", tracking="untracked", location="A", quantity=2)
    assert await untracked_at(shop) == {"A": 2, "C": BILLION}


# ---- 14. depends_on online ------------------------------------------------------------------------------
async def test_online_depends_on_must_name_ops_the_server_has_and_at_most_100(shop: Api, phone: Phone) -> None:
    def receive(**extra: Any) -> dict[str, Any]:
        args = {"part": "PN-U", "tracking": "untracked", "location": "A", "quantity": 1}
        return {"op_id": str(uuid.uuid4()), "type": "receive", "args": args, **extra}

    flood = receive(depends_on=[str(uuid.uuid4()) for _ in range(10_000)])
    assert_problem(await shop.post("/api/ops", flood), 422, "invalid", "depends_on")
    unknown = str(uuid.uuid4())
    body = assert_problem(await shop.post("/api/ops", receive(depends_on=[unknown])), 404, "unknown-reference", "depends_on")
    assert unknown in body["detail"]
    assert await untracked_at(shop) == {}

    online = receive()
    assert (await shop.post("/api/ops", online)).status_code == 201
    pushed = receive_u(phone, 1)
    assert [r["status"] for r in (await phone.push(pushed))["results"]] == ["applied"]
    both = receive(depends_on=[online["op_id"], pushed["op_id"]])
    assert (await shop.post("/api/ops", both)).status_code == 201
    mixed = receive(depends_on=[online["op_id"], unknown])
    assert_problem(await shop.post("/api/ops", mixed), 404, "unknown-reference", "depends_on")
    assert await untracked_at(shop) == {"A": 3}
