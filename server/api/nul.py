"""The request-wide refusal of NUL characters (server/rules/text.py): in the query string, the path's
parameters and the body (JSON or a form), before the route's handler runs, as a 422 `invalid` naming the
field. A route whose body holds sync ops (push) checks each op itself: a NUL there is that op's outcome."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request

from server.errors import Invalid
from server.rules.text import ESCAPED_NUL, NUL, nul_at, nul_message

OPS_CHECKED_ONE_BY_ONE = "nul_checked_per_op"  # a route's `opt` key: its body's ops are checked one by one
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
FORMS = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


async def refuse_nul(request: Request[Any, Any, Any]) -> None:
    """Litestar `before_request` of every route (after authentication and guards)."""
    where = _in_parameters(request)
    if where is None and request.method in BODY_METHODS and not request.route_handler.opt.get(OPS_CHECKED_ONE_BY_ONE):
        where = await _in_body(request)
    if where is not None:
        raise Invalid(nul_message(where), field=where)


def _in_parameters(request: Request[Any, Any, Any]) -> str | None:
    if b"%00" in request.scope["query_string"]:
        for key, value in request.query_params.multi_items():
            if NUL in key or NUL in value:
                return key.replace(NUL, "\\0")
    if NUL in request.scope["path"]:
        for key, value in request.path_params.items():
            if isinstance(value, str) and NUL in value:
                return key
    return None


async def _in_body(request: Request[Any, Any, Any]) -> str | None:
    media_type, _ = request.content_type
    if media_type in FORMS:
        if media_type == "multipart/form-data":  # only photos are uploaded so: their bytes are not text
            return None
        if b"%00" not in await request.body():
            return None
        for key, value in (await request.form()).multi_items():
            if NUL in key or (isinstance(value, str) and NUL in value):
                return key.replace(NUL, "\\0")
        return None
    if media_type.startswith("image/"):
        return None
    body = await request.body()
    if ESCAPED_NUL not in body:  # decoded only if it may hold one
        return None
    try:
        return nul_at(msgspec.json.decode(body))  # the same JSON the route reads; a text `\\u0000` holds none
    except msgspec.DecodeError:
        return None  # not JSON: the route's own parsing says so
