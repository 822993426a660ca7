"""The API's contract as its OpenAPI document says it: every operation's problem responses, in one place.

Litestar documents each route's success response from its handler; this module adds what can go wrong,
derived from what the route is and declares:

- from the route itself: 401 `unauthorized` unless it is open (`exclude_from_auth`), 403 `forbidden` when a
  role guard applies, 422 `invalid` when it takes parameters or a body, 400 `bad_request` and 413
  `payload_too_large` when it reads a body, 404 `not_found` when a path parameter can miss every route, and
  500 `internal_error` everywhere;
- from the handler's `raises=[...]`: each domain error it can raise (server/errors.py, sync/errors.py), with
  its status, `type` and `reason`. A Litestar HTTP exception there documents its status with any problem
  type (e.g. 429, whose types the sign-in throttling defines).

Every problem response is `application/problem+json`, the `ProblemDetails` schema narrowed to the `type` and
`reason` values that status can carry on that route. Handlers may also document what Litestar cannot see
(in `opt`): `request_body` (a Struct read from the raw body, or a {media type: schema} mapping) and
`response_media_types` (a success body in one of several formats). The whole document is served at
/schema/openapi.json and built once, on first request.
"""

from __future__ import annotations

import copy
from http import HTTPStatus
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Litestar, Request
from litestar.exceptions import HTTPException
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.routes import HTTPRoute

from server.api.problems import HTTP_PROBLEMS, MEDIA_TYPE, SLUG_BY_STATUS, type_uri
from server.errors import DomainError

