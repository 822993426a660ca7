"""Request and response bodies of the HTTP API, as msgspec Structs (one validation scheme)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

from server.models import LocationKind, Role, Tracking
from server.ops.args import Amount, Code, Quantity
from server.rules.dependencies import MAX_DEPENDS_ON

Name = Annotated[str, Meta(min_length=1, max_length=128)]
Username = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")]
Password = Annotated[str, Meta(min_length=1, max_length=256)]
Pattern = Annotated[str, Meta(min_length=1, max_length=64)]
Short = Annotated[str, Meta(max_length=32)]
# Codes as wide as their columns (server/models.py), so a long one is a 422, not a database error.
Code64 = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^\S(?:.*\S)?$")]


class Body(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class Out(msgspec.Struct, kw_only=True):
    pass


# ---- auth and users ---------------------------------------------------------------------------
# At least 128 random bits (22 base64url characters), made by the phone at its first sign-in.
DeviceSecret = Annotated[str, Meta(
    min_length=22, max_length=128, pattern=r"^[A-Za-z0-9_-]+$",
    description="the device's own secret, sent with every sign-in with its device_id (base64url or hex)",
)]


class TokenIn(Body, kw_only=True):
    username: Annotated[str, Meta(min_length=1, max_length=64)]
    password: Password
    device_id: UUID | None = None
    device_name: Name | None = None
    device_secret: DeviceSecret | None = None


class UserOut(Out, kw_only=True):
    id: UUID
    username: str
    role: Role


class TokenOut(Out, kw_only=True):
    access_token: str
    token_type: str = "bearer"
    user: UserOut
    device_id: UUID | None = None
    expires_at: datetime


class UserIn(Body, kw_only=True):
    username: Username
    role: Role
    password: Annotated[str, Meta(min_length=8, max_length=256)]


# ---- parts, locations, suppliers --------------------------------------------------------------
Places = Annotated[int, Meta(ge=0, le=6, description="decimal places of its quantities; none: its unit's")]


class Pack(Body, kw_only=True):
    """A pack the part is bought in: `box` of 100 (its unit)."""

    name: Annotated[str, Meta(min_length=1, max_length=32)]
    quantity: Quantity


class PartIn(Body, kw_only=True):
    part_number: Code64
    tracking: Tracking
    description: Annotated[str, Meta(max_length=2000)] = ""
    revision: Short = ""
    unit: Annotated[str, Meta(min_length=1, max_length=16)] = "ea"
    quantity_places: Places | None = None
    packs: list[Pack] | None = None
    serial_pattern: Pattern | None = None
    lot_pattern: Pattern | None = None


class PartPatch(Body, kw_only=True):
    tracking: Tracking | UnsetType = UNSET
    description: Annotated[str, Meta(max_length=2000)] | UnsetType = UNSET
    revision: Short | UnsetType = UNSET
    unit: Annotated[str, Meta(min_length=1, max_length=16)] | UnsetType = UNSET
    quantity_places: Places | None | UnsetType = UNSET
    packs: list[Pack] | None | UnsetType = UNSET
    serial_pattern: Pattern | None | UnsetType = UNSET
    lot_pattern: Pattern | None | UnsetType = UNSET


class PartOut(Out, kw_only=True):
    id: UUID
    part_number: str
    tracking: Tracking
    description: str
    revision: str
    unit: str
    places: int  # the decimal places its quantities may have (its own `quantity_places`, else its unit's)
    quantity_places: int | None
    packs: list[dict[str, Any]]  # [{name, quantity}]
    serial_pattern: str | None
    lot_pattern: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class PartsPage(Out, kw_only=True):
    items: list[PartOut]
    total: int
    limit: int
    offset: int


class LocationIn(Body, kw_only=True):
    code: Code
    name: Annotated[str, Meta(max_length=128)] = ""
    parent: Code | None = None
    kind: LocationKind = LocationKind.normal
    available: bool = True


class LocationPatch(Body, kw_only=True):
    name: Annotated[str, Meta(max_length=128)] | UnsetType = UNSET
    parent: Code | None | UnsetType = UNSET
    kind: LocationKind | UnsetType = UNSET
    available: bool | UnsetType = UNSET
    count_locked: bool | UnsetType = UNSET


class LocationOut(Out, kw_only=True):
    id: UUID
    code: str
    name: str
    parent: str | None
    kind: LocationKind
    available: bool
    count_locked: bool
    version: int


class SupplierIn(Body, kw_only=True):
    name: Name
    code: Code64 | None = None


class SupplierOut(Out, kw_only=True):
    id: UUID
    name: str
    code: str | None


# ---- operations ---------------------------------------------------------------------------------
class OpIn(Body, kw_only=True):
    """The protocol's op body without `seq`; applied now."""

    op_id: UUID
    type: Annotated[str, Meta(min_length=1, max_length=32)]
    args: dict[str, Any]
    client_time: Annotated[str, Meta(max_length=64)] | None = None
    actor: Annotated[str, Meta(max_length=64)] | None = None
    depends_on: Annotated[list[UUID], Meta(max_length=MAX_DEPENDS_ON)] = msgspec.field(default_factory=list)


