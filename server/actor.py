"""Who does something: a user by name and role, and the device the token is bound to (if any). Every
service that writes takes one; server/api/security.py makes it from a signed-in principal."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from server.models import Role
from server.rules.stock import at_least


@dataclass(frozen=True, slots=True)
class Actor:
    username: str
    role: Role
    device_id: UUID | None = None

    def at_least(self, role: Role) -> bool:
        return at_least(self.role, role)
