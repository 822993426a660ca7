"""Sync's tables, on the same advanced-alchemy metadata as server/models.py.

Every pushed op also has its `server.models.OpRecord` (`ops`): the exactly-once key, holding the op's
current outcome (status, reason, message, result). The tables here hold what only sync needs:

- `sync_ops`: per pushed op, the device and seq, `depends_on`, who pushed it, the answer given the first
  time (replays are answered from it), the conflict it belongs to or waits behind, how a supervisor
  resolved it, and `version` — the change clock value of its last change of state, so that a pull tells
  the device what became of its held and rejected ops since the device's cursor.
- `sync_conflicts`: an op a supervisor must look at (held, or rejected with a conflict).
- `sync_resolutions`: the append-only log of supervisors' decisions — who, when, what, why.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.base import UUIDv7AuditBase
from advanced_alchemy.types import DateTimeUTC, JsonB
from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column


class SyncConflict(UUIDv7AuditBase):
    __tablename__ = "sync_conflicts"
    __table_args__ = (Index("ix_sync_conflicts_status_created_at", "status", "created_at"),)

    op_id: Mapped[UUID] = mapped_column(ForeignKey("ops.op_id"), index=True)
    device_id: Mapped[UUID | None] = mapped_column(ForeignKey("devices.id"))
    kind: Mapped[str] = mapped_column(String(16))  # the op's outcome: held or rejected
    reason: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    field: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, approved, rejected
    resolved_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class SyncOp(UUIDv7AuditBase):
    __tablename__ = "sync_ops"
    __table_args__ = (
        UniqueConstraint("device_id", "seq", name="uq_sync_ops_device_seq"),
        Index("ix_sync_ops_device_id_version", "device_id", "version"),
    )

    op_id: Mapped[UUID] = mapped_column(ForeignKey("ops.op_id"), unique=True)
    device_id: Mapped[UUID] = mapped_column(ForeignKey("devices.id"))
    seq: Mapped[int] = mapped_column(BigInteger)
    depends_on: Mapped[list[str]] = mapped_column(JsonB, default=list)
    pushed_by: Mapped[str] = mapped_column(String(64))  # the token's user: whose permissions apply
    pushed_role: Mapped[str] = mapped_column(String(16))
    answer: Mapped[dict[str, Any]] = mapped_column(JsonB)  # the result given the first time
    conflict_id: Mapped[UUID | None] = mapped_column(ForeignKey("sync_conflicts.id"), index=True)
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    applied_as: Mapped[UUID | None] = mapped_column()  # a rejected op corrected by a supervisor: the new op
    pushed_version: Mapped[int] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(BigInteger)


class SyncResolution(UUIDv7AuditBase):
    """One supervisor decision on a conflict; `created_at` is when."""

    __tablename__ = "sync_resolutions"

    conflict_id: Mapped[UUID] = mapped_column(ForeignKey("sync_conflicts.id"), index=True)
    op_id: Mapped[UUID] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(16))  # approve, reject
    actor: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    args: Mapped[dict[str, Any] | None] = mapped_column(JsonB)  # corrected args, when given
    outcome: Mapped[str] = mapped_column(String(16))  # what became of the op: applied, rejected
    applied_op_id: Mapped[UUID | None] = mapped_column()  # the op that was applied (original or new)
    result: Mapped[dict[str, Any] | None] = mapped_column(JsonB)
    dependants: Mapped[list[dict[str, Any]]] = mapped_column(JsonB, default=list)
