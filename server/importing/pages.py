"""The import on the supervisor pages (admins only), behind their cookie sign-in and CSRF (sync/pages.py):
upload a CSV file, which is checked first (a dry run in the background, its page polled with a `Refresh`
header, as the pages run no script); its report says per row what would be created, updated or refused and
why; then "apply" imports it, all or nothing, or without the refused rows, which download as a CSV with an
`error` column. Templates and exports of each kind download here too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.response import Redirect, Stream, Template

from server.api.files import disposition
from server.api.security import actor_of
from server.i18n import translator
from server.importing.jobs import JobState, Jobs
from server.importing.presets import PRESETS
from server.importing.report import refused_csv
from server.importing.service import KINDS, Options, exported
from server.importing.table import csv_bytes, csv_lines
from server.models import Role
from server.settings import Settings
from server.supervisor.shell import Session, checked_form, message, page

TEMPLATES = Path(__file__).parent / "templates"  # the app factory adds it to the template directories
BASE = "/supervisor/import"
CSV = "text/csv; charset=utf-8"
MULTIPART_OVERHEAD = 64 * 1024  # the form's other fields and boundaries around the file
SHOWN_ROWS = 200  # rows of a report listed per status on its page (the refused ones: SHOWN_REFUSED)
SHOWN_REFUSED = 500
REFRESH_SECONDS = 1


def _refused(request: Request, session: Session) -> Template | None:
    """A page for who is not an admin (importing is theirs), else None."""
    if actor_of(session.principal).at_least(Role.admin):
        return None
    t = translator(request)
    return message(session, 403, t("import.admins_only"), t("import.admins_only_text"))


def _not_found(request: Request, session: Session, job_id: str) -> Template:
    t = translator(request)
    return message(session, 404, t("import.no_such"), t("import.no_such_text", id=job_id))


def _upload_page(session: Session, jobs: Jobs, settings: Settings, status_code: int = 200, error: str = "") -> Template:
    return page("import/upload.html", session, status_code, kinds=list(KINDS), presets=list(PRESETS),
                columns={name: kind.columns for name, kind in KINDS.items()}, recent=jobs.recent(),
                max_mb=round(settings.max_import_bytes / 1_000_000), error=error)


def import_pages(settings: Settings) -> list[Any]:
    """The pages' route handlers (the upload's body limit is GEMBA_MAX_IMPORT_BYTES, not the API's)."""

    @get("/import")
    async def upload_form(request: Request, session: Session, import_jobs: Jobs) -> Template:
        return _refused(request, session) or _upload_page(session, import_jobs, settings)

    @post("/import", status_code=200, request_max_body_size=settings.max_import_bytes + MULTIPART_OVERHEAD)
    async def upload(request: Request, session: Session, import_jobs: Jobs) -> Response[Any]:
        form = await checked_form(request, session)
        if (refused := _refused(request, session)) is not None:
            return refused
        t = translator(request)
        kind, preset = form.get("kind", ""), form.get("preset") or None
        file = (await request.form()).get("file")
        if kind not in KINDS or (preset is not None and preset not in PRESETS):
            return _upload_page(session, import_jobs, settings, 422, t("import.bad_choice"))
        if not isinstance(file, UploadFile):
            return _upload_page(session, import_jobs, settings, 422, t("import.no_file"))
        data = await file.read()
        if not data:
            return _upload_page(session, import_jobs, settings, 422, t("import.no_file"))
        if len(data) > settings.max_import_bytes:
            return _upload_page(session, import_jobs, settings, 413,
                                t("import.too_large", mb=round(settings.max_import_bytes / 1_000_000)))
        job = import_jobs.start(actor_of(session.principal), kind, Options(dry_run=True, preset=preset), data=data,
                                filename=file.filename or "upload.csv")
        return Redirect(f"{BASE}/{job.id}", status_code=303)

    return [upload_form, upload, job_page, apply, refused_rows, template, export]


@get("/import/{job_id:str}")
async def job_page(job_id: str, request: Request, session: Session, import_jobs: Jobs) -> Template:
    if (refused := _refused(request, session)) is not None:
        return refused
    job = import_jobs.get(job_id)
    if job is None:
        return _not_found(request, session, job_id)
    report = job.report
    shown = {}
    if report is not None:
        shown = {status: [row for row in report.rows if row.status == status][: SHOWN_REFUSED if status == "refused" else SHOWN_ROWS]
                 for status in report.counts}
    response = page("import/job.html", session, job=job, report=report, shown=shown, counts=report.counts if report else {})
    if not job.finished and not job.stopped:
        response.headers["Refresh"] = str(REFRESH_SECONDS)  # the page polls while the job runs
    return response


@post("/import/{job_id:str}/apply", status_code=200)
async def apply(job_id: str, request: Request, session: Session, import_jobs: Jobs) -> Response[Any]:
    """Import the file a dry run checked: all or nothing, or (`skip_bad_rows=yes`) without the refused rows."""
    form = await checked_form(request, session)
    if (refused := _refused(request, session)) is not None:
        return refused
    job = import_jobs.get(job_id)
    if job is None:
        return _not_found(request, session, job_id)
    if not _appliable(job):
        return Redirect(f"{BASE}/{job.applied_by or job.id}", status_code=303)
    options = Options(skip_bad_rows=form.get("skip_bad_rows") == "yes", preset=job.preset)
    applying = import_jobs.start(actor_of(session.principal), job.kind, options, dry_run_of=job)
    return Redirect(f"{BASE}/{applying.id}", status_code=303)


def _appliable(job: JobState) -> bool:
    return job.dry_run and job.report is not None and not job.report.file_error and job.applied_by is None


@get("/import/{job_id:str}/refused", media_type=CSV)
async def refused_rows(job_id: str, request: Request, session: Session, import_jobs: Jobs) -> Response[Any]:
    """The refused rows of a job's file, as the file wrote them, with an `error` column."""
    if (refused := _refused(request, session)) is not None:
        return refused
    job = import_jobs.get(job_id)
    data = import_jobs.upload(job) if job is not None else None
    if job is None or job.report is None or data is None:
        return _not_found(request, session, job_id)
    name = Path(job.filename).stem + "-refused"
    return Response(refused_csv(data, job.report), media_type=CSV, headers=disposition(name, "csv"))


@get("/import/template/{kind:str}", media_type=CSV)
async def template(kind: str, request: Request, session: Session) -> Response[Any]:
    """A kind's columns: the header row of a file to fill in."""
    if (refused := _refused(request, session)) is not None:
        return refused
    if kind not in KINDS:
        return _not_found(request, session, kind)
    return Response(csv_bytes(list(KINDS[kind].columns), []), media_type=CSV, headers=disposition(f"{kind}-template", "csv"))


@get("/import/export/{kind:str}", media_type=CSV)
async def export(kind: str, request: Request, session: Session) -> Response[Any]:
    """Everything of a kind, as a file to import (elsewhere, or here again)."""
    if (refused := _refused(request, session)) is not None:
        return refused
    if kind not in KINDS:
        return _not_found(request, session, kind)
    rows = [row async for row in exported(request.app.state.db, kind)]
    return Stream(csv_lines(list(KINDS[kind].columns), rows), media_type=CSV, headers=disposition(kind, "csv"))
