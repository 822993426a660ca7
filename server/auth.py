"""Users, passwords and bearer tokens.

Passwords: scrypt (stdlib). Tokens: 256 random bits, given to the client once and stored only as a
SHA-256 hash; valid for `token_ttl_hours` (7 days by default: a shift offline and then some) until
revoked. A token issued with a device id binds that device to the user.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy import bindparam, select, update

from server.db import Database
from server.errors import AlreadyExists, BadCredentials, Invalid
from server.models import ApiToken, Device, Role, User

SCRYPT_LOG2_N = 14  # scrypt's cost: N = 2**14, r = 8, p = 1 (about 16 MB and 50-100 ms per hash)


def hash_password(password: str, log2_n: int = SCRYPT_LOG2_N) -> str:
    """`scrypt$<log2 N>$<salt>$<digest>`: the cost is stored with the hash, so raising it later leaves
    existing passwords verifiable."""
    salt = secrets.token_bytes(16)
    return f"scrypt${log2_n}${salt.hex()}${_scrypt(password, salt, log2_n).hex()}"


def verify_password(password: str, stored: str) -> bool:
    parts = stored.split("$")
    if len(parts) == 3:  # the first format, before the cost was stored: always 2**14
        parts.insert(1, str(SCRYPT_LOG2_N))
    try:
        _, log2_n, salt, digest = parts
        candidate = _scrypt(password, bytes.fromhex(salt), int(log2_n))
    except ValueError:
        return False
    return hmac.compare_digest(candidate.hex(), digest)


def _scrypt(password: str, salt: bytes, log2_n: int) -> bytes:
    if not 1 <= log2_n <= 20:
        raise ValueError("scrypt cost out of range")
    return hashlib.scrypt(password.encode(), salt=salt, n=2**log2_n, r=8, p=1, dklen=32, maxmem=2**26)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the user behind a valid token, and the device the token is bound to."""

    user_id: UUID
    username: str
    role: Role
    device_id: UUID | None
    token_id: UUID


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    user: User
    device_id: UUID | None
    expires_at: datetime


RESOLVE = (
    select(ApiToken.id, ApiToken.device_id, ApiToken.expires_at, ApiToken.revoked_at, User.id, User.username, User.role,
           User.active)
    .join(User, User.id == ApiToken.user_id)
    .where(ApiToken.token_hash == bindparam("digest"))
)


class AuthService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add_user(self, username: str, role: str, password: str) -> User:
        if role not in Role.__members__:
            raise Invalid(f"role must be one of {', '.join(Role)}", field="role")
        if len(password) < 8:
            raise Invalid("password must have at least 8 characters", field="password")
        async with self.db.write() as session:
            if await session.scalar(select(User.id).where(User.username == username)):
                raise AlreadyExists(f"User {username} already exists", field="username")
            user = User(username=username, role=role, password_hash=hash_password(password, self.db.settings.scrypt_log2_n), active=True)
            session.add(user)
        return user

    async def issue(
        self, username: str, password: str, device_id: UUID | None = None, device_name: str | None = None
    ) -> IssuedToken:
        token = secrets.token_urlsafe(32)
        expires = datetime.now(UTC) + timedelta(hours=self.db.settings.token_ttl_hours)
        async with self.db.write() as session:
            user = (await session.execute(select(User).where(User.username == username))).scalar_one_or_none()
            # Verify even for unknown users so that timing does not reveal which usernames exist.
            ok = verify_password(password, user.password_hash if user else hash_password("x" * 12, self.db.settings.scrypt_log2_n))
            if user is None or not ok or not user.active:
                raise BadCredentials("Wrong username or password")
            if device_id is not None:
                device = await session.get(Device, device_id)
                if device is None:
                    session.add(Device(id=device_id, user_id=user.id, name=device_name))
                else:  # a shared phone: the latest sign-in binds it
                    device.user_id = user.id
                    device.name = device_name or device.name
                await session.flush()
            session.add(ApiToken(token_hash=token_digest(token), user_id=user.id, device_id=device_id, expires_at=expires))
        return IssuedToken(token, user, device_id, expires)

    async def resolve(self, token: str) -> Principal | None:
        async with self.db.read(quick=True) as session:  # one indexed lookup, on every request: no ORM objects
            row = (await (await session.connection()).execute(RESOLVE, {"digest": token_digest(token)})).one_or_none()
        if row is None:
            return None
        token_id, device_id, expires_at, revoked_at, user_id, username, role, active = row
        if revoked_at is not None or expires_at <= datetime.now(UTC) or not active:
            return None
        return Principal(user_id, username, Role(role), device_id, token_id)

    async def revoke(self, *, token_id: UUID | None = None, username: str | None = None) -> int:
        """Revoke one token, or every token of a user. Returns how many were revoked."""
        stmt = update(ApiToken).where(ApiToken.revoked_at.is_(None)).values(revoked_at=datetime.now(UTC))
        if token_id is not None:
            stmt = stmt.where(ApiToken.id == token_id)
        if username is not None:
            stmt = stmt.where(ApiToken.user_id.in_(select(User.id).where(User.username == username)))
        async with self.db.write() as session:
            return (await session.execute(stmt)).rowcount

    async def list_users(self) -> list[User]:
        async with self.db.read() as session:
            return list((await session.execute(select(User).order_by(User.username))).scalars())
