"""POST /api/auth/token (sign in), DELETE /api/auth/token (sign out), users (admin)."""

from __future__ import annotations

from litestar import Controller, Request, delete, get, post
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from server.api.schemas import TokenIn, TokenOut, UserIn, UserOut
from server.api.security import client_address, requires
from server.auth import AuthService, Principal
from server.errors import AlreadyExists, BadCredentials, DeviceSecretMismatch, TooManyAttempts
from server.models import Role


def user_out(user) -> UserOut:  # noqa: ANN001
    return UserOut(id=user.id, username=user.username, role=Role(user.role))


class AuthController(Controller):
    path = "/api/auth"
    tags = ["auth"]

    @post("/token", exclude_from_auth=True, status_code=200, raises=[BadCredentials, DeviceSecretMismatch, TooManyAttempts])
    async def token(self, data: TokenIn, auth: AuthService, request: Request) -> TokenOut:
        """Sign in. With `device_id`, the token is bound to that device (sync pushes need it); a device known
        by its `device_secret` opens only with it (403 `device-secret-mismatch`). Failed sign-ins are
        throttled (429 `too-many-attempts` with `Retry-After`)."""
        issued = await auth.issue(
            data.username, data.password, data.device_id, data.device_name, device_secret=data.device_secret,
            address=client_address(request),
        )
        return TokenOut(
            access_token=issued.access_token, user=user_out(issued.user), device_id=issued.device_id,
            expires_at=issued.expires_at,
        )

    @delete("/token", status_code=HTTP_204_NO_CONTENT)
    async def revoke(self, request: Request[Principal, str, object], auth: AuthService) -> None:
        """Sign out: revoke the token used for this request."""
        await auth.revoke(token_id=request.user.token_id)


class UsersController(Controller):
    path = "/api/users"
    tags = ["users"]
    guards = [requires(Role.admin)]

    @get("/")
    async def list_users(self, auth: AuthService) -> list[UserOut]:
        return [user_out(user) for user in await auth.list_users()]

    @post("/", status_code=HTTP_201_CREATED, raises=[AlreadyExists])
    async def add_user(self, data: UserIn, auth: AuthService) -> UserOut:
        return user_out(await auth.add_user(data.username, data.role.value, data.password))

    @post("/{username:str}/revoke-tokens", status_code=200)
    async def revoke_tokens(self, username: str, auth: AuthService) -> dict[str, int]:
        """Sign a user out everywhere (a lost phone)."""
        return {"revoked": await auth.revoke(username=username)}
