"""RFC 9457 problem details: the one place where errors become HTTP responses.

Every problem has a stable `type` URI `/problems/<slug>` (served by the app, documented in docs/api.md),
a `title`, the HTTP `status`, a `detail` for people, and extension members: `reason` (the sync
protocol's reason code, for op errors) and `field` (which input was wrong), plus any facts that help
(e.g. `available`, `blocking_rows`).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from server.errors import DomainError, RetryLater
from server.requestlog import request_id
from server.transient import is_transient

MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("gemba.errors")

# slug → (title, status). Op reasons come from server/errors.py; these are the HTTP-level ones.
HTTP_PROBLEMS: dict[str, tuple[str, int]] = {
    "bad_request": ("Malformed request", 400),
    "unauthorized": ("Authentication required", 401),
    "forbidden": ("Not allowed for your role", 403),
    "not_found": ("No such resource", 404),
    "method_not_allowed": ("Method not allowed", 405),
    "payload_too_large": ("Request body too large", 413),
    "unsupported_media_type": ("Unsupported media type", 415),
    "invalid": ("Invalid request", 422),
    "internal_error": ("Internal server error", 500),
}
SLUG_BY_STATUS = {status: slug for slug, (_, status) in HTTP_PROBLEMS.items()}


def type_uri(slug: str) -> str:
    return f"/problems/{slug.replace('_', '-')}"


def problem(slug: str, title: str, status: int, detail: str, request: Request, **extra: Any) -> Response[dict[str, Any]]:
    body = {"type": type_uri(slug), "title": title, "status": status, "detail": detail, "instance": request.url.path}
    body.update({key: value for key, value in extra.items() if value is not None})
    return Response(body, status_code=status, media_type=MEDIA_TYPE)


def domain_error(request: Request, error: DomainError) -> Response[dict[str, Any]]:
    response = problem(
        error.slug,
        error.title,
        error.status_code,
        error.message,
        request,
        reason=error.reason,
        field=error.field,
        **error.extra,
    )
    if (retry_after := error.extra.get("retry_after")) is not None:  # seconds, also as the HTTP header
        response.headers["Retry-After"] = str(retry_after)
    return response


def validation_error(request: Request, error: ValidationException) -> Response[dict[str, Any]]:
    """Litestar's validation, naming the field and saying why: a body, query, path, header or cookie value
    that fails is `invalid` (422), as the domain's own validation."""
    field = None
    reason = error.detail
    if isinstance(error.extra, list) and error.extra:
        first = error.extra[0]
        if isinstance(first, dict):
            field = str(first.get("key") or "").removeprefix("$.") or None
            reason = first.get("message") or reason
    if field is None and " - at `$." in str(error.detail):
        reason, _, where = str(error.detail).rpartition(" - at `$.")
        field = where.rstrip("`")
    named = re.search(r"(?:missing required|unknown) field `([^`]+)`", str(reason))
    if named and field in (None, "data"):  # the body as a whole: name the field it lacks or should not have
        field = named.group(1)
    detail = (f"{field}: {reason}" if field else str(reason)).replace("`", "")
    return problem("invalid", "Invalid request", 422, detail, request, reason="invalid", field=field)


def http_error(request: Request, error: HTTPException) -> Response[dict[str, Any]]:
    status = error.status_code
    if isinstance(error, NotAuthorizedException):
        status = 401
    elif isinstance(error, PermissionDeniedException):
        status = 403
    slug = SLUG_BY_STATUS.get(status, "bad_request" if status < 500 else "internal_error")
    title = HTTP_PROBLEMS[slug][0]
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    response = problem(slug, title, status, str(error.detail), request, reason=slug)
    if headers:
        response.headers.update(headers)
    return response


def too_deep(request: Request, error: RecursionError) -> Response[dict[str, Any]]:
    """msgspec decodes JSON recursively, to Python's recursion limit (~1,000 levels), and then raises
    RecursionError (in well under a millisecond): a body nested that deep (`[[[[…]]]]`) is malformed for
    every route, the request's own validation or the sync protocol's. Any other RecursionError is the
    server's."""
    if "deserializing" not in str(error):
        return internal_error(request, error)
    return problem(
        "bad_request", HTTP_PROBLEMS["bad_request"][0], 400,
        "The JSON body is nested too deeply to be read", request, reason="bad_request", field="body",
    )


def internal_error(request: Request, error: Exception) -> Response[dict[str, Any]]:
    if is_transient(error):  # a busy or unreachable database anywhere (a token check waiting for a connection)
        return domain_error(request, RetryLater("The database is busy or unavailable: try again later"))
    log.error("unhandled error in %s %s", request.method, request.url.path, exc_info=error,
              extra={"fields": {"request_id": request_id(request.scope)}})
    return problem(
        "internal_error", "Internal server error", HTTP_500_INTERNAL_SERVER_ERROR,
        "The server failed; nothing was changed. Try again, and report it if it persists.", request,
    )


EXCEPTION_HANDLERS = {
    DomainError: domain_error,
    ValidationException: validation_error,
    HTTPException: http_error,
    RecursionError: too_deep,
    Exception: internal_error,
}


def all_problems() -> dict[str, tuple[str, int]]:
    """Every problem type the API can answer with: slug → (title, status)."""
    found = dict(HTTP_PROBLEMS)
    pending = [DomainError]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        found.setdefault(cls.slug, (cls.title, cls.status_code))
    return found
