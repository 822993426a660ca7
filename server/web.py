"""The phone app (pwa/) as the server serves it: the HTML shell at `/`, the service worker at `/sw.js`,
and every other shell file under `/app/`.

The files are read once when the app is built and served from memory. The shell's version is a hash of
exactly those bytes; it is written into `index.html` and `sw.js`, so that a deploy changes the service
worker (which is what makes browsers install the new version). The service worker fetches the shell as
`/app/…?v=<version>`: a server answering for another version refuses (404), so the install fails and is
retried later rather than caching a mix of old and new files (e.g. during a rolling deploy).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import mimetypes
import os
from dataclasses import dataclass
from pathlib import Path

from litestar import Request, Response, Router, get
from litestar.exceptions import NotFoundException

PWA_DIR = Path(__file__).resolve().parent.parent / "pwa"
VERSION_MARK = "__GEMBA_VERSION__"
SHELL_MARK = '"__GEMBA_SHELL__"'
NOT_SHELL = ("tests/", "README", "package.json")  # files in pwa/ that are not part of the app
TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".webmanifest": "application/manifest+json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
NO_CACHE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    gzipped: bytes | None
    media_type: str


@dataclass(frozen=True, slots=True)
class Shell:
    version: str
    assets: dict[str, Asset]  # URL path → asset; includes "/" and "/sw.js"

    @property
    def cached_paths(self) -> list[str]:
        """What the service worker precaches: everything but itself."""
        return sorted(path for path in self.assets if path != "/sw.js")


def _asset(body: bytes, suffix: str) -> Asset:
    media_type = TYPES.get(suffix) or mimetypes.guess_type(f"x{suffix}")[0] or "application/octet-stream"
    compressible = not media_type.startswith("image/png")
    return Asset(body, gzip.compress(body, 9, mtime=0) if compressible else None, media_type)


def load_shell(directory: Path = PWA_DIR) -> Shell:
    files = {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file() and not path.relative_to(directory).as_posix().startswith(NOT_SHELL)
    }
    if "index.html" not in files or "sw.js" not in files:
        raise RuntimeError(f"{directory} has no index.html or sw.js: the phone app is missing")
    digest = hashlib.sha256()
    for name, body in files.items():
        digest.update(name.encode() + b"\0" + hashlib.sha256(body).digest())
    version = digest.hexdigest()[:16]

    assets = {f"/app/{name}": _asset(body, Path(name).suffix) for name, body in files.items()
              if name not in ("index.html", "sw.js")}
    index = files["index.html"].decode().replace(VERSION_MARK, version)
    assets["/"] = _asset(index.encode(), ".html")
    cached = sorted([*assets, "/"])
    worker = files["sw.js"].decode().replace(VERSION_MARK, version).replace(SHELL_MARK, json.dumps(sorted(set(cached))))
    assets["/sw.js"] = _asset(worker.encode(), ".js")
    return Shell(version=version, assets=assets)


def _respond(shell: Shell, path: str, request: Request) -> Response[bytes]:
    asset = shell.assets.get(path)
    wanted = request.query_params.get("v")
    if asset is None or (wanted is not None and wanted != shell.version):
        # Another version's file (a deploy happened): refuse rather than mix versions in one cache.
        raise NotFoundException(f"No {path} in app version {wanted or shell.version}")
    headers = {
        "Cache-Control": IMMUTABLE if wanted else NO_CACHE,
        "ETag": f'"{shell.version}"',
        "Vary": "Accept-Encoding",
        "X-Gemba-Version": shell.version,
    }
    if path == "/sw.js":
        headers["Service-Worker-Allowed"] = "/"
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(b"", status_code=304, headers=headers)
    body = asset.body
    if asset.gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
        body, headers["Content-Encoding"] = asset.gzipped, "gzip"
    return Response(body, media_type=asset.media_type, headers=headers)


def pwa_router(shell: Shell | None = None) -> Router:
    """The app's routes. The files come from `GEMBA_PWA_DIR` when set (another build of pwa/), else pwa/."""
    shell = shell or load_shell(Path(os.environ.get("GEMBA_PWA_DIR") or PWA_DIR))

    @get("/", exclude_from_auth=True, include_in_schema=False)
    async def index(request: Request) -> Response[bytes]:
        return _respond(shell, "/", request)

    @get("/sw.js", exclude_from_auth=True, include_in_schema=False)
    async def service_worker(request: Request) -> Response[bytes]:
        return _respond(shell, "/sw.js", request)

    @get("/app/{path:path}", exclude_from_auth=True, include_in_schema=False)
    async def app_file(path: str, request: Request) -> Response[bytes]:
        return _respond(shell, "/app/" + path.lstrip("/"), request)

    return Router(path="/", route_handlers=[index, service_worker, app_file])
