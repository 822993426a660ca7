"""Domain errors. Services raise these; one place (server/api/problems.py) turns them into RFC 9457
problem details. Each op-level error carries the sync protocol's reason code.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base: `reason` is the protocol's reason code, `slug` names the problem type."""

    reason: str = "invalid"
    slug: str = "invalid"
    status_code: int = 422
    title: str = "Invalid request"

    def __init__(self, message: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra


class Invalid(DomainError):
    """The arguments fail validation; `field` says which one."""


class UnknownOpType(DomainError):
    reason = slug = "unknown_op_type"
    title = "Unknown operation type"


class TrackingMismatch(DomainError):
    reason = slug = "tracking_mismatch"
    title = "Arguments do not fit the part's tracking type"


class NotFound(DomainError):
    reason = "unknown_reference"
    slug = "unknown_reference"
    status_code = 404
    title = "Unknown reference"


class Conflict(DomainError):
    """The request is well formed but conflicts with the current state."""

    reason = slug = "conflict"
    status_code = 409
    title = "Conflict with current state"


class DuplicateSerial(Conflict):
    reason = slug = "duplicate_serial"
    title = "Serial already exists"


class TrackingChanged(Conflict):
    reason = slug = "tracking_changed"
    title = "The part's tracking type changed"


class InsufficientQuantity(Conflict):
    reason = slug = "insufficient_quantity"
    title = "Not enough stock there"


class LocationLocked(Conflict):
    reason = slug = "location_locked"
    title = "Location closed for a cycle count"


class StaleLocation(Conflict):
    reason = slug = "stale_location"
    title = "The unit is not where the operation says"


class AlreadyInstalled(Conflict):
    reason = slug = "already_installed"
    title = "Unit already installed"


class CountNotOpen(Conflict):
    """A count line or decision for a count that is not open for counting (planned, or closed)."""

    reason = slug = "count_not_open"
    title = "The count is not open"


class CountIncomplete(Conflict):
    """Closing a count while expected lines are not counted, without the supervisor's `not_counted` decision."""

    reason = slug = "count_incomplete"
    title = "Expected lines are not counted"


class PoNotOpen(Conflict):
    """A purchase order that is a draft, cancelled or received, or a line of it that is not open (closed short,
    received, cancelled), asked to do what only an open one does."""

    reason = slug = "po_not_open"
    title = "The purchase order or line is not open"


class OverReceipt(Conflict):
    """A receipt against a PO line of more than the line still expects (`remaining`, `ordered`, `received`)."""

    reason = slug = "over_receipt"
    title = "More than the purchase order line still expects"


class SerialNotOnLine(Conflict):
    """A receipt against a PO line that lists its serials, of a serial it does not list (`serials`: those
    still expected)."""

    reason = slug = "serial_not_on_line"
    title = "The serial is not one the purchase order line lists"


class AlreadyKitted(Conflict):
    """A pick of stock that is in an open kit already (`kit`: that kit's number)."""

    reason = slug = "already_kitted"
    title = "Already in an open kit"


class KitNotOpen(Conflict):
    """A pick into a kit, or a change of one, that is completed or cancelled."""

    reason = slug = "kit_not_open"
    title = "The kit is not open"


class NotOnKit(Conflict):
    """A pick of a part the kit has no line for, or of more than its line still needs (`remaining`)."""

    reason = slug = "not_on_kit"
    title = "Not on the kit, or more than its line still needs"


class IssueNotOpen(Conflict):
    """Closing a quality issue that is closed already."""

    reason = slug = "issue_not_open"
    title = "The issue is not open"
class NotOnBom(Conflict):
    """An install (or an issue to a run) of a component the assembly's BOM does not list, or beyond its quantity
    (`bom_quantity`, `already`): a supervisor may accept it as a deviation, which is recorded."""

    reason = slug = "not_on_bom"
    title = "Not on the assembly's build requirements (BOM)"


class RunNotOpen(Conflict):
    """An issue to, or a completion of, a production run that is not open (`state`: planned, completed, failed,
    cancelled), or a run moved on from a state it is not in."""

    reason = slug = "run_not_open"
    title = "The production run is not open"


class OpIdReused(Conflict):
    reason = slug = "op_id_reused"
    title = "Operation id reused with a different body"


class TrackingSwitchBlocked(Conflict):
    reason = slug = "tracking_switch_blocked"
    title = "Tracking type switch refused"


class AlreadyExists(Conflict):
    reason = slug = "already_exists"
    title = "Already exists"


class BadCredentials(DomainError):
    reason = slug = "bad_credentials"
    status_code = 401
    title = "Wrong username or password"


class TooManyAttempts(DomainError):
    """Sign-in throttled after failed attempts: `retry_after` seconds (also the Retry-After header)."""

    reason = slug = "too_many_attempts"
    status_code = 429
    title = "Too many failed sign-ins"


class DeviceSecretMismatch(DomainError):
    """A sign-in with a known device id without that device's secret: never a rebind."""

    reason = slug = "device_secret_mismatch"
    status_code = 403
    title = "Not this device's secret"


class Forbidden(DomainError):
    reason = slug = "forbidden"
    status_code = 403
    title = "Not allowed for your role"


class RetryLater(DomainError):
    """A transient database problem (unavailable, lock timeout): nothing was changed, try again."""

    reason = slug = "retry_later"
    status_code = 503
    title = "Temporarily unavailable, retry later"


class NotReady(DomainError):
    """GET /readyz: this process cannot serve yet; `check` says why (`database`: it does not answer;
    `migrations`: its schema is not at the code's migration head)."""

    reason = slug = "not_ready"
    status_code = 503
    title = "Not ready to serve"


class ImageTooLarge(DomainError):
    """An image for the decoder above the byte or pixel limit (GEMBA_MAX_IMAGE_BYTES/_PIXELS)."""

    reason = slug = "image_too_large"
    status_code = 413
    title = "Image too large"


class UnsupportedImage(DomainError):
    """Not a JPEG, PNG or WebP image (judged by its bytes, not by its Content-Type)."""

    reason = slug = "unsupported_image"
    status_code = 415
    title = "Unsupported image format"


class UnreadableImage(DomainError):
    """A JPEG, PNG or WebP file that cannot be decoded: truncated, corrupt or empty."""

    reason = slug = "unreadable_image"
    title = "Image cannot be decoded"


class DecoderBusy(DomainError):
    """Every decode slot of this server process stayed taken while the photo waited (GEMBA_DECODE_CONCURRENCY)."""

    reason = slug = "decoder_busy"
    status_code = 503
    title = "The decoder is busy, send the photo again shortly"


# Every error an op can end with (POST /api/ops answers each as a problem, a push as the op's result).
OP_ERRORS: tuple[type[DomainError], ...] = (
    Invalid,
    UnknownOpType,
    TrackingMismatch,
    NotFound,
    DuplicateSerial,
    TrackingChanged,
    InsufficientQuantity,
    LocationLocked,
    StaleLocation,
    AlreadyInstalled,
    CountNotOpen,
    PoNotOpen,
    OverReceipt,
    SerialNotOnLine,
    AlreadyKitted,
    KitNotOpen,
    NotOnKit,
    NotOnBom,
    RunNotOpen,
    OpIdReused,
    Forbidden,
)
# Every op reason the server can answer with; docs/api.md and docs/sync.md document each (a test checks).
OP_REASONS: dict[str, str] = {cls.reason: cls.title for cls in OP_ERRORS}
