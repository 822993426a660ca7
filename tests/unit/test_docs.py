"""Every problem type and op reason the server can answer with is documented (README.md and docs/)."""

import re
from pathlib import Path

import pytest

from server.api.problems import all_problems, type_uri
import server.app  # noqa: F401 - imports every module that defines problems
from server.errors import OP_REASONS

ROOT = Path(__file__).resolve().parents[2]
README = "\n".join(page.read_text() for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])
ERROR_ROWS = {
    match.group(1): (int(match.group(2)), match.group(3))
    for match in re.finditer(r"^\| `(/problems/[a-z-]+)` \| (\d{3}) \| `([a-z_]+)` \|", README, re.MULTILINE)
}


@pytest.mark.parametrize("slug", sorted(all_problems()))
def test_problem_type_is_documented_with_its_status(slug: str) -> None:
    _title, status = all_problems()[slug]
    assert type_uri(slug) in ERROR_ROWS, f"{type_uri(slug)} missing from the error table (docs/api.md)"
    assert ERROR_ROWS[type_uri(slug)][0] == status


@pytest.mark.parametrize("reason", sorted(OP_REASONS))
def test_op_reason_is_documented(reason: str) -> None:
    assert reason in {documented for _, documented in ERROR_ROWS.values()}


def test_no_documented_problem_that_the_server_does_not_have() -> None:
    assert set(ERROR_ROWS) == {type_uri(slug) for slug in all_problems()}


# ---- the sync protocol's reasons (../shared/spec/sync-protocol.md §3 rule 5) ------------------------------
SPEC = Path(__file__).resolve().parents[3] / "shared" / "spec" / "sync-protocol.md"
REASON_ROW = re.compile(r"^\s*\| `([a-z_]+)` \| (rejected \+ conflict|rejected|held) \|", re.MULTILINE)
# The table as the spec has it, for checkouts without ../shared next to them.
SPEC_REASONS = {
    "duplicate_serial": "rejected + conflict", "tracking_changed": "rejected + conflict",
    "tracking_mismatch": "rejected", "unknown_reference": "rejected", "dependency_rejected": "rejected",
    "dependency_held": "held", "location_locked": "held", "insufficient_quantity": "held", "stale_location": "held",
    "already_installed": "rejected + conflict", "invalid": "rejected",
}
PROTOCOL_REASONS = dict(REASON_ROW.findall(SPEC.read_text())) if SPEC.exists() else SPEC_REASONS
SYNC_ROWS = {  # the table of push outcomes (docs/sync.md): reason → (outcome, "conflict for a supervisor" cell)
    reason: (match.group(2), match.group(3).strip())
    for match in re.finditer(r"^\| ((?:`[a-z_]+`(?:, )?)+) \| (rejected|held) \| ([^|]+) \|$", README, re.MULTILINE)
    for reason in re.findall(r"`([a-z_]+)`", match.group(1))
}


def raises_conflict(reason: str) -> bool:
    """Rule 4: a held op is parked with a conflict for a supervisor — its own, or, for dependency_held, the
    one of the op it waits behind; a rejected one has a conflict where the table says "+ conflict"."""
    outcome = PROTOCOL_REASONS[reason]
    return outcome == "rejected + conflict" or (outcome == "held" and reason != "dependency_held")


PLAIN_WORDS = dict(re.findall(r"^\| `([a-z_]+)` \| ([A-Z][^|`]+?) \|$", README, re.MULTILINE))


def test_the_protocols_reason_table_is_read() -> None:
    assert PROTOCOL_REASONS == SPEC_REASONS  # the spec changed: update SPEC_REASONS, the server and the docs


@pytest.mark.parametrize("reason", sorted(PROTOCOL_REASONS))
def test_protocol_reason_is_documented_with_its_outcome(reason: str) -> None:
    outcome = PROTOCOL_REASONS[reason]
    assert reason in SYNC_ROWS, f"{reason} missing from the table of push outcomes (docs/sync.md)"
    documented, conflict = SYNC_ROWS[reason]
    assert documented == outcome.split()[0]
    assert conflict.startswith("yes") == raises_conflict(reason)
    assert reason in {documented for _, documented in ERROR_ROWS.values()}, f"{reason} missing from the error table"


@pytest.mark.parametrize("reason", sorted(PROTOCOL_REASONS))
def test_the_server_decides_each_protocol_reason_as_the_protocol_says(reason: str) -> None:
    from sync.decide import OUTCOMES

    outcome = PROTOCOL_REASONS[reason]
    assert OUTCOMES[reason] == (outcome.split()[0], raises_conflict(reason))


@pytest.mark.parametrize("reason", sorted(PROTOCOL_REASONS))
def test_protocol_reason_is_in_plain_words_on_the_supervisor_pages_and_in_the_readme(reason: str) -> None:
    from server.supervisor.words import REASON_WORDS

    assert PLAIN_WORDS.get(reason) == REASON_WORDS[reason]
