"""Imports uploaded on the supervisor pages, run as background jobs of the server process that took the form;
the job's page polls its state.

The uploaded file and each job's state are files in `<data dir>/imports/` (GEMBA_DATA_DIR), the state
rewritten atomically at most every WRITE_EVERY seconds while the job runs, so that any server process of
`gemba serve --workers N` shows any job. A job whose state stopped moving for STALE seconds was cut off (its
process restarted): its transaction was rolled back, nothing of it applied. Files older than KEEP_DAYS go when
a new upload comes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec

from server.db import Database
from server.importing.report import Report
from server.importing.service import Options, run_import
from server.actor import Actor

LOG = logging.getLogger(__name__)
JOB_ID = re.compile(r"^[0-9a-f]{32}$")
KEEP_DAYS = 7
STALE = timedelta(seconds=120)
WRITE_EVERY = 0.5  # seconds between two writes of a running job's state


class JobState(msgspec.Struct, kw_only=True):
    id: str
    upload: str  # the id of the job whose upload this one imports (a dry run's, for the run that applies it)
    filename: str
    kind: str
    preset: str | None = None
    dry_run: bool
    skip_bad_rows: bool
    actor: str
    started_at: datetime
    updated_at: datetime
    phase: str = "queued"  # checking, applying, done
    done: int = 0
    total: int = 0
    applied_by: str | None = None  # a dry run: the job that applied it
    report: Report | None = None

    @property
    def finished(self) -> bool:
        return self.report is not None

    @property
    def stopped(self) -> bool:
        """Cut off before it finished: its server process stopped (nothing of it was applied)."""
        return not self.finished and datetime.now(UTC) - self.updated_at > STALE


class Jobs:
    def __init__(self, directory: Path, db: Database) -> None:
        self.directory = directory
        self.db = db
        self.tasks: set[asyncio.Task[None]] = set()

    def _path(self, job_id: str, suffix: str) -> Path:
        if not JOB_ID.match(job_id):
            raise KeyError(job_id)
        return self.directory / f"{job_id}{suffix}"

    def get(self, job_id: str) -> JobState | None:
        try:
            return msgspec.json.decode(self._path(job_id, ".json").read_bytes(), type=JobState)
        except (KeyError, OSError, msgspec.DecodeError):  # not a job id; tidied away; not a job's state
            return None

    def upload(self, state: JobState) -> bytes | None:
        try:
            return self._path(state.upload, ".csv").read_bytes()
        except OSError:  # tidied away
            return None

    def save(self, state: JobState) -> None:
        path = self._path(state.id, ".json")
        partial = path.with_suffix(".json.partial")
        partial.write_bytes(msgspec.json.encode(state))
        os.replace(partial, path)

    def recent(self, count: int = 10) -> list[JobState]:
        if not self.directory.is_dir():
            return []
        paths = sorted(self.directory.glob("*.json"), key=lambda path: path.stat().st_mtime, reverse=True)
        found = (self.get(path.stem) for path in paths[:count])
        return [state for state in found if state is not None]

    def start(
        self, actor: Actor, kind: str, options: Options, *, data: bytes | None = None, filename: str = "",
        dry_run_of: JobState | None = None,
    ) -> JobState:
        """A job importing `data` (a new upload), or applying `dry_run_of`'s upload as `options` say."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._tidy()
        now = datetime.now(UTC)
        job_id = uuid.uuid4().hex
        state = JobState(
            id=job_id, upload=dry_run_of.upload if dry_run_of else job_id,
            filename=dry_run_of.filename if dry_run_of else filename, kind=kind, preset=options.preset,
            dry_run=options.dry_run, skip_bad_rows=options.skip_bad_rows, actor=actor.username, started_at=now,
            updated_at=now,
        )
        if data is not None:
            self._path(job_id, ".csv").write_bytes(data)
        self.save(state)
        if dry_run_of is not None:
            dry_run_of.applied_by = job_id
            self.save(dry_run_of)
        task = asyncio.create_task(self._run(state, actor, options))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return state

    async def _run(self, state: JobState, actor: Actor, options: Options) -> None:
        written = 0.0

        def progress(phase: str, done: int, total: int) -> None:
            nonlocal written
            state.phase, state.done, state.total = phase, done, total
            if time.monotonic() - written > WRITE_EVERY or done == total:
                written = time.monotonic()
                state.updated_at = datetime.now(UTC)
                self.save(state)

        try:
            report = await run_import(self.db, state.kind, self.upload(state) or b"", actor, options, progress)
        except Exception as error:  # run_import reports what goes wrong; this is a bug's last stop
            LOG.error("import job %s failed", state.id, exc_info=error)
            report = Report(kind=state.kind, dry_run=state.dry_run, skip_bad_rows=state.skip_bad_rows,
                            file_error=f"The import failed ({type(error).__name__}): nothing was imported")
        state.report, state.phase, state.updated_at = report, "done", datetime.now(UTC)
        self.save(state)

    def _tidy(self) -> None:
        cutoff = time.time() - KEEP_DAYS * 86400
        for path in self.directory.iterdir():
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
            except FileNotFoundError:  # another server process tidied it
                continue
