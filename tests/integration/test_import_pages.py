"""The import on the supervisor pages as a browser uses them: admins only, CSRF on the upload and the apply,
the upload checked first (a dry run in the background, its page refreshing until done), the report per row,
apply (all or nothing, or without the refused rows), the refused rows as CSV, templates and exports, and
files too large or not chosen."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.app import create_app
from server.db import Database
from server.importing.jobs import JobState, Jobs
from server.importing.table import read_table
from tests.conftest import Api
from tests.integration.test_supervisor_pages import CSRF, Browser

STOCK = "part,location,quantity,serial\nSCREW,SHELF,100,\nSCREW,SHELF,2.5,\nPUMP,SHELF,1,P-1\n"


@pytest.fixture
async def admin(db: Database, api: Api, tmp_path: Path) -> AsyncIterator[Any]:
    """A signed-in browser factory on an app whose uploads go to a directory of the test's own."""
    settings = dataclasses.replace(db.settings, data_dir=tmp_path, max_import_bytes=2_000)
    app = create_app(settings, db)
    clients: list[httpx.AsyncClient] = []

    async def browser(user: str = "admin") -> Browser:
        clients.append(httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local"))
        signed_in = Browser(clients[-1])
        await signed_in.sign_in(user)
        return signed_in

    yield browser
    for client in clients:
        await client.aclose()


async def upload(browser: Browser, kind: str, text: str, **fields: str) -> httpx.Response:
    shown = await browser.get("/supervisor/import")
    assert shown.status_code == 200, shown.text
    data = {"csrf": CSRF.search(shown.text).group(1), "kind": kind, **fields}
    return await browser.client.post("/supervisor/import", data=data, files={"file": ("stock.csv", text.encode(), "text/csv")})


async def finished(browser: Browser, job: str) -> str:
    """The job's page once the job is done (the page asks to be refreshed until then)."""
    for _ in range(400):
        page = await browser.get(job)
        assert page.status_code == 200, page.text
        if "Refresh" not in page.headers:
            return page.text
        assert 'data-state="running"' in page.text and "<progress" in page.text
        await asyncio.sleep(0.05)
    raise AssertionError(f"{job} did not finish")


def count(page: str, status: str) -> int:
    return int(re.search(rf'data-count="{status}">([\d,]+)<', page).group(1).replace(",", ""))


async def test_upload_check_apply_without_the_refused_rows_and_download_them(admin: Any, api: Api) -> None:
    await api.part("SCREW", "untracked")
    await api.part("PUMP", "serial")
    await api.location("SHELF")
    browser = await admin()
    form = (await browser.get("/supervisor/import")).text
    assert 'enctype="multipart/form-data"' in form and 'data-kind="stock"' in form and "Opening stock" in form
    sent = await upload(browser, "stock", STOCK)
    assert sent.status_code == 303
    job = sent.headers["location"]

    report = await finished(browser, job)
    assert "Checked: nothing has changed yet." in report
    assert (count(report, "created"), count(report, "refused")) == (2, 1)
    assert '<tr data-row="3"><td>3</td><td>SCREW @ SHELF</td><td>quantity</td><td>2.5 ea: ea is counted in whole numbers' in report
    assert "Apply the 2 good rows, skip the 1 refused" in report
    assert await api.items(part="SCREW") == []  # a dry run

    refused = await browser.get(f"{job}/refused")
    assert refused.headers["content-type"].startswith("text/csv")
    assert 'filename="stock-refused.csv"' in refused.headers["content-disposition"]
    assert [(r.cells["quantity"], r.cells["error"]) for r in read_table(refused.content).records] == [
        ("2.5", "row 3: quantity: 2.5 ea: ea is counted in whole numbers")]

    applied = await browser.submit(job, f"{job}/apply", {"skip_bad_rows": "yes"})
    assert applied.status_code == 303
    done = await finished(browser, applied.headers["location"])
    assert "Imported." in done and (count(done, "created"), count(done, "refused")) == (2, 1)
    assert [i["quantity"] for i in await api.items(part="SCREW")] == [100]
    assert [i["serial"] for i in await api.items(part="PUMP")] == ["P-1"]
    again = await browser.submit(job, f"{job}/apply", {})  # the dry run was applied: its page says by which job
    assert again.headers["location"] == applied.headers["location"]
    listed = (await browser.get("/supervisor/import")).text
    assert listed.count('data-job="') == 2 and "import without the refused rows" in listed


async def test_all_or_nothing_applies_a_clean_file(admin: Any, api: Api) -> None:
    browser = await admin()
    job = (await upload(browser, "locations", "code,name\nPLANT/STORES,Stores\n")).headers["location"]
    report = await finished(browser, job)
    assert "Apply the 1 rows" in report and 'data-status="created"' in report
    applied = await browser.submit(job, f"{job}/apply", {})
    done = await finished(browser, applied.headers["location"])
    assert "Imported." in done and "import, all or nothing" in done
    assert {loc["code"] for loc in (await api.get("/api/locations")).json()} == {"PLANT", "PLANT/STORES"}


async def test_only_admins_import_and_forms_need_their_csrf_token(admin: Any, api: Api) -> None:
    supervisor = await admin("supervisor")
    page = await supervisor.get("/supervisor/import")
    assert page.status_code == 403 and "Importing is for admins" in page.text
    assert (await supervisor.get("/supervisor/import/export/parts")).status_code == 403
    assert 'href="/supervisor/import"' not in (await supervisor.get("/supervisor/conflicts")).text
    browser = await admin()
    assert 'href="/supervisor/import"' in (await browser.get("/supervisor/conflicts")).text
    forged = await browser.client.post("/supervisor/import", data={"csrf": "nope", "kind": "parts"},
                                       files={"file": ("p.csv", b"part_number,tracking\nP,lot\n", "text/csv")})
    assert forged.status_code == 403 and "form" in forged.text.lower()
    assert (await api.get("/api/parts")).json()["total"] == 0


async def test_a_file_too_large_missing_or_of_no_kind_is_refused_on_the_form(admin: Any) -> None:
    browser = await admin()
    large = await upload(browser, "parts", "part_number,tracking\n" + "P,lot\n" * 400)
    assert large.status_code == 413 and "larger than 0 MB" in large.text
    empty = await upload(browser, "parts", "")
    assert empty.status_code == 422 and "Choose a CSV file" in empty.text
    nonsense = await upload(browser, "things", "a\n1\n")
    assert nonsense.status_code == 422 and "Choose what to import" in nonsense.text
    missing = await browser.get("/supervisor/import/0123456789abcdef0123456789abcdef")
    assert missing.status_code == 404 and "No such import" in missing.text
    assert (await browser.get("/supervisor/import/..%2Fsecrets")).status_code == 404


async def test_a_file_refused_whole_says_why(admin: Any) -> None:
    browser = await admin()
    job = (await upload(browser, "parts", "part_number,colour\nP,red\n")).headers["location"]
    page = await finished(browser, job)
    assert 'data-state="file-refused"' in page and "Unknown column &#39;colour&#39;" in page
    assert 'id="apply"' not in page


async def test_templates_and_exports_download(admin: Any, api: Api) -> None:
    await api.part("SCREW", "untracked", description="Schraube M3")
    browser = await admin()
    template = await browser.get("/supervisor/import/template/stock")
    assert template.content == ("\ufeffpart,location,quantity,serial,lot,unit_cost,package_price,package_ref,expiry,"
                                "supplier\r\n").encode()
    exported = await browser.get("/supervisor/import/export/parts")
    assert exported.headers["content-disposition"] == 'attachment; filename="parts.csv"'
    assert [r.cells for r in read_table(exported.content).records] == [{
        "part_number": "SCREW", "description": "Schraube M3", "unit": "ea", "tracking": "untracked", "revision": "",
        "serial_pattern": "", "lot_pattern": "", "quantity_places": "", "packs": ""}]
    assert (await browser.get("/supervisor/import/template/things")).status_code == 404


async def test_a_job_cut_off_by_a_restart_says_so(admin: Any, db: Database, tmp_path: Path) -> None:
    jobs = Jobs(tmp_path / "imports", db)
    jobs.directory.mkdir(parents=True)
    long_ago = datetime.now(UTC) - timedelta(minutes=5)
    jobs.save(JobState(id="ab" * 16, upload="ab" * 16, filename="big.csv", kind="stock", dry_run=False,
                       skip_bad_rows=False, actor="admin", started_at=long_ago, updated_at=long_ago, phase="applying",
                       done=40_000, total=100_000))
    browser = await admin()
    page = await browser.get(f"/supervisor/import/{'ab' * 16}")
    assert page.status_code == 200 and "Refresh" not in page.headers
    assert 'data-state="stopped"' in page.text and "nothing of it was applied" in page.text
    assert (await browser.get(f"/supervisor/import/{'ab' * 16}/refused")).status_code == 404
