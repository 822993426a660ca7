"""The sync protocol's wire shapes (../shared/spec/sync-protocol.md), declared once as msgspec Structs.

Requests are decoded in two steps: first only `protocol`, so that a phone speaking another version gets
409 protocol-not-supported whatever the rest of its body looks like; then the whole body. An op's
`args` stay raw here: each op is validated on its own, and a bad one is a per-op `invalid` result.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar
from uuid import UUID

import msgspec
from msgspec import Meta

from server.errors import Invalid
from server.ops.args import invalid_from
from server.rules.dependencies import MAX_DEPENDS_ON
from sync.errors import ProtocolNotSupported

PROTOCOL = 1
SUPPORTED = (PROTOCOL,)
MAX_OPS = 1000
MAX_LIMIT = 10_000

Short = Annotated[str, Meta(max_length=64)]
Age = Annotated[float, Meta(ge=0, le=10**10)]  # seconds
Note = Annotated[str, Meta(min_length=1, max_length=2000)]


class Wire(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Base of the protocol's Structs: compact (unset optional members are left out). Unknown request
    fields are ignored: later clients may send more."""


class View(msgspec.Struct, kw_only=True):
    """Base of what supervisors' screens get: every member present, null when unset."""


# ---- push ---------------------------------------------------------------------------------------
class Op(Wire, kw_only=True):
    op_id: UUID
    seq: Annotated[int, Meta(ge=1, le=2**62)]
    type: Annotated[str, Meta(min_length=1, max_length=32)]
    args: Any = None
    client_time: Short | None = None
    actor: Short | None = None
    depends_on: Annotated[list[UUID], Meta(max_length=MAX_DEPENDS_ON)] = msgspec.field(default_factory=list)


class PushIn(Wire, kw_only=True):
    protocol: int
    device_id: UUID
    ops: Annotated[list[Op], Meta(max_length=MAX_OPS)]
    oldest_unsynced_age: Age | None = None  # optional: the device's oldest waiting op, for metrics (docs/sync.md)


class OpResult(Wire, kw_only=True):
    op_id: UUID
    seq: int
    status: str  # applied, rejected, held, duplicate
    original_status: str | None = None  # on duplicates: the outcome of the first time
    reason: str | None = None
    message: str | None = None
    field: str | None = None
    details: dict[str, Any] | None = None  # what the op ran into, e.g. actual_location, last_action, last_by
    conflict_id: UUID | None = None
    result: dict[str, Any] | None = None


class Stopped(Wire, kw_only=True):
    reason: Literal["seq_gap", "retry_later"]
    expected_seq: int | None = None


class PushOut(msgspec.Struct, kw_only=True):
    last_seq: int
    results: list[OpResult]
    stopped: Stopped | None = None


# ---- pull ---------------------------------------------------------------------------------------
class PullIn(Wire, kw_only=True):
    protocol: int
    device_id: UUID
    cursor: Annotated[str, Meta(max_length=64)] | None = None
    limit: Annotated[int, Meta(ge=1, le=MAX_LIMIT)] = 1000
    oldest_unsynced_age: Age | None = None  # as on a push


class Change(Wire, kw_only=True):
    entity: str  # part, location, inventory
    id: UUID
    version: int
    op: Literal["put", "del"]
    data: dict[str, Any] | None = None


class OpStatus(Wire, kw_only=True):
    """What became of one of the device's held or rejected ops."""

    op_id: UUID
    seq: int
    status: str  # applied, rejected, held
    reason: str | None = None
    message: str | None = None
    conflict_id: UUID | None = None
    result: dict[str, Any] | None = None
    resolved_by: str | None = None
    note: str | None = None
    applied_as: UUID | None = None  # a rejected op a supervisor applied with corrected args


class PullOut(msgspec.Struct, kw_only=True):
    cursor: str
    has_more: bool
    reset: bool
    changes: list[Change]
    op_results: list[OpStatus]
    last_seq: int


# ---- conflicts ----------------------------------------------------------------------------------
class ApproveIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    note: Note | None = None
    args: dict[str, Any] | None = None


class RejectIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    note: Note


class SentOp(View, kw_only=True):
    """An op as the device sent it."""

    op_id: UUID
    seq: int | None
    type: str
    args: Any
    actor: str
    client_time: str | None = None
    depends_on: list[str] = msgspec.field(default_factory=list)


class HeldOp(View, kw_only=True):
    op: SentOp
    device_id: UUID
    reason: str | None
    message: str | None


class Resolution(View, kw_only=True):
    id: UUID
    conflict_id: UUID
    op_id: UUID
    action: str
    actor: str
    at: datetime
    note: str | None = None
    args: dict[str, Any] | None = None
    outcome: str
    applied_op_id: UUID | None = None
    result: dict[str, Any] | None = None
    dependants: list[dict[str, Any]] = msgspec.field(default_factory=list)


class ConflictOut(View, kw_only=True):
    id: UUID
    status: str  # open, approved, rejected
    kind: str  # the op's outcome: held or rejected
    reason: str
    message: str
    field: str | None = None
    details: dict[str, Any] = msgspec.field(default_factory=dict)
    created_at: datetime
    op: SentOp
    device: dict[str, Any] | None = None
    actor: str  # the op's actor, as sent
    pushed_by: str | None = None  # the signed-in user whose token pushed it
    state: dict[str, Any] = msgspec.field(default_factory=dict)  # the server's current state of what it touches
    held_behind: list[HeldOp] = msgspec.field(default_factory=list)
    resolution: Resolution | None = None


class ConflictsPage(msgspec.Struct, kw_only=True):
    items: list[ConflictOut]
    total: int
    limit: int
    offset: int


class ResolutionsPage(msgspec.Struct, kw_only=True):
    items: list[Resolution]
    total: int
    limit: int
    offset: int


# ---- decoding -----------------------------------------------------------------------------------
class _Version(msgspec.Struct):
    protocol: Any = None


T = TypeVar("T")


def decode(raw: bytes, shape: type[T]) -> T:
    """Check the protocol version first (409, nothing consumed), then decode the body (422 naming the field)."""
    try:
        version = msgspec.json.decode(raw, type=_Version)
    except (msgspec.ValidationError, msgspec.DecodeError) as error:
        raise Invalid(f"the body must be a JSON object: {error}", field="body") from None
    if version.protocol not in SUPPORTED:
        raise ProtocolNotSupported(
            f"This server speaks sync protocol {', '.join(map(str, SUPPORTED))}, not {version.protocol!r}: "
            "keep the queue and update the app",
            field="protocol",
            supported=list(SUPPORTED),
        )
    try:
        return msgspec.json.decode(raw, type=shape)
    except msgspec.ValidationError as error:
        invalid = invalid_from(error, prefix="body")
        invalid.field = (invalid.field or "").removeprefix("body.") or None
        invalid.message = invalid.message.removeprefix("body.")
        raise invalid from None
