"""The supervisor pages as a browser uses them: sign-in with a session cookie, 403 for operators, CSRF on
every form, open conflicts in plain words with the server's current state and the ops held behind them,
approving with corrected args (checked through the API), rejecting with a note, and the log of decisions."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from server.app import create_app
from server.db import Database
from tests.conftest import PASSWORD, Api
from tests.integration.sync_helpers import (  # noqa: F401 - fixtures
    Phone,
    by_seq,
    move_u,
    phone,
    receive_u,
    shop,
    untracked_at,
)

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Browser:
    """One browser: its own cookie jar, forms posted with the CSRF token of the page they came from."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def get(self, path: str) -> httpx.Response:
        return await self.client.get(path)

    async def sign_in(self, username: str, password: str = PASSWORD) -> httpx.Response:
        form = await self.client.get("/supervisor/login")
        assert form.status_code == 200
        token = CSRF.search(form.text).group(1)
        return await self.client.post(
            "/supervisor/login", data={"csrf": token, "username": username, "password": password, "next": ""}
        )

    async def submit(self, page: str, action: str, fields: dict[str, Any]) -> httpx.Response:
        """Post a form of `page` (its CSRF token included), as the browser would."""
        shown = await self.client.get(page)
        assert shown.status_code == 200, shown.text
        return await self.client.post(action, data={"csrf": CSRF.search(shown.text).group(1), **fields})


@pytest.fixture
async def browsers(db: Database, api: Api) -> AsyncIterator[Any]:
    app = create_app(db.settings, db)
    clients: list[httpx.AsyncClient] = []

    def new(base_url: str = "http://testserver.local") -> Browser:
        clients.append(httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url))
        return Browser(clients[-1])

    new.app = app  # type: ignore[attr-defined]
    yield new
    for client in clients:
        await client.aclose()


async def held_and_rejected(phone: Phone) -> dict[str, Any]:
    """5 on hand at A; a move of 8 (held) with a move that depends on it; SN-1 received twice (rejected)."""
    ops = [
        receive_u(phone, 5),
        move_u(phone, 8, "A", "B"),
        phone.op("receive", part="PN-S", tracking="serial", location="DOCK", quantity=1, serial="SN-1"),
        phone.op("receive", part="PN-S", tracking="serial", location="C", quantity=1, serial="SN-1"),
    ]
    ops.append(move_u(phone, 8, "B", "C", depends_on=[ops[1]]))
    results = by_seq(await phone.push(*ops))
    assert [results[n]["status"] for n in range(1, 6)] == ["applied", "held", "applied", "rejected", "held"]
    return {"held": results[2]["conflict_id"], "duplicate": results[4]["conflict_id"], "ops": ops}


async def test_sign_in_sets_a_strict_http_only_cookie_and_operators_get_403(shop: Api, browsers: Any) -> None:
    anonymous = browsers()
    response = await anonymous.get("/supervisor/conflicts?status=all")
    assert response.status_code == 303
    assert response.headers["location"] == "/supervisor/login?next=/supervisor/conflicts%3Fstatus%3Dall"
    bearer = await anonymous.client.get("/supervisor/conflicts", headers=shop.headers("supervisor"))
    assert bearer.status_code == 303  # the API's bearer token is not a page session

    wrong = await anonymous.sign_in("supervisor", "not the password")
    assert wrong.status_code == 401 and "Wrong username or password" in wrong.text
    signed_in = await anonymous.sign_in("supervisor")
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/supervisor/conflicts"
    cookie = next(value for value in signed_in.headers.get_list("set-cookie") if value.startswith("gemba_supervisor="))
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "path", "samesite"} <= attributes and "secure" not in attributes
    assert "samesite=strict" in cookie.lower() and "path=/supervisor" in cookie.lower()
    page = await anonymous.get("/supervisor/conflicts")
    assert page.status_code == 200 and "Open conflicts" in page.text and "Sign out supervisor" in page.text
    assert page.headers["cache-control"] == "no-store" and page.headers["x-frame-options"] == "DENY"

    over_https = browsers("https://testserver.local")
    secure = await over_https.sign_in("admin")
    assert secure.status_code == 303
    assert "secure" in secure.headers["set-cookie"].lower()

    operator = browsers()
    refused = await operator.sign_in("operator")
    assert refused.status_code == 403 and "Supervisors only" in refused.text
    assert "gemba_supervisor=" not in ";".join(refused.headers.get_list("set-cookie")).replace("gemba_supervisor_login=", "")
    operator.client.cookies.set("gemba_supervisor", shop.tokens["operator"], path="/supervisor")
    assert (await operator.get("/supervisor/conflicts")).status_code == 303  # an API token is no page session

    out = await anonymous.submit("/supervisor/conflicts", "/supervisor/logout", {})
    assert out.status_code == 303
    assert (await anonymous.get("/supervisor/conflicts")).status_code == 303


