"""Request and response bodies of the HTTP API, as msgspec Structs (one validation scheme)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

from server.models import LocationKind, Role, Tracking
from server.ops.args import Code

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
class TokenIn(Body, kw_only=True):
    username: Annotated[str, Meta(min_length=1, max_length=64)]
    password: Password
    device_id: UUID | None = None
    device_name: Name | None = None


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
class PartIn(Body, kw_only=True):
    part_number: Code64
    tracking: Tracking
    description: Annotated[str, Meta(max_length=2000)] = ""
    revision: Short = ""
    unit: Annotated[str, Meta(min_length=1, max_length=16)] = "ea"
    serial_pattern: Pattern | None = None
    lot_pattern: Pattern | None = None


class PartPatch(Body, kw_only=True):
    tracking: Tracking | UnsetType = UNSET
    description: Annotated[str, Meta(max_length=2000)] | UnsetType = UNSET
    revision: Short | UnsetType = UNSET
    unit: Annotated[str, Meta(min_length=1, max_length=16)] | UnsetType = UNSET
    serial_pattern: Pattern | None | UnsetType = UNSET
    lot_pattern: Pattern | None | UnsetType = UNSET


class PartOut(Out, kw_only=True):
    id: UUID
    part_number: str
    tracking: Tracking
    description: str
    revision: str
    unit: str
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
    depends_on: list[UUID] = msgspec.field(default_factory=list)


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
    quantity: int
    status: str
    installed_in: str | None
    supplier: str | None
    unit_cost: float | None
    isolated: bool
    isolation_reason: str | None
    package_ref: str | None
    po_line: str | None
    updated_at: datetime
    version: int


class InventoryPage(Out, kw_only=True):
    items: list[InventoryItem]
    total: int
    limit: int
    offset: int


class MovementOut(Out, kw_only=True):
    id: UUID
    at: datetime
    op_id: UUID
    op_type: str
    action: str
    actor: str
    device_id: UUID | None
    reason: str | None
    part: str
    serial: str | None
    lot: str | None
    quantity: int
    from_location: str | None
    to_location: str | None
    parent_serial: str | None


class ActivityPage(Out, kw_only=True):
    items: list[MovementOut]
    total: int
    limit: int
    offset: int


class Assembly(Out, kw_only=True):
    parent_serial: str
    installed_at: datetime
    removed_at: datetime | None


class UnitHistory(Out, kw_only=True):
    unit: InventoryItem
    events: list[MovementOut]
    assemblies: list[Assembly]
    components: list[InventoryItem]


class LotHistory(Out, kw_only=True):
    part: str
    lot: str
    rows: list[InventoryItem]
    events: list[MovementOut]


def patch_values(patch: msgspec.Struct) -> dict[str, Any]:
    """The fields a PATCH actually sent."""
    return {name: value for name in patch.__struct_fields__ if (value := getattr(patch, name)) is not UNSET}
