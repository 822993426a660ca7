"""`gemba serve --workers`: how many processes by default, what the option accepts, how the workers share
their metrics; the settings of the metrics and the request log."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from server.cli import MAX_DEFAULT_WORKERS, default_workers, metrics_shared_by, parser
from server.settings import Settings


def test_one_process_on_sqlite_one_per_cpu_up_to_a_cap_on_postgresql() -> None:
    assert default_workers(is_sqlite=True) == 1
    assert default_workers(is_sqlite=False) == max(1, min(os.cpu_count() or 1, MAX_DEFAULT_WORKERS))


@pytest.mark.parametrize("value", ["0", "-2", "two"])
def test_workers_must_be_a_whole_number_of_at_least_one(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parser().parse_args(["serve", "--workers", value])
    assert "a whole number, at least 1" in capsys.readouterr().err


def test_workers_given_are_taken() -> None:
    assert parser().parse_args(["serve", "--workers", "3"]).workers == 3


def test_several_workers_share_their_metrics_in_a_directory_of_their_own_removed_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    with metrics_shared_by(1):
        assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ  # one process counts in memory
    with metrics_shared_by(3):
        directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
        assert directory.is_dir() and not any(directory.iterdir())  # fresh: no counts of an earlier run
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ and not directory.exists()


def test_a_metrics_directory_given_is_kept(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    with metrics_shared_by(3):
        assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path)
    assert tmp_path.is_dir() and os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path)


def test_the_log_format_and_metrics_token_come_from_the_environment() -> None:
    settings = Settings.from_env({"GEMBA_LOG_FORMAT": "JSON", "GEMBA_METRICS_TOKEN": "t0k", "DATABASE_URL": "sqlite+aiosqlite:///x"})
    assert (settings.log_format, settings.metrics_token) == ("json", "t0k")
    assert Settings.from_env({"DATABASE_URL": "sqlite+aiosqlite:///x"}).metrics_token is None
    with pytest.raises(ValueError, match="GEMBA_LOG_FORMAT"):
        Settings.from_env({"GEMBA_LOG_FORMAT": "xml", "DATABASE_URL": "sqlite+aiosqlite:///x"})