async def test_a_page_session_opens_only_the_pages_and_an_api_token_only_the_api(shop: Api, browsers: Any) -> None:
    supervisor = browsers()
    assert (await supervisor.sign_in("supervisor")).status_code == 303
    session = supervisor.client.cookies.get("gemba_supervisor")
    assert session and session != shop.tokens["supervisor"]
    assert (await supervisor.get("/supervisor/conflicts")).status_code == 200

    as_bearer = await shop.client.get("/api/sync/conflicts", headers={"Authorization": f"Bearer {session}"})
    assert as_bearer.status_code == 401 and as_bearer.json()["type"] == "/problems/unauthorized"
    assert (await shop.get("/api/sync/conflicts", "supervisor")).status_code == 200  # the API's own token

    api_cookie = browsers()
    api_cookie.client.cookies.set("gemba_supervisor", shop.tokens["supervisor"], path="/supervisor")
    refused = await api_cookie.get("/supervisor/conflicts")
    assert refused.status_code == 303 and refused.headers["location"].startswith("/supervisor/login")


async def test_sign_in_on_the_page_is_throttled_with_the_api(shop: Api, browsers: Any) -> None:
    now = browsers.app.state.auth.throttle.clock()
    browsers.app.state.auth.throttle.clock = lambda: now  # the test's own time: no wait runs out meanwhile
    guesser = browsers()
    for _ in range(5):
        assert (await guesser.sign_in("supervisor", "not the password")).status_code == 401
    for password in ("still not it", PASSWORD):  # locked for this address: even the right one waits
        locked = await guesser.sign_in("supervisor", password)
        assert locked.status_code == 429 and locked.headers["retry-after"] == "1"
        assert "Too many failed sign-ins: try again in 1 s" in locked.text
        assert "gemba_supervisor=" not in ";".join(locked.headers.get_list("set-cookie"))
    token = await guesser.client.post("/api/auth/token", json={"username": "supervisor", "password": PASSWORD})
    assert token.status_code == 429 and token.json()["type"] == "/problems/too-many-attempts"


async def test_forms_without_the_sessions_csrf_token_are_refused(shop: Api, phone: Phone, browsers: Any) -> None:
    conflicts = await held_and_rejected(phone)
    page = f"/supervisor/conflicts/{conflicts['held']}"
    supervisor = browsers()
    assert (await supervisor.sign_in("supervisor")).status_code == 303
    stranger = browsers()
    await stranger.sign_in("admin")
    others = CSRF.search((await stranger.get(page)).text).group(1)  # a valid token, of another session

    for token in (None, "", others):
        data = {"note": "forged"} if token is None else {"csrf": token, "note": "forged"}
        for action in ("approve", "reject"):
            response = await supervisor.client.post(f"{page}/{action}", data=data)
            assert response.status_code == 403 and "Form expired" in response.text
    no_login_token = await browsers().client.post(
        "/supervisor/login", data={"username": "supervisor", "password": PASSWORD}
    )
    assert no_login_token.status_code == 403 and "gemba_supervisor=" not in no_login_token.headers.get("set-cookie", "")
    assert (await shop.get(f"/api/sync/conflicts/{conflicts['held']}", "supervisor")).json()["status"] == "open"
    assert await untracked_at(shop) == {"A": 5}


