"""Quality issues' pure rules: what an issue may name, and closing only an open one."""

from __future__ import annotations

import pytest

from server.errors import Invalid, IssueNotOpen
from server.rules import quality as rules


@pytest.mark.parametrize("named", [
    {"serial": "P-1"}, {"part": "RESIN", "lot": "R-7"}, {"part": "BOLT", "location": "LINE-1"},
    {"part": "RESIN", "lot": "R-7", "location": "LINE-1"},
])
def test_a_unit_a_lot_or_a_row(named: dict[str, str]) -> None:
    rules.check_subject(named.get("serial"), named.get("part"), named.get("lot"), named.get("location"))


@pytest.mark.parametrize(("named", "field"), [
    ({}, "serial"), ({"part": "BOLT"}, "lot"), ({"serial": "P-1", "part": "PUMP"}, "part"),
    ({"serial": "P-1", "lot": "R-7"}, "lot"), ({"serial": "P-1", "location": "A"}, "location"),
])
def test_anything_else_names_the_field(named: dict[str, str], field: str) -> None:
    with pytest.raises(Invalid) as refused:
        rules.check_subject(named.get("serial"), named.get("part"), named.get("lot"), named.get("location"))
    assert refused.value.field == field


def test_only_an_open_issue_closes() -> None:
    rules.check_open("ISSUE-0001", "open")
    with pytest.raises(IssueNotOpen):
        rules.check_open("ISSUE-0001", "closed")
    assert rules.check_status_filter(None) is None
    with pytest.raises(Invalid):
        rules.check_status_filter("pending")
    assert rules.isolation_reason("ISSUE-0001", "Cracked") == "issue ISSUE-0001: Cracked"