REF = "#/components/schemas/{name}"
BINARY = {"type": "string", "format": "binary"}
PROBLEM_DETAILS: dict[str, Any] = {
    "title": "ProblemDetails",
    "description": "RFC 9457 problem details; the `type` values are listed at /problems on the server.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {"type": "string", "description": "a stable URI, /problems/<slug>"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "for people: what went wrong and what to do"},
        "instance": {"type": "string", "description": "the request's path"},
        "reason": {"type": "string", "description": "the sync protocol's reason code"},
        "field": {"type": "string", "description": "the input at fault, e.g. `args.quantity`"},
    },
    "additionalProperties": True,  # facts that help: available, blocking_rows, supported, max_bytes…
}
RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before trying again", "schema": {"type": "integer"}}}
HEADERS_BY_STATUS = {
    401: {"WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}},
    429: RETRY_AFTER,
    503: RETRY_AFTER,
}


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem a route can answer with; `slug` None: any type with that status."""

    status: int
    slug: str | None
    reason: str | None
    title: str


def http_problem(slug: str) -> Problem:
    title, status = HTTP_PROBLEMS[slug]
    # server/api/problems.py: the HTTP-level problems carry their slug as `reason`, except internal_error
    return Problem(status, slug, None if slug == "internal_error" else slug, title)


def declared(error: type[Exception]) -> Problem:
    if issubclass(error, DomainError):
        return Problem(error.status_code, error.slug, error.reason, error.title)
    if issubclass(error, HTTPException):
        status = error.status_code
        slug = SLUG_BY_STATUS.get(status)
        return http_problem(slug) if slug else Problem(status, None, None, f"{HTTPStatus(status).phrase}: any problem type")
    raise TypeError(f"{error!r} is neither a domain error nor an HTTP exception")


def route_problems(handler: HTTPRouteHandler, operation: dict[str, Any]) -> Iterator[Problem]:
    """What the route can answer with, from what it is and what its handler declares."""
    yield http_problem("internal_error")
    if not handler.opt.get("exclude_from_auth"):
        yield http_problem("unauthorized")
    if handler.resolve_guards():
        yield http_problem("forbidden")
    parameters = operation.get("parameters") or []
    if parameters or "requestBody" in operation:
        yield http_problem("invalid")
    if "requestBody" in operation:
        yield http_problem("bad_request")  # a body that is not JSON, or nested too deep
        yield http_problem("payload_too_large")
    if any(parameter.get("in") == "path" for parameter in parameters):
        yield http_problem("not_found")  # a value that routes nowhere (e.g. with a `/` in a one-segment key)
    for error in handler.raises or ():
        yield declared(error)


def problem_responses(problems: Iterable[Problem]) -> dict[str, Any]:
    by_status: dict[int, list[Problem]] = {}
    for problem in problems:
        if problem not in by_status.setdefault(problem.status, []):
            by_status[problem.status].append(problem)
    responses = {}
    for status, group in sorted(by_status.items()):
        typed = [p for p in group if p.slug is not None]
        narrowed: dict[str, Any] = {"status": {"const": status}}
        if len(typed) == len(group):  # no open entry: the types and reasons are known
            narrowed["type"] = {"enum": sorted({type_uri(p.slug) for p in typed})}
            reasons = sorted({p.reason for p in typed if p.reason})
            if reasons and all(p.reason for p in typed):
                narrowed["reason"] = {"enum": reasons}
        described = "; ".join(f"`{type_uri(p.slug)}` {p.title}" for p in typed) or group[0].title
        response: dict[str, Any] = {
            "description": described,
            "content": {
                MEDIA_TYPE: {"schema": {"allOf": [{"$ref": REF.format(name="ProblemDetails")}, {"properties": narrowed}]}}
            },
        }
        if status in HEADERS_BY_STATUS:
            response["headers"] = HEADERS_BY_STATUS[status]
        responses[str(status)] = response
    return responses


def struct_types(annotation: Any) -> Iterator[msgspec.inspect.StructType]:
    """The Structs a request body type is made of (itself and those nested in it)."""
    seen: set[type] = set()
    pending = [msgspec.inspect.type_info(annotation)]
    while pending:
        info = pending.pop()
        if isinstance(info, msgspec.inspect.StructType):
            if info.cls in seen:
                continue
            seen.add(info.cls)
            yield info
            pending.extend(field.type for field in info.fields)
        elif isinstance(info, (msgspec.inspect.ListType, msgspec.inspect.SetType, msgspec.inspect.FrozenSetType,
                               msgspec.inspect.VarTupleType)):
            pending.append(info.item_type)
        elif isinstance(info, msgspec.inspect.UnionType):
            pending.extend(info.types)
        elif isinstance(info, msgspec.inspect.DictType):
            pending.append(info.value_type)
        elif isinstance(info, msgspec.inspect.Metadata):
            pending.append(info.type)


def request_body(documented: Any, components: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI request body of a handler that reads its raw body: a Struct, or {media type: schema}."""
    if isinstance(documented, dict):
        return {"required": True, "content": {media: {"schema": schema} for media, schema in documented.items()}}
    (schema,), found = msgspec.json.schema_components([documented], ref_template=REF)
    for name, component in found.items():
        if components.setdefault(name, component) != component:
            raise ValueError(f"two different schemas named {name} in the OpenAPI document")
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def close_strict_bodies(handler: HTTPRouteHandler, components: dict[str, Any]) -> None:
    """A body Struct that refuses unknown fields says so (`additionalProperties: false`)."""
    data = handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return
    by_title = {component.get("title"): component for component in components.values()}
    for info in struct_types(data.annotation):
        if info.forbid_unknown_fields and info.cls.__name__ in by_title:
            by_title[info.cls.__name__]["additionalProperties"] = False


def document(schema: dict[str, Any], app: Litestar) -> dict[str, Any]:
    """A copy of Litestar's OpenAPI document with every operation's problems, bodies and security."""
    schema = copy.deepcopy(schema)
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["ProblemDetails"] = PROBLEM_DETAILS
    components["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "a token from POST /api/auth/token"}
    }
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path_format not in schema["paths"]:
            continue
        path_item = schema["paths"][route.path_format]
        for method, (handler, _) in route.route_handler_map.items():
            operation = path_item.get(method.lower())
            if operation is None:
                continue
            if "request_body" in handler.opt:
                operation["requestBody"] = request_body(handler.opt["request_body"], schemas)
            close_strict_bodies(handler, schemas)
            successes = {code: response for code, response in operation["responses"].items() if int(code) < 400}
            if "response_media_types" in handler.opt:
                for response in successes.values():
                    response["content"] = {media: {"schema": BINARY} for media in handler.opt["response_media_types"]}
            problems = route_problems(handler, operation)
            operation["responses"] = {**successes, **problem_responses(problems)}
            if not handler.opt.get("exclude_from_auth"):
                operation["security"] = [{"bearer": []}]
    return schema


class _Documented:
    """Render plugins serve the documented schema (built once per app, shared by every plugin)."""

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        state = request.app.state
        if state.get("openapi_documented") is None:
            state["openapi_documented"] = document(openapi_schema, request.app)
        return super().render(request, state["openapi_documented"])  # type: ignore[misc]


class DocumentedJson(_Documented, JsonRenderPlugin):
    """/schema/openapi.json (and /schema)."""


class DocumentedSwagger(_Documented, SwaggerRenderPlugin):
    """/schema/swagger: Swagger UI (its scripts come from a CDN)."""


def render_plugins() -> list[Any]:
    return [DocumentedJson(), DocumentedSwagger(path="/swagger")]
