"""Quality issues, as pure rules (docs/kits-and-issues.md): what an issue may name, and whether it can be
closed. An issue names a unit (`serial`), a lot (`part` + `lot`) or a row (`part` + `location`, and `lot` to
narrow it)."""

from __future__ import annotations

from server.errors import Invalid, IssueNotOpen

ISSUE_NUMBER = "ISSUE-{seq:04}"
OPEN, CLOSED = "open", "closed"
STATUSES = (OPEN, CLOSED)
RETURN_LOCATION = "SUPPLIER-RETURN"  # where returns to suppliers go (made on first use, unavailable)


def check_subject(serial: str | None, part: str | None, lot: str | None, location: str | None) -> None:
    """A unit alone, or a part with its lot and/or location."""
    if serial is not None:
        if part is not None or lot is not None or location is not None:
            named = "part" if part is not None else "lot" if lot is not None else "location"
            raise Invalid(f"{named}: an issue on a unit names its serial only", field=named)
        return
    if part is None:
        raise Invalid("serial: name a unit (serial), a lot (part and lot) or a row (part and location)", field="serial")
    if lot is None and location is None:
        raise Invalid("lot: an issue on a part names its lot, its location, or both", field="lot")


def check_open(number: str, status: str) -> None:
    if status != OPEN:
        raise IssueNotOpen(f"Issue {number} is {status}", field="number", issue_status=status)


def check_status_filter(status: str | None) -> str | None:
    if status is not None and status not in STATUSES:
        raise Invalid(f"status must be one of {', '.join(STATUSES)}, not {status!r}", field="status")
    return status


def isolation_reason(number: str, title: str) -> str:
    return f"issue {number}: {title}"
