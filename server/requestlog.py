"""One log line per request, with a request id, and the request metrics (server/metrics.py).

`RequestObserver` wraps the whole Litestar application, routing included, so that every request is seen
once, an unknown path or a refused token as well. Its request id is the client's `X-Request-ID` when that
is a sane one (1–128 letters, digits and `._:-`: what a proxy sends), else a new one; the answer carries it
back in `X-Request-ID`. When the answer is sent, one line goes to the `gemba.requests` logger: request id,
method, route template, path, status, duration, the signed-in user and the device the token is bound to
(a phone's sync requests), and the client's address.

`GEMBA_LOG_FORMAT` chooses the lines of every `gemba.*` logger: `plain` (readable) or `json` (one object
a line, for a log collector).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from server.metrics import REQUEST_SECONDS, REQUESTS

REQUEST_ID_HEADER = b"x-request-id"
SANE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
UNMATCHED = "unmatched"  # the route label of a path no route matches (bounded: never the path itself)
SCOPE_KEY = "gemba_request_id"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})  # others count as OTHER
log = logging.getLogger("gemba.requests")


class RequestObserver:
    """ASGI middleware around the application: request id, timing, the log line and the request metrics."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        path = scope["path"]  # as asked (routing may change the scope's)
        given = next((value for name, value in scope["headers"] if name == REQUEST_ID_HEADER), b"")
        request_id = given.decode() if SANE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        scope[SCOPE_KEY] = request_id  # type: ignore[typeddict-unknown-key]
        status = 500  # if the application fails before it answers

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), (REQUEST_ID_HEADER, request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - began
            method, route = scope["method"], scope.get("path_template") or UNMATCHED
            counted = method if method in METHODS else "OTHER"  # label values stay few, whatever clients send
            REQUESTS.labels(counted, route, str(status)).inc()
            REQUEST_SECONDS.labels(counted, route).observe(seconds)
            user = scope.get("user")
            log.info("%s %s %s", method, path, status, extra={"fields": {
                "request_id": request_id, "method": method, "route": route, "path": path, "status": status,
                "duration_ms": round(seconds * 1000, 2), "user": getattr(user, "username", None),
                "device_id": str(user.device_id) if getattr(user, "device_id", None) else None,
                "client": scope["client"][0] if scope.get("client") else None,
            }})


def request_id(scope: Scope) -> str | None:
    """The request id of the request in `scope` (for other log lines about it, e.g. an unhandled error's)."""
    return scope.get(SCOPE_KEY)  # type: ignore[return-value]


class JsonLines(logging.Formatter):
    """A JSON object a line: time, level, logger, the server process's id, message and the record's `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name, "pid": record.process,
            "message": record.getMessage(), **getattr(record, "fields", {}),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class PlainLines(logging.Formatter):
    """`time level logger message key=value …` (the fields the message does not already say)."""

    SAID = ("method", "path", "status")

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", {})
        extra = " ".join(f"{key}={value}" for key, value in fields.items() if value is not None and key not in self.SAID)
        line = super().format(record)
        return f"{line} {extra}" if extra else line


def configure_logging(log_format: str) -> None:
    """Send the `gemba.*` loggers to stderr in `log_format` (plain or json). Called by each app built: the
    handler of the previous one is replaced."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines() if log_format == "json" else PlainLines())
    gemba = logging.getLogger("gemba")
    for old in gemba.handlers[:]:
        gemba.removeHandler(old)
    gemba.addHandler(handler)
    gemba.setLevel(logging.INFO)
    gemba.propagate = False
