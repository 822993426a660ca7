"""Bearer-token authentication on every /api/ route (except issuing a token) and role guards."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from server.actor import Actor
from server.auth import AuthService, Principal
from server.models import Role


class TokenAuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthorizedException("Send Authorization: Bearer <token> (get one from POST /api/auth/token)")
        auth: AuthService = connection.app.state.auth
        principal = await auth.resolve(token.strip())
        if principal is None:
            raise NotAuthorizedException("The token is unknown, expired or revoked: sign in again")
        return AuthenticationResult(user=principal, auth=token)


def requires(role: Role):  # noqa: ANN201 - a Litestar guard
    """Guard: the caller's role must be `role` or above (operator < supervisor < admin). Not on OPTIONS,
    which the token middleware lets through unauthenticated (as CORS preflights are sent): it answers only
    which methods the route has."""

    def guard(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
        if connection.scope["method"] == "OPTIONS":
            return
        if not actor_of(connection.user).at_least(role):
            raise PermissionDeniedException(f"This needs the {role.value} role or above")

    return guard


def client_address(connection: ASGIConnection) -> str:
    """The peer's address, which the sign-in throttle counts by."""
    return connection.client.host if connection.client else ""


def actor_of(principal: Principal) -> Actor:
    return Actor(username=principal.username, role=principal.role, device_id=principal.device_id)


def shown_devices(principal: Principal, movements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Movements as the caller may see them: the ids of other devices only for supervisors and admins (a
    device id is half of what signing in on a device needed before device secrets)."""
    if not actor_of(principal).at_least(Role.supervisor):
        for movement in movements:
            if movement["device_id"] != principal.device_id:
                movement["device_id"] = None
    return movements
