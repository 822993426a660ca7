"""Sync's own domain errors. Like server/errors.py they carry a protocol reason code, and the one error
mapping in server/api/problems.py turns them into problem details (each `type` is in docs/api.md).

`DependencyRejected` and `DependencyHeld` are per-op outcomes of a push (never HTTP responses of their
own); they are errors so that the decision table in sync/decide.py treats every reason alike.
"""

from __future__ import annotations

from server.errors import Conflict, DomainError


class ProtocolNotSupported(DomainError):
    """The request speaks a protocol version this server does not; nothing was consumed."""

    reason = slug = "protocol_not_supported"
    status_code = 409
    title = "Sync protocol version not supported"


class DependencyRejected(Conflict):
    reason = slug = "dependency_rejected"
    title = "An operation this one depends on was rejected"


class DependencyHeld(Conflict):
    reason = slug = "dependency_held"
    title = "An operation this one depends on is held for a supervisor"


# Reasons a push can answer with beyond server.errors.OP_REASONS, and the batch stop reasons.
SYNC_REASONS = {cls.reason: cls.title for cls in (DependencyRejected, DependencyHeld)}
STOP_REASONS = ("seq_gap", "retry_later")
