"""The supervisor pages' shell: sign-in, CSRF, the page frame and the router every supervisor page hangs on.

Sign-in: `/supervisor/login` checks the password with the same AuthService as `POST /api/auth/token` (and
its throttle) and keeps a page session's token (kind `page`: it opens these pages only, and an API token
does not open them) in a cookie — HttpOnly, SameSite=Strict, scoped to /supervisor, Secure when served
over HTTPS. Every form carries a CSRF token derived from the session's token (an HMAC: a page that cannot
read the cookie cannot make it), checked on submit (`checked_form`); the sign-in form uses a double-submit
cookie. Only supervisors and admins get in (operators get a 403 page). A page handler takes the `session`
dependency and answers `page(...)`; the pages of each package are handed to `supervisor_router`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import msgspec
from jinja2 import pass_context
from litestar import Request, Response, Router, get, post
from litestar.datastructures import Cookie, ResponseHeader
from litestar.di import Provide
from litestar.response import Redirect, Template

from server.api.security import actor_of, client_address
from server.auth import AuthService, Principal
from server.errors import DomainError, TooManyAttempts
from server.i18n import context_lang, translator
from server.models import Role, TokenKind
from server.ops.args import invalid_from
from server.supervisor.words import op_summary, reason_words, when

TEMPLATES = Path(__file__).parent / "templates"  # the app factory adds it to the template directories
PREFIX = "/supervisor"
HOME = f"{PREFIX}/conflicts"  # where signing in leads unless a page sent the supervisor there
COOKIE = "gemba_supervisor"
LOGIN_COOKIE = "gemba_supervisor_login"
HEADERS = [
    ResponseHeader(name="Cache-Control", value="no-store"),
    ResponseHeader(name="X-Frame-Options", value="DENY"),
    ResponseHeader(name="Referrer-Policy", value="same-origin"),
    ResponseHeader(
        name="Content-Security-Policy",
        value="default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    ),
]


class SignInRequired(Exception):
    """No session cookie, or its token is unknown, expired or revoked."""


class NotSupervisor(Exception):
    def __init__(self, principal: Principal) -> None:
        super().__init__(principal.username)
        self.principal = principal


class BadCsrf(Exception):
    """A form without this session's CSRF token: not sent by one of these pages."""


@dataclass(frozen=True, slots=True)
class Session:
    principal: Principal
    token: str

    @property
    def csrf(self) -> str:
        return csrf_for(self.token)


def csrf_for(token: str) -> str:
    return hmac.new(token.encode(), b"gemba supervisor form", hashlib.sha256).hexdigest()


def _cookie(request: Request, key: str, value: str, max_age: int | None) -> Cookie:
    return Cookie(
        key=key, value=value, path=PREFIX, httponly=True, samesite="strict", max_age=max_age,
        secure=request.url.scheme == "https",
    )


async def signed_in(request: Request) -> Session:
    token = request.cookies.get(COOKIE)
    principal = await _auth(request).resolve(token, TokenKind.page) if token else None
    if principal is None or token is None:
        raise SignInRequired
    if not actor_of(principal).at_least(Role.supervisor):
        raise NotSupervisor(principal)
    return Session(principal, token)


def _auth(request: Request) -> AuthService:
    return request.app.state.auth


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key in form.keys() if isinstance(value := form.get(key), str)}


async def checked_form(request: Request, session: Session) -> dict[str, str]:
    form = await _form(request)
    if not hmac.compare_digest(form.get("csrf", ""), session.csrf):
        raise BadCsrf
    return form


def form_struct(body: dict[str, Any], shape: type[Any]) -> Any:
    """A page form's fields (blank ones left out) as the API's body Struct, or Invalid naming the field."""
    try:
        return msgspec.convert({k: v for k, v in body.items() if v not in (None, "")}, shape, strict=False)
    except msgspec.ValidationError as error:
        raise invalid_from(error, prefix="form") from None


@pass_context
def _words(context: Any, reason: str | None) -> str:
    return reason_words(reason, context_lang(context))


@pass_context
def _summary(context: Any, op_type: str, args: Any) -> str:
    return op_summary(op_type, args, context_lang(context))


def page(name: str, session: Session | None, status_code: int = 200, **context: Any) -> Template:
    """A page of these, in the browser's language (`t`, `words`, `summary` read it from the request)."""
    shared = {
        "me": session.principal if session else None, "csrf": session.csrf if session else "",
        "words": _words, "when": when, "summary": _summary,
    }
    return Template(f"supervisor/{name}", context={**shared, **context}, status_code=status_code)


