"""The production supervisor pages, as a browser uses them (cookie sign-in, CSRF on every form): the runs by
state, one run (start it, complete it; a refusal shown on the page), and the printable trace of a unit."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api
from tests.integration.production_support import BOARD, GLUE, SCREW, make_run, plant, stock_up  # noqa: F401
from tests.integration.test_supervisor_pages import browsers  # noqa: F401 - fixture


async def test_runs_and_the_trace_on_the_pages(plant: Api, browsers: Any) -> None:  # noqa: F811
    await stock_up(plant)
    await make_run(plant, number="RUN-1", quantity=1)
    supervisor = browsers()
    await supervisor.sign_in("supervisor")
    assert 'data-run="RUN-1"' not in (await supervisor.get("/supervisor/runs")).text  # planned, not open
    listed = (await supervisor.get("/supervisor/runs?state=planned")).text
    assert 'data-run="RUN-1" data-state="planned"' in listed
    page = "/supervisor/runs/RUN-1"
    shown = (await supervisor.get(page)).text
    assert 'data-line="GLUE"' in shown and "0.25 kg each" in shown and 'id="start"' in shown
    assert (await supervisor.submit(page, f"{page}/start", {})).status_code == 303
    shown = (await supervisor.get(page)).text
    assert 'data-state="open"' in shown and "work in progress at LINE/RUN-1" in shown and 'id="complete"' in shown
    again = await supervisor.submit(page, f"{page}/start", {})
    assert again.status_code == 409 and "it cannot be started" in again.text

    await plant.ok("issue", **BOARD, run="RUN-1", serial="BD-1", from_location="STORES", quantity=1)
    await plant.ok("issue", **GLUE, run="RUN-1", lot="G-2", from_location="STORES", quantity="0.25")
    await plant.ok("issue", **SCREW, run="RUN-1", from_location="STORES", quantity=4)
    pump = (await plant.ok("complete_run", run="RUN-1", quantity=1, location="LINE"))["serials"][0]
    shown = (await supervisor.get(page)).text
    assert 'data-fact="produced">1 of 1 built' in shown and f'data-item="{pump}"' in shown
    assert (await supervisor.submit(page, f"{page}/complete", {})).status_code == 303
    assert 'data-state="completed"' in (await supervisor.get(page)).text

    trace = (await supervisor.get(f"/supervisor/trace?serial={pump}")).text
    assert 'data-node="BD-1"' in trace and 'data-node="G-2"' in trace and 'data-run="RUN-1"' in trace
    assert 'data-op="complete_run"' in trace and "Print" in trace
    missing = await supervisor.get("/supervisor/trace?serial=NOPE")
    assert missing.status_code == 404 and "No unit with serial NOPE" in missing.text
    assert (await supervisor.get("/supervisor/trace")).status_code == 200
    assert (await supervisor.get("/supervisor/runs/NOPE")).status_code == 404
