"""Users, passwords, tokens and devices.

Passwords: scrypt (stdlib), hashed in a worker thread with no database transaction open, so that a sign-in
holds neither the event loop nor a writer's turn; an unknown username is checked against a dummy hash of
the same cost (one scrypt, as for a known user). Failed sign-ins are throttled (server/throttle.py).
Tokens: 256 random bits, given to the client once and stored only as a SHA-256 hash; valid for
`token_ttl_hours` (7 days by default: a shift offline and then some) until revoked; of a kind — `api`
(bearer tokens) or `page` (the supervisor pages' cookie) — each valid only where it belongs.
A token issued with a device id binds that device to the user, if the sign-in holds the device's secret
(`check_device`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.db import Database, dialect_insert
from server.errors import AlreadyExists, BadCredentials, DeviceSecretMismatch, Invalid
from server.models import ApiToken, Device, Role, TokenKind, User
from server.throttle import SignInThrottle

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
    .where(ApiToken.token_hash == bindparam("digest"), ApiToken.kind == bindparam("kind"))
)


DEVICE_USERS = (
    select(User.username, User.role).join(ApiToken, ApiToken.user_id == User.id)
    .where(ApiToken.device_id == bindparam("device_id")).distinct()
)


async def device_users(connection: AsyncConnection, device_id: UUID) -> dict[str, Role]:
    """Everyone who signed in on a device (a token bound to it, valid or not): whose ops its queue may hold."""
    return {name: Role(role) for name, role in await connection.execute(DEVICE_USERS, {"device_id": device_id})}


def check_device(device: Device, user_id: UUID, secret_digest: str | None) -> None:
    """May this sign-in bind `device`? With a secret on record: only with that secret — a shared phone's next
    operator holds it, another phone does not. Without one (registered before device secrets, or by a
    client that sends none): only the user it is bound to, who then secures it with the secret sent."""
    if device.secret_hash is not None:
        if secret_digest is None or not hmac.compare_digest(device.secret_hash, secret_digest):
            raise DeviceSecretMismatch(
                "This device id is registered with a secret this sign-in does not hold", field="device_secret"
            )
    elif device.user_id != user_id:
        raise DeviceSecretMismatch(
            "This device id was registered without a secret by another user: only that user can sign in with it",
            field="device_secret",
        )


class AuthService:
    def __init__(self, db: Database) -> None:
        self.db = db
        settings = db.settings
        self.throttle = SignInThrottle(settings.signin_free_attempts, settings.signin_max_delay)
        # What an unknown username's password is checked against: one scrypt of the configured cost, like a
        # known user's; its digest matches no password.
        self.nobody = f"scrypt${settings.scrypt_log2_n}${secrets.token_hex(16)}${'0' * 64}"

    async def add_user(self, username: str, role: str, password: str) -> User:
        if role not in Role.__members__:
            raise Invalid(f"role must be one of {', '.join(Role)}", field="role")
        if len(password) < 8:
            raise Invalid("password must have at least 8 characters", field="password")
        password_hash = await asyncio.to_thread(hash_password, password, self.db.settings.scrypt_log2_n)
        async with self.db.write() as session:
            if await session.scalar(select(User.id).where(User.username == username)):
                raise AlreadyExists(f"User {username} already exists", field="username")
            user = User(username=username, role=role, password_hash=password_hash, active=True)
            session.add(user)
        return user

    async def authenticate(self, username: str, password: str, address: str = "") -> User:
        """The active user with this password, or BadCredentials; TooManyAttempts while throttled. `address`
        is the client's (the throttle counts per username, per address and per both)."""
        self.throttle.begin(username, address)
        async with self.db.read(quick=True) as session:
            user = await session.scalar(select(User).where(User.username == username))
        ok = await asyncio.to_thread(verify_password, password, user.password_hash if user else self.nobody)
        if user is None or not ok or not user.active:
            self.throttle.failed(username, address)
            raise BadCredentials("Wrong username or password")
        self.throttle.succeeded(username, address)
        return user

    async def issue(
        self, username: str, password: str, device_id: UUID | None = None, device_name: str | None = None, *,
        device_secret: str | None = None, kind: TokenKind = TokenKind.api, address: str = "",
    ) -> IssuedToken:
        """Sign in: check the password, then write the token (and the device's binding)."""
        if device_secret is not None and device_id is None:
            raise Invalid("device_secret is sent with the device_id it secures", field="device_secret")
        user = await self.authenticate(username, password, address)
        return await self.grant(user, kind, device_id, device_name, device_secret)

    async def grant(
        self, user: User, kind: TokenKind, device_id: UUID | None, device_name: str | None, device_secret: str | None
    ) -> IssuedToken:
        token = secrets.token_urlsafe(32)
        expires = datetime.now(UTC) + timedelta(hours=self.db.settings.token_ttl_hours)
        async with self.db.write() as session:
            if device_id is not None:
                digest = token_digest(device_secret) if device_secret is not None else None
                # First seen: registered with the secret its phone made. ON CONFLICT, so that two first sign-ins
                # with one new id at once register it once, and the second is checked against the first's secret.
                registered = await session.execute(
                    dialect_insert(self.db.dialect, Device)
                    .values(id=device_id, user_id=user.id, name=device_name, secret_hash=digest)
                    .on_conflict_do_nothing()
                )
                if registered.rowcount == 0:  # known: a shared phone, whose latest sign-in binds it
                    device = await session.get(Device, device_id, with_for_update=True, populate_existing=True)
                    check_device(device, user.id, digest)
                    device.user_id = user.id
                    device.name = device_name or device.name
                    device.secret_hash = device.secret_hash or digest
                await session.flush()
            session.add(ApiToken(
                token_hash=token_digest(token), kind=kind.value, user_id=user.id, device_id=device_id, expires_at=expires,
            ))
        return IssuedToken(token, user, device_id, expires)

    async def resolve(self, token: str, kind: TokenKind = TokenKind.api) -> Principal | None:
        """Who holds `token`, if it is a valid token of this kind."""
        async with self.db.read(quick=True) as session:  # one indexed lookup, on every request: no ORM objects
            statement = await (await session.connection()).execute(RESOLVE, {"digest": token_digest(token), "kind": kind.value})
            row = statement.one_or_none()
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
