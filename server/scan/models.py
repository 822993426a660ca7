"""Tables of the scan pipeline (same registry as server/models.py)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from advanced_alchemy.base import UUIDv7AuditBase
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column


class ScanMiss(UUIDv7AuditBase):
    """A code that was scanned and matched nothing in the inventory, once per distinct code: how often,
    and who scanned it last, from which device, when. `created_at` is the first time."""

    __tablename__ = "scan_misses"

    code_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the code: any length, indexable
    code: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))  # what the code looked like: unknown, supplier_label, gtin, unit…
    count: Mapped[int] = mapped_column(BigInteger, default=1)
    last_user: Mapped[str] = mapped_column(String(64))
    last_device_id: Mapped[UUID | None] = mapped_column()
    last_seen_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)
