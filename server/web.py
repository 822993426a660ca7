"""The phone app (pwa/) as the server serves it: the HTML shell at `/`, the service worker at `/sw.js`,
and every other shell file under `/app/`.

The files are read once when the app is built and served from memory, the app's own JavaScript without
its comments and layout (rjsmin): 30 % smaller, while the repository keeps the readable source
(`GEMBA_PWA_DEBUG=1` serves it as written). rjsmin keeps strings and template literals as they are, but
not a template literal nested in another's `${…}`: the app nests none whose text it would change
(tests/unit/test_shell_minified.py compares each module's syntax tree before and after).

The shell's version is a hash of exactly the bytes served; it is written into `index.html` and `sw.js`,
so that a deploy changes the service worker (which is what makes browsers install the new version). The
service worker fetches the shell as `/app/…?v=<version>`: a server answering for another version
refuses (404), so the install fails and is retried later rather than caching a mix of old and new files
(e.g. during a rolling deploy).

Vendored libraries (`vendor/`: the barcode reader's zxing-wasm, 1 MB of WebAssembly) have a version of
their own, the hash of their bytes, and a cache of their own in the service worker: fetched as
`/app/vendor/…?v=<vendor version>`, once per vendor version rather than once per deploy.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import mimetypes
import os
import re
from dataclasses import dataclass
from pathlib import Path

import rjsmin
from litestar import Request, Response, Router, get
from litestar.exceptions import NotFoundException

PWA_DIR = Path(__file__).resolve().parent.parent / "pwa"
VERSION_MARK = "__GEMBA_VERSION__"
SHELL_MARK = '"__GEMBA_SHELL__"'
VENDOR_VERSION_MARK = "__GEMBA_VENDOR_VERSION__"
VENDOR_MARK = '"__GEMBA_VENDOR__"'
VENDOR = "/app/vendor/"
NOT_SHELL = ("tests/", "README", "package.json")  # files in pwa/ that are not part of the app
NOT_SHELL_NAMES = ("LICENSE", "VENDORED")  # file names of a vendored library's papers, in any folder
TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".webmanifest": "application/manifest+json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".wasm": "application/wasm",
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
    vendor_version: str
    assets: dict[str, Asset]  # URL path → asset; includes "/" and "/sw.js"

    def version_of(self, path: str) -> str:
        return self.vendor_version if path.startswith(VENDOR) else self.version


@functools.lru_cache(maxsize=512)
def _gzipped(body: bytes) -> bytes:
    """Each app a process builds (the test suite builds hundreds) compresses the same files once."""
    return gzip.compress(body, 9, mtime=0)


def _asset(body: bytes, suffix: str) -> Asset:
    media_type = TYPES.get(suffix) or mimetypes.guess_type(f"x{suffix}")[0] or "application/octet-stream"
    compressible = not media_type.startswith("image/png")
    return Asset(body, _gzipped(body) if compressible else None, media_type)


def load_shell(directory: Path = PWA_DIR, *, readable: bool = False) -> Shell:
    """The app as served: its JavaScript minified, or with `readable` as written."""
    files = {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file() and not path.relative_to(directory).as_posix().startswith(NOT_SHELL) and not path.name.startswith(NOT_SHELL_NAMES)
    }
    if not readable:
        files = {name: minified(name, body) for name, body in files.items()}
    if "index.html" not in files or "sw.js" not in files:
        raise RuntimeError(f"{directory} has no index.html or sw.js: the phone app is missing")
    version = _digest(files)
    vendor_version = _digest({name: body for name, body in files.items() if f"/app/{name}".startswith(VENDOR)})

    assets = {f"/app/{name}": _asset(body, Path(name).suffix) for name, body in files.items()
              if name not in ("index.html", "sw.js")}
    index = files["index.html"].decode().replace(VERSION_MARK, version)
    assets["/"] = _asset(index.encode(), ".html")
    shell = sorted(path for path in assets if not path.startswith(VENDOR))
    vendor = sorted(path for path in assets if path.startswith(VENDOR))
    worker = (files["sw.js"].decode().replace(VENDOR_VERSION_MARK, vendor_version).replace(VERSION_MARK, version)
              .replace(SHELL_MARK, json.dumps(shell)).replace(VENDOR_MARK, json.dumps(vendor)))
    assets["/sw.js"] = _asset(worker.encode(), ".js")
    return Shell(version=version, vendor_version=vendor_version, assets=assets)


def css_minified(body: bytes) -> bytes:
    """The style sheet without comments and layout: runs of white space become one space; none around braces and
    semicolons nor after a declaration's colon, and no semicolon before a closing brace (selectors and values
    keep their spaces)."""
    text = re.sub(r"/\*.*?\*/", "", body.decode(), flags=re.DOTALL)
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s*([{};])\s*", r"\1", text).strip()
    text = re.sub(r"\{[^{}]*\}", lambda block: re.sub(r":\s+", ":", block.group()), text)
    return text.replace(";}", "}").encode()


def minified(name: str, body: bytes) -> bytes:
    """The app's own JavaScript and style sheet without comments and layout, its language catalogues without
    layout; the vendored libraries as their authors built them."""
    if name.startswith("locales/") and name.endswith(".json"):
        return json.dumps(json.loads(body), ensure_ascii=False, separators=(",", ":")).encode()
    if name.endswith(".css"):
        return css_minified(body)
    if not name.endswith(".js") or f"/app/{name}".startswith(VENDOR):
        return body
    return rjsmin.jsmin(body)


def _digest(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name, body in files.items():
        digest.update(name.encode() + b"\0" + hashlib.sha256(body).digest())
    return digest.hexdigest()[:16]


def _respond(shell: Shell, path: str, request: Request) -> Response[bytes]:
    asset = shell.assets.get(path)
    wanted = request.query_params.get("v")
    version = shell.version_of(path)
    if asset is None or (wanted is not None and wanted != version):
        # Another version's file (a deploy happened): refuse rather than mix versions in one cache.
        raise NotFoundException(f"No {path} in app version {wanted or version}")
    headers = {
        "Cache-Control": IMMUTABLE if wanted else NO_CACHE,
        "ETag": f'"{version}"',
        "Vary": "Accept-Encoding",
        "X-Gemba-Version": version,
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
    """The app's routes. The files come from `GEMBA_PWA_DIR` when set (another build of pwa/), else pwa/;
    `GEMBA_PWA_DEBUG=1` serves the JavaScript as written."""
    readable = os.environ.get("GEMBA_PWA_DEBUG", "") == "1"
    shell = shell or load_shell(Path(os.environ.get("GEMBA_PWA_DIR") or PWA_DIR), readable=readable)

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
