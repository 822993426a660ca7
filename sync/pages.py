"""Supervisor pages: the conflicts a supervisor must decide and the log of decisions, server-rendered with
Jinja2 (sync/templates/supervisor/) for a phone's browser.

Sign-in: `/supervisor/login` checks the password with the same AuthService as `POST /api/auth/token` and
keeps the issued token in a cookie — HttpOnly, SameSite=Strict, scoped to /supervisor, Secure when served
over HTTPS. Every form carries a CSRF token derived from the session's token (an HMAC: a page that cannot
read the cookie cannot make it), checked on submit; the sign-in form uses a double-submit cookie. Only
supervisors and admins get in (operators get a 403 page). Decisions go through `ConflictService`, the
same calls as the API's, so each lands in the resolution log (`sync_resolutions`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote
from uuid import UUID

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.datastructures import Cookie, ResponseHeader
from litestar.di import Provide
from litestar.response import Redirect, Template

from server.api.security import actor_of
from server.auth import AuthService, Principal
from server.errors import DomainError, NotFound
from server.models import Role
from server.ops.args import invalid_from
from sync.conflicts import STATUSES, ConflictService
from sync.forms import arg_fields, args_from_form, correction, op_summary, reason_words, typed_values, when
from sync.wire import ApproveIn, ConflictOut, RejectIn

TEMPLATES = Path(__file__).parent / "templates"  # the app factory adds it to the template directories
PREFIX = "/supervisor"
COOKIE = "gemba_supervisor"
LOGIN_COOKIE = "gemba_supervisor_login"
PAGE = 20
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
    principal = await _auth(request).resolve(token) if token else None
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


def page(name: str, session: Session | None, status_code: int = 200, **context: Any) -> Template:
    shared = {
        "me": session.principal if session else None, "csrf": session.csrf if session else "",
        "words": reason_words, "when": when, "summary": op_summary,
    }
    return Template(f"supervisor/{name}", context={**shared, **context}, status_code=status_code)


def message(session: Session | None, status_code: int, title: str, text: str) -> Template:
    return page("message.html", session, status_code, title=title, text=text)


# ---- signing in ---------------------------------------------------------------------------------------
def _next(target: str | None) -> str:
    """Where to go after signing in: a page of these, never another site."""
    if target and target.startswith(f"{PREFIX}/") and not target.startswith("//") and "\\" not in target:
        return target
    return f"{PREFIX}/conflicts"


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
    try:
        issued = await _auth(request).issue(username, form.get("password", ""))
    except DomainError:
        return page("login.html", None, 401, next=target, login_csrf=expected, username=username,
                    error="Wrong username or password")
    if Role(issued.user.role) == Role.operator:  # no session for someone who may not see these pages
        principal = await _auth(request).resolve(issued.access_token)
        if principal is not None:
            await _auth(request).revoke(token_id=principal.token_id)
        return message(None, 403, "Supervisors only",
                       f"{username} is an operator: these pages are for supervisors and admins.")
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


# ---- conflicts ----------------------------------------------------------------------------------------
@get("/")
async def home() -> Redirect:
    return Redirect(f"{PREFIX}/conflicts", status_code=303)


@get("/conflicts")
async def conflicts(session: Session, sync_conflicts: ConflictService, status: str = "open", offset: int = 0) -> Template:
    status = status if status in (*STATUSES, "all") else "open"
    found = await sync_conflicts.list(None if status == "all" else status, PAGE, max(offset, 0))
    return page("conflicts.html", session, found=found, status=status, statuses=(*STATUSES, "all"), page_size=PAGE)


def conflict_page(
    session: Session, conflict: ConflictOut, *, status_code: int = 200, error: DomainError | None = None,
    typed: dict[str, Any] | None = None, note: str | None = None,
) -> Template:
    return page(
        "conflict.html", session, status_code, conflict=conflict, error=error, note=note or "",
        fields=arg_fields(conflict.op.type, typed if typed is not None else conflict.op.args),
    )


async def _conflict(session: Session, sync_conflicts: ConflictService, conflict_id: UUID) -> ConflictOut | Template:
    try:
        return await sync_conflicts.get(conflict_id)
    except NotFound:
        return message(session, 404, "No such conflict", f"There is no conflict {conflict_id}.")


@get("/conflicts/{conflict_id:uuid}")
async def conflict(conflict_id: UUID, session: Session, sync_conflicts: ConflictService) -> Template:
    found = await _conflict(session, sync_conflicts, conflict_id)
    return found if isinstance(found, Template) else conflict_page(session, found)


@post("/conflicts/{conflict_id:uuid}/approve", status_code=200)
async def approve(
    conflict_id: UUID, request: Request, session: Session, sync_conflicts: ConflictService
) -> Response[Any]:
    """Approve as sent, or with the args the supervisor corrected in the form (sent only if they differ)."""
    form = await checked_form(request, session)
    found = await _conflict(session, sync_conflicts, conflict_id)
    if isinstance(found, Template):
        return found
    note = form.get("note", "").strip() or None
    try:
        args = correction(found.op.type, found.op.args, args_from_form(found.op.type, form))
        decision = _decision({"note": note, "args": args}, ApproveIn)
        await sync_conflicts.approve(conflict_id, decision, actor_of(session.principal))
    except DomainError as error:
        found = await sync_conflicts.get(conflict_id)
        return conflict_page(session, found, status_code=error.status_code, error=error, typed=typed_values(form),
                             note=note)
    return Redirect(f"{PREFIX}/conflicts/{conflict_id}", status_code=303)


@post("/conflicts/{conflict_id:uuid}/reject", status_code=200)
async def reject(conflict_id: UUID, request: Request, session: Session, sync_conflicts: ConflictService) -> Response[Any]:
    form = await checked_form(request, session)
    found = await _conflict(session, sync_conflicts, conflict_id)
    if isinstance(found, Template):
        return found
    note = form.get("note", "").strip()
    try:
        decision = _decision({"note": note}, RejectIn)
        await sync_conflicts.reject(conflict_id, decision, actor_of(session.principal))
    except DomainError as error:
        found = await sync_conflicts.get(conflict_id)
        return conflict_page(session, found, status_code=error.status_code, error=error, note=note)
    return Redirect(f"{PREFIX}/conflicts/{conflict_id}", status_code=303)


def _decision(body: dict[str, Any], shape: type[Any]) -> Any:
    """The decision as the API would decode it (the note's length and all)."""
    try:
        return msgspec.convert({key: value for key, value in body.items() if value is not None}, shape)
    except msgspec.ValidationError as error:
        raise invalid_from(error, prefix="form") from None


@get("/resolutions")
async def resolutions(session: Session, sync_conflicts: ConflictService, offset: int = 0) -> Template:
    found = await sync_conflicts.resolutions(PAGE, max(offset, 0))
    return page("resolutions.html", session, found=found, page_size=PAGE)


# ---- errors of these pages ----------------------------------------------------------------------------
def _to_sign_in(request: Request, _error: SignInRequired) -> Response[Any]:
    target = f"{PREFIX}/conflicts"
    if request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Redirect(f"{PREFIX}/login?next={quote(target, safe='/')}", status_code=303)


def _forbidden(_request: Request, error: NotSupervisor) -> Response[Any]:
    return message(None, 403, "Supervisors only",
                   f"You are signed in as {error.principal.username}, an operator: these pages are for "
                   "supervisors and admins.")


def _bad_csrf(_request: Request, _error: BadCsrf) -> Response[Any]:
    return message(None, 403, "Form expired",
                   "This form did not come from this page, or your session changed. Go back, reload and try again.")


def supervisor_router(more: Sequence[Any] = ()) -> Router:
    """The pages, with `more` route handlers (e.g. the cycle counts' pages) behind the same sign-in, CSRF
    and headers."""
    return Router(
        path=PREFIX,
        route_handlers=[login_form, login, logout, home, conflicts, conflict, approve, reject, resolutions, *more],
        dependencies={"session": Provide(signed_in)},
        exception_handlers={SignInRequired: _to_sign_in, NotSupervisor: _forbidden, BadCsrf: _bad_csrf},
        response_headers=HEADERS,
        opt={"exclude_from_auth": True},  # not the API's bearer tokens: the session cookie above
        include_in_schema=False,
    )