def message(session: Session | None, status_code: int, title: str, text: str) -> Template:
    return page("message.html", session, status_code, title=title, text=text)


async def document_page(request: Request, session: Session, name: str, template: str, number: str,
                        load: Callable[[str], Awaitable[Any]], status_code: int = 200, **context: Any) -> Template:
    """The page of one numbered document — a purchase order, a run, a kit, an issue: `name` is the template's
    variable and its words' prefix (`<name>.no_such`, `<name>.no_such_text`) — or a 404 page saying there is none."""
    try:
        found = await load(number)
    except DomainError:
        t = translator(request)
        return message(session, 404, t(f"{name}.no_such"), t(f"{name}.no_such_text", number=number))
    return page(template, session, status_code, **{name: found}, **context)


# ---- signing in ---------------------------------------------------------------------------------------
def _next(target: str | None) -> str:
    """Where to go after signing in: a page of these, never another site."""
    if target and target.startswith(f"{PREFIX}/") and not target.startswith("//") and "\\" not in target:
        return target
    return HOME


@get("/login")
async def login_form(request: Request, next: str | None = None) -> Template:  # noqa: A002 - the query's name
    nonce = secrets.token_urlsafe(24)
    response = page("login.html", None, next=_next(next), login_csrf=nonce)
    response.cookies.append(_cookie(request, LOGIN_COOKIE, nonce, 900))
    return response


@post("/login", status_code=200)
async def login(request: Request) -> Response[Any]:
    form = await _form(request)
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(form.get("csrf", ""), expected):
        raise BadCsrf
    username, target = form.get("username", "").strip(), _next(form.get("next"))
    t = translator(request)
    try:
        user = await _auth(request).authenticate(username, form.get("password", ""), client_address(request))
    except TooManyAttempts as error:
        response = page("login.html", None, 429, next=target, login_csrf=expected, username=username,
                        error=t("login.too_many", seconds=error.extra["retry_after"]))
        response.headers["Retry-After"] = str(error.extra["retry_after"])
        return response
    except DomainError:
        return page("login.html", None, 401, next=target, login_csrf=expected, username=username,
                    error=t("login.wrong"))
    if Role(user.role) == Role.operator:  # no session for someone who may not see these pages
        return message(None, 403, t("message.supervisors_only"), t("message.operator", user=username))
    issued = await _auth(request).grant(user, TokenKind.page, None, None, None)
    ttl = _auth(request).db.settings.token_ttl_hours * 3600
    response = Redirect(target, status_code=303)
    response.cookies.append(_cookie(request, COOKIE, issued.access_token, ttl))
    response.cookies.append(_cookie(request, LOGIN_COOKIE, "", 0))
    return response


@post("/logout", status_code=200)
async def logout(request: Request, session: Session) -> Redirect:
    await checked_form(request, session)
    await _auth(request).revoke(token_id=session.principal.token_id)
    response = Redirect(f"{PREFIX}/login", status_code=303)
    response.cookies.append(_cookie(request, COOKIE, "", 0))
    return response


@get("/")
async def home() -> Redirect:
    return Redirect(HOME, status_code=303)


# ---- errors of these pages ----------------------------------------------------------------------------
def _to_sign_in(request: Request, _error: SignInRequired) -> Response[Any]:
    target = HOME
    if request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Redirect(f"{PREFIX}/login?next={quote(target, safe='/')}", status_code=303)


def _forbidden(request: Request, error: NotSupervisor) -> Response[Any]:
    t = translator(request)
    return message(None, 403, t("message.supervisors_only"), t("message.signed_in_operator", user=error.principal.username))


def _bad_csrf(request: Request, _error: BadCsrf) -> Response[Any]:
    t = translator(request)
    return message(None, 403, t("message.form_expired"), t("message.form_expired_text"))


def supervisor_router(pages: Sequence[Any]) -> Router:
    """Signing in and out, and `pages` (the route handlers of each package's pages, e.g. sync's conflicts and
    the cycle counts'), behind the same sign-in, CSRF and headers."""
    return Router(
        path=PREFIX,
        route_handlers=[login_form, login, logout, home, *pages],
        dependencies={"session": Provide(signed_in)},
        exception_handlers={SignInRequired: _to_sign_in, NotSupervisor: _forbidden, BadCsrf: _bad_csrf},
        response_headers=HEADERS,
        opt={"exclude_from_auth": True},  # not the API's bearer tokens: the session cookie above
        include_in_schema=False,
    )