async def test_open_conflicts_in_plain_words_with_who_where_when_state_and_held_ops(
    shop: Api, phone: Phone, browsers: Any
) -> None:
    conflicts = await held_and_rejected(phone)
    supervisor = browsers()
    await supervisor.sign_in("supervisor")
    listing = (await supervisor.get("/supervisor/conflicts")).text
    assert "There is less stock there than this takes" in listing
    assert "Another unit with this serial already exists" in listing
    assert "Move 8 × PN-U from A to B" in listing and "operator on operator&#39;s phone" in listing
    assert "1 held behind it" in listing

    held = await supervisor.get(f"/supervisor/conflicts/{conflicts['held']}")
    assert held.status_code == 200
    text = held.text
    assert "There is less stock there than this takes" in text and "A holds 5" in text  # and the server's words
    assert "Pushed" in text and "operator&#39;s phone" in text and "2026-11-23T09:14:03Z" in text
    assert re.search(r"<td>PN-U</td>\s*<td>A</td>\s*<td>5</td><td>available</td>", text)  # what A holds now
    assert "Held behind it (1)" in text and "Move 8 × PN-U from B to C" in text
    assert 'name="args.quantity" value="8"' in text

    duplicate = (await supervisor.get(f"/supervisor/conflicts/{conflicts['duplicate']}")).text
    assert "Another unit with this serial already exists" in duplicate
    assert re.search(r"<td>PN-S SN-1</td>\s*<td>DOCK</td>", duplicate)  # where the existing SN-1 is
    missing = await supervisor.get("/supervisor/conflicts/0192f7c2-0000-7000-8000-000000000000")
    assert missing.status_code == 404 and "No such conflict" in missing.text


async def test_approve_with_corrected_args_applies_them_and_the_decision_is_logged(
    shop: Api, phone: Phone, browsers: Any
) -> None:
    conflicts = await held_and_rejected(phone)
    supervisor = browsers()
    await supervisor.sign_in("supervisor")
    page = f"/supervisor/conflicts/{conflicts['held']}"
    sent = conflicts["ops"][1]["args"]
    fields = {f"args.{key}": str(value) for key, value in sent.items()}

    typo = await supervisor.submit(page, f"{page}/approve", {**fields, "args.quantity": "five"})
    assert typo.status_code == 422 and "is not a number" in typo.text and 'value="five"' in typo.text
    approved = await supervisor.submit(page, f"{page}/approve", {**fields, "args.quantity": "5", "note": "counted 5"})
    assert approved.status_code == 303 and approved.headers["location"] == page
    assert await untracked_at(shop) == {"B": 5}  # the corrected move; the one behind it (8 from B) held again

    decided = await shop.get(f"/api/sync/conflicts/{conflicts['held']}", "supervisor")
    resolution = decided.json()["resolution"]
    assert (resolution["action"], resolution["actor"], resolution["note"]) == ("approve", "supervisor", "counted 5")
    assert resolution["args"] == {**sent, "quantity": 5}
    shown = (await supervisor.get(page)).text
    assert "Approved by supervisor" in shown and "counted 5" in shown and "Decide" not in shown
    assert "With corrected details: Move 5 × PN-U from A to B" in shown

    fixed = await supervisor.submit(
        f"/supervisor/conflicts/{conflicts['duplicate']}", f"/supervisor/conflicts/{conflicts['duplicate']}/approve",
        {"args.part": "PN-S", "args.tracking": "serial", "args.location": "C", "args.quantity": "1",
         "args.serial": "SN-2", "note": "label misread"},
    )
    assert fixed.status_code == 303
    assert {item["serial"]: item["location"] for item in await shop.items(part="PN-S")} == {"SN-1": "DOCK", "SN-2": "C"}

    log = (await supervisor.get("/supervisor/resolutions")).text
    assert log.count("Approved by supervisor") == 2 and "label misread" in log and "counted 5" in log
    assert "Applied as a new operation" in log and '"quantity": 5' in log