class OpOut(Out, kw_only=True):
    op_id: UUID
    status: str
    result: dict[str, Any]
    replayed: bool = False


# ---- inventory and history ----------------------------------------------------------------------
class InventoryItem(Out, kw_only=True):
    id: UUID
    part: str
    unit: str
    tracking: Tracking
    serial: str | None
    lot: str | None
    location: str
    quantity: Amount
    status: str
    installed_in: str | None
    supplier: str | None
    unit_cost: Decimal | None  # a decimal string on the wire: "0.12", "48.00"
    isolated: bool
    isolation_reason: str | None
    package_ref: str | None
    po_line: str | None
    expiry: date | None  # the lot's (or unit's) expiry date: Unavailable from that day on
    updated_at: datetime
    version: int


class InventoryPage(Out, kw_only=True):
    items: list[InventoryItem]
    total: int
    limit: int
    offset: int


class FieldChange(Out, kw_only=True):
    field: str
    from_: Any = msgspec.field(name="from")
    to: Any


class MovementOut(Out, kw_only=True):
    """A line of the activity log: a movement of stock, or a master-data change (`op_type` part_create,
    part_update, location_create or location_update; `action` Create or Edit; quantity 0; `changes` each
    field from → to; `location` the location changed — `part` is null then)."""

    id: UUID
    at: datetime
    op_id: UUID
    op_type: str
    action: str
    actor: str
    device_id: UUID | None
    reason: str | None
    part: str | None  # null only on a location's master-data change
    serial: str | None
    lot: str | None
    quantity: Amount
    from_location: str | None
    to_location: str | None
    parent_serial: str | None
    changes: list[FieldChange] | None = None
    location: str | None = None


class ActivityPage(Out, kw_only=True):
    items: list[MovementOut]
    total: int
    limit: int
    offset: int


class Bucket(StrEnum):
    """The ledger's buckets (purchasing-and-costs.md, "The transactions ledger and balances")."""

    on_hand = "on_hand"
    on_order = "on_order"
    demand = "demand"


class TransactionOut(Out, kw_only=True):
    """A signed ledger entry, with the op that wrote it (`op_type` null for an op the server holds no
    record of)."""

    id: UUID
    at: datetime
    bucket: Bucket
    part: str
    location: str
    lot: str | None
    delta: Amount
    reason: str | None
    op_id: UUID
    op_type: str | None


class TransactionPage(Out, kw_only=True):
    items: list[TransactionOut]
    total: int
    limit: int
    offset: int


class BalanceOut(Out, kw_only=True):
    part: str
    location: str
    lot: str | None
    bucket: Bucket
    quantity: Amount


class BalancePage(Out, kw_only=True):
    items: list[BalanceOut]
    total: int
    limit: int
    offset: int


class Assembly(Out, kw_only=True):
    parent_serial: str
    installed_at: datetime
    removed_at: datetime | None


class IssueBrief(Out, kw_only=True):
    """A quality issue on a unit or a lot (server/quality), as its history lists it."""

    number: str
    title: str
    status: str
    disposition: str | None
    opened_by: str
    opened_at: datetime
    closed_at: datetime | None


class RunTouch(Out, kw_only=True):
    """A production run that touched the unit or lot (docs/production.md): issued to it, produced by it,
    consumed into what it built (`into`), or returned when it closed."""

    run: str
    state: str
    kind: str
    part: str
    serial: str | None
    lot: str | None
    quantity: Amount
    into: str | None
    at: datetime


class UnitHistory(Out, kw_only=True):
    unit: InventoryItem
    events: list[MovementOut]
    assemblies: list[Assembly]
    components: list[InventoryItem]
    issues: list[IssueBrief] = []
    runs: list[RunTouch] = []


class LotHistory(Out, kw_only=True):
    part: str
    lot: str
    rows: list[InventoryItem]
    events: list[MovementOut]
    issues: list[IssueBrief] = []
    runs: list[RunTouch] = []


def patch_values(patch: msgspec.Struct) -> dict[str, Any]:
    """The fields a PATCH actually sent."""
    return {name: value for name in patch.__struct_fields__ if (value := getattr(patch, name)) is not UNSET}
