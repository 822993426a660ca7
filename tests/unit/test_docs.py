"""Every problem type and op reason the server can answer with is documented in the README."""

import re
from pathlib import Path

import pytest

import server.app  # noqa: F401 - imports every module that defines problems
from server.api.problems import all_problems, type_uri
from server.errors import OP_REASONS

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
ERROR_ROWS = {
    match.group(1): (int(match.group(2)), match.group(3))
    for match in re.finditer(r"^\| `(/problems/[a-z-]+)` \| (\d{3}) \| `([a-z_]+)` \|", README, re.MULTILINE)
}


@pytest.mark.parametrize("slug", sorted(all_problems()))
def test_problem_type_is_documented_with_its_status(slug: str) -> None:
    _title, status = all_problems()[slug]
    assert type_uri(slug) in ERROR_ROWS, f"{type_uri(slug)} missing from the README's error table"
    assert ERROR_ROWS[type_uri(slug)][0] == status


@pytest.mark.parametrize("reason", sorted(OP_REASONS))
def test_op_reason_is_documented(reason: str) -> None:
    assert reason in {documented for _, documented in ERROR_ROWS.values()}


def test_no_documented_problem_that_the_server_does_not_have() -> None:
    assert set(ERROR_ROWS) == {type_uri(slug) for slug in all_problems()}