async def test_reject_with_a_note_rejects_the_ops_behind_it(shop: Api, phone: Phone, browsers: Any) -> None:
    conflicts = await held_and_rejected(phone)
    supervisor = browsers()
    await supervisor.sign_in("admin")
    page = f"/supervisor/conflicts/{conflicts['held']}"
    empty = await supervisor.submit(page, f"{page}/reject", {"note": "  "})
    assert empty.status_code == 422 and "Not done" in empty.text
    rejected = await supervisor.submit(page, f"{page}/reject", {"note": "nothing moved, recount A"})
    assert rejected.status_code == 303

    body = (await shop.get(f"/api/sync/conflicts/{conflicts['held']}", "supervisor")).json()
    assert body["status"] == "rejected" and body["resolution"]["note"] == "nothing moved, recount A"
    assert [d["reason"] for d in body["resolution"]["dependants"]] == ["dependency_rejected"]
    assert await untracked_at(shop) == {"A": 5}
    again = await supervisor.client.post(f"{page}/approve", data={"csrf": CSRF.search((await supervisor.get(page)).text).group(1)})
    assert again.status_code == 409 and "already rejected" in again.text

    log = (await supervisor.get("/supervisor/resolutions")).text
    assert "Rejected by admin" in log and "nothing moved, recount A" in log
    assert "An earlier operation it builds on was rejected" in log
    open_list = (await supervisor.get("/supervisor/conflicts")).text
    assert "There is less stock there than this takes" not in open_list


def serial_at(phone: Phone, serial: str, location: str) -> dict[str, Any]:
    return phone.op("receive", part="PN-S", tracking="serial", location=location, quantity=1, serial=serial)


def move_serial(phone: Phone, serial: str, source: str, target: str) -> dict[str, Any]:
    return phone.op("move", part="PN-S", tracking="serial", from_location=source, to_location=target, quantity=1,
                    serial=serial)


async def stale_move(shop: Api, phone: Phone) -> str:
    """SN-1 received at A, moved to C on the server; the phone, not knowing, moves it from A to B: held."""
    [received] = (await phone.push(serial_at(phone, "SN-1", "A")))["results"]
    assert received["status"] == "applied"
    await shop.ok("move", part="PN-S", tracking="serial", from_location="A", to_location="C", quantity=1, serial="SN-1")
    [result] = (await phone.push(move_serial(phone, "SN-1", "A", "B")))["results"]
    assert (result["status"], result["reason"]) == ("held", "stale_location")
    return f"/supervisor/conflicts/{result['conflict_id']}"


async def test_a_stale_move_is_applied_from_where_the_unit_is_now_in_one_click(
    shop: Api, phone: Phone, browsers: Any
) -> None:
    page = await stale_move(shop, phone)
    supervisor = browsers()
    await supervisor.sign_in("supervisor")
    shown = (await supervisor.get(page)).text
    assert "SN-1 is at C now, not A" in shown and "Apply from where it is now (C)" in shown
    form = re.search(r"<form[^>]*data-here-now>(.*?)</form>", shown, re.S).group(1)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    assert fields["args.from_location"] == "C" and fields["args.to_location"] == "B" and fields["args.serial"] == "SN-1"

    sent = {"args.part": "PN-S", "args.tracking": "serial", "args.from_location": "A", "args.to_location": "B",
            "args.quantity": "1", "args.serial": "SN-1"}
    as_sent = await supervisor.submit(page, f"{page}/approve", sent)
    assert as_sent.status_code == 409 and "The unit is not where the operator said it was" in as_sent.text
    assert {item["serial"]: item["location"] for item in await shop.items(part="PN-S")} == {"SN-1": "C"}

    applied = await supervisor.submit(page, f"{page}/approve", {key: value for key, value in fields.items() if key != "csrf"})
    assert applied.status_code == 303
    assert {item["serial"]: item["location"] for item in await shop.items(part="PN-S")} == {"SN-1": "B"}
    resolution = (await shop.get(f"/api/sync/conflicts/{page.rsplit('/', 1)[1]}", "supervisor")).json()["resolution"]
    assert resolution["args"]["from_location"] == "C" and resolution["outcome"] == "applied"


