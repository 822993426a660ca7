"""The kits and quality issues supervisor pages, as a browser uses them (cookie sign-in, CSRF on every form):
open a kit from the form, see its lines and where to pick, complete it; open an issue on a unit that sets it
aside, close it with a disposition."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api
from tests.integration.test_kits import stores  # noqa: F401 - fixture
from tests.integration.test_supervisor_pages import browsers  # noqa: F401 - fixture


async def test_open_a_kit_see_where_to_pick_and_complete_it(stores: Api, browsers: Any) -> None:  # noqa: F811
    supervisor = browsers()
    await supervisor.sign_in("supervisor")
    assert "No kits here." in (await supervisor.get("/supervisor/kits")).text
    made = await supervisor.submit("/supervisor/kits", "/supervisor/kits",
                                   {"location": "LINE-1", "run": "RUN-7", "lines": "BOLT 8\n\nRESIN 1.5\n"})
    assert made.status_code == 303 and made.headers["location"] == "/supervisor/kits/KIT-0001"
    await stores.ok("kit", kit="KIT-0001", part="BOLT", tracking="untracked", from_location="STORES/A", quantity=5)
    shown = (await supervisor.get("/supervisor/kits/KIT-0001")).text
    assert 'data-status="open"' in shown and 'data-fact="tote"' in shown and "LINE-1/KIT-0001" in shown
    assert 'data-part="BOLT"' in shown and 'data-fact="remaining">3<' in shown
    assert 'data-suggested="STORES/B">STORES/B: 1.5' in shown  # the oldest resin first
    listed = (await supervisor.get("/supervisor/kits")).text
    assert 'data-kit="KIT-0001" data-status="open"' in listed and "for run RUN-7" in listed
    done = await supervisor.submit("/supervisor/kits/KIT-0001", "/supervisor/kits/KIT-0001/complete", {})
    assert done.status_code == 200 and 'id="closing"' in done.text  # a kit for a run says what became of it
    assert "Nothing issued to run RUN-7: released in the tote" in done.text and "No run RUN-7" in done.text
    shown = (await supervisor.get("/supervisor/kits/KIT-0001")).text
    assert 'data-status="completed"' in shown and 'id="complete"' not in shown
    again = await supervisor.submit("/supervisor/kits", "/supervisor/kits/KIT-0001/cancel", {})
    assert again.status_code == 409 and "KIT-0001 is completed" in again.text
    bad = await supervisor.submit("/supervisor/kits", "/supervisor/kits", {"location": "LINE-1", "lines": "BOLT"})
    assert bad.status_code == 422 and "write PART QUANTITY" in bad.text
    assert (await supervisor.get("/supervisor/kits/KIT-0404")).status_code == 404


async def test_open_an_issue_that_sets_a_unit_aside_and_close_it(stores: Api, browsers: Any) -> None:  # noqa: F811
    supervisor = browsers()
    await supervisor.sign_in("supervisor")
    made = await supervisor.submit("/supervisor/issues", "/supervisor/issues",
                                   {"title": "Dented flange", "serial": "P-1", "isolate": "on"})
    assert made.status_code == 303
    page = made.headers["location"]
    shown = (await supervisor.get(page)).text
    assert "ISSUE-0001 · Dented flange" in shown and 'data-isolated="STORES/A"' in shown
    assert [i["status"] for i in await stores.items(serial="P-1")] == ["unavailable"]
    assert 'data-issue="ISSUE-0001" data-status="open"' in (await supervisor.get("/supervisor/issues")).text
    closed = await supervisor.submit(page, f"{page}/close", {"disposition": "scrap", "note": "beyond repair"})
    assert closed.status_code == 303
    shown = (await supervisor.get(page)).text
    assert 'data-status="closed"' in shown and 'data-fact="disposition">Scrap<' in shown and "beyond repair" in shown
    assert [i["status"] for i in await stores.items(serial="P-1")] == ["scrapped"]
    bad = await supervisor.submit("/supervisor/issues", "/supervisor/issues", {"title": "No subject"})
    assert bad.status_code == 422 and "name a unit" in bad.text