async def test_a_stale_move_whose_unit_was_moved_back_is_approved_as_sent(
    shop: Api, phone: Phone, browsers: Any
) -> None:
    page = await stale_move(shop, phone)
    await shop.ok("move", part="PN-S", tracking="serial", from_location="C", to_location="A", quantity=1, serial="SN-1")
    supervisor = browsers()
    await supervisor.sign_in("supervisor")
    shown = (await supervisor.get(page)).text
    assert "Apply from where it is now" not in shown  # it is where the operator said again
    approved = await supervisor.submit(page, f"{page}/approve", {
        "args.part": "PN-S", "args.tracking": "serial", "args.from_location": "A", "args.to_location": "B",
        "args.quantity": "1", "args.serial": "SN-1", "note": "it came back"})
    assert approved.status_code == 303
    assert {item["serial"]: item["location"] for item in await shop.items(part="PN-S")} == {"SN-1": "B"}


async def test_on_the_server_now_shows_the_rows_the_op_names_then_a_count_with_a_link(
    shop: Api, phone: Phone, browsers: Any
) -> None:
    await phone.push(*[serial_at(phone, f"SN-A{n:02}", "A") for n in range(30)],
                     *[serial_at(phone, f"SN-B{n:02}", "B") for n in range(3)])
    page = await stale_move(shop, phone)  # SN-1: at C, the phone says A
    supervisor = browsers()
    await supervisor.sign_in("supervisor")
    shown = (await supervisor.get(page)).text
    assert re.findall(r"<td>(PN-S [^<]+)</td>", shown) == ["PN-S SN-1"]  # the one unit the op names, not 33
    assert "A holds 30 row(s) of PN-S in all" in shown and "B holds 3 row(s) of PN-S in all" in shown
    link = re.search(r'data-in-all="A">.*?href="([^"]+)"', shown, re.S).group(1).replace("&amp;", "&")
    assert link == "/supervisor/inventory?part=PN-S&location=A"
    listing = (await supervisor.get(link)).text
    assert "Inventory <span class=\"muted\">(30)</span>" in listing and len(re.findall(r"<td>PN-S SN-A", listing)) == 20
    later = re.search(r'href="([^"]+)">Later', listing).group(1).replace("&amp;", "&")
    assert len(re.findall(r"<td>PN-S SN-A", (await supervisor.get(later)).text)) == 10
    assert (await browsers().get(link)).status_code == 303  # signed in only


async def test_the_pages_follow_the_browsers_language_with_english_as_the_fallback(
    shop: Api, phone: Phone, browsers: Any
) -> None:
    page = await stale_move(shop, phone)
    supervisor = browsers()
    await supervisor.sign_in("supervisor")
    german = (await supervisor.client.get(page, headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})).text
    assert '<html lang="de">' in german and "Die Einheit ist nicht dort, wo der Bediener sagte" in german
    assert "Von dort buchen, wo es jetzt ist (C)" in german and "Umlagern PN-S Seriennummer SN-1 von A nach B" in german
    assert 'name="args.from_location" value="C"' in german  # the data stays as it is
    assert "Jetzt auf dem Server" in german and "Apply from where" not in german
    french = (await supervisor.client.get(page, headers={"Accept-Language": "fr-FR"})).text
    assert '<html lang="en">' in french and "Apply from where it is now (C)" in french
    login = (await browsers().client.get("/supervisor/login", headers={"Accept-Language": "de"})).text
    assert "Benutzername" in login and "Passwort" in login
