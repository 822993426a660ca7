"""The phone app as the server serves it: one version of the shell at a time, the service worker at
the root scope, every module import resolvable from the precached files, an installable manifest, the
JavaScript minified (or as written with GEMBA_PWA_DEBUG=1)."""

from __future__ import annotations

import gzip
import json
import re
import shutil
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from PIL import Image

from server.web import PWA_DIR, load_shell, pwa_router


def client_for(directory: Path = PWA_DIR, *, readable: bool = False) -> TestClient:
    return TestClient(Litestar(route_handlers=[pwa_router(load_shell(directory, readable=readable))]))


def precached(client: TestClient) -> tuple[str, list[str]]:
    worker = client.get("/sw.js").text
    version = re.search(r"const VERSION\s*=\s*'([0-9a-f]{16})'", worker).group(1)
    shell = json.loads(re.search(r"const SHELL\s*=\s*(\[.*?\]);", worker).group(1))
    return version, shell


def vendored(client: TestClient) -> tuple[str, list[str]]:
    """The vendored libraries' version and files, as the service worker caches them (apart from the shell)."""
    worker = client.get("/sw.js").text
    version = re.search(r"const VENDOR_VERSION\s*=\s*'([0-9a-f]{16})'", worker).group(1)
    return version, json.loads(re.search(r"const VENDOR\s*=\s*(\[.*?\]);", worker).group(1))


def test_the_service_worker_is_served_at_the_root_never_cached_with_the_versioned_shell() -> None:
    with client_for() as client:
        answer = client.get("/sw.js")
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/javascript")
        assert answer.headers["cache-control"] == "no-cache"
        assert answer.headers["service-worker-allowed"] == "/"
        version, shell = precached(client)
        assert "/" in shell and "/app/main.js" in shell and "/sw.js" not in shell
        index = client.get("/")
        assert f'data-version="{version}"' in index.text
        assert index.headers["cache-control"] == "no-cache"
        for path in shell:  # everything the worker precaches is there, in this version
            got = client.get(path, params={"v": version})
            assert got.status_code == 200, path
            assert got.headers["cache-control"].endswith("immutable")
            assert got.headers["x-gemba-version"] == version


def test_a_file_of_another_version_is_refused_so_a_cache_never_mixes_versions(tmp_path: Path) -> None:
    copy = tmp_path / "pwa"
    shutil.copytree(PWA_DIR, copy)
    with client_for(copy) as client:
        old, _ = precached(client)
    (copy / "ui.js").write_text((copy / "ui.js").read_text() + "\nexport const release = 2;\n")
    with client_for(copy) as client:
        new, shell = precached(client)
        assert new != old
        assert client.get("/app/ui.js", params={"v": old}).status_code == 404
        assert client.get("/app/ui.js", params={"v": new}).status_code == 200
        assert client.get("/", params={"v": old}).status_code == 404


def test_tests_and_tooling_are_not_part_of_the_shell() -> None:
    with client_for() as client:
        _, shell = precached(client)
        _, vendor = vendored(client)
    assert not [path for path in shell + vendor if "/tests/" in path or path.endswith(("package.json", ".md")) or "LICENSE" in path]


def test_the_barcode_reader_is_cached_apart_under_its_own_version(tmp_path: Path) -> None:
    copy = tmp_path / "pwa"
    shutil.copytree(PWA_DIR, copy)
    with client_for(copy) as client:
        version, vendor = vendored(client)
        _, shell = precached(client)
        wasm = "/app/vendor/zxing-wasm/reader/zxing_reader.wasm"
        assert wasm in vendor and wasm not in shell and "/app/reader/worker.js" in shell
        got = client.get(wasm, params={"v": version})
        assert got.status_code == 200 and got.headers["content-type"] == "application/wasm"
        assert got.content[:4] == b"\0asm" and got.headers["x-gemba-version"] == version
    (copy / "ui.js").write_text((copy / "ui.js").read_text() + "\nexport const release = 2;  // a new release of the app only\n")
    with client_for(copy) as client:
        assert vendored(client)[0] == version  # a deploy that leaves the reader alone: phones keep their copy
    (copy / "vendor" / "zxing-wasm" / "share.js").write_text((copy / "vendor" / "zxing-wasm" / "share.js").read_text() + "\n")
    with client_for(copy) as client:
        new, _ = vendored(client)
        assert new != version
        assert client.get(wasm, params={"v": version}).status_code == 404  # never a mix of two readers


def test_every_module_import_resolves_to_a_precached_file() -> None:
    with client_for() as client:
        _, shell = precached(client)
        shell += vendored(client)[1]
        for path in [p for p in shell if p.endswith(".js")]:
            source = client.get(path).text
            for target in re.findall(r"""(?:^|[\n;])\s*(?:import|export)\b[^'";]*?\bfrom\s*['"]([^'"]+)['"]""", source):
                resolved = str(Path(path).parent / target).replace("/./", "/")
                resolved = re.sub(r"/[^/]+/\.\./", "/", resolved)
                assert resolved in shell, f"{path} imports {target} ({resolved}), which is not precached"
        index = client.get("/").text
        for ref in re.findall(r'(?:href|src)="(/app/[^"]+)"', index):
            assert ref in shell, ref


def test_the_javascript_is_served_minified_and_versioned_by_what_is_served(tmp_path: Path) -> None:
    source = (PWA_DIR / "outbox.js").read_text()
    with client_for() as client:
        served = client.get("/app/outbox.js").text
        version, _ = precached(client)
    assert len(served) < 0.8 * len(source) and "//" not in served.replace("://", "")
    assert "export function enqueue(drafts, actor)" in source and "export function enqueue(drafts,actor)" in served
    copy = tmp_path / "pwa"
    shutil.copytree(PWA_DIR, copy)
    (copy / "ui.js").write_text((copy / "ui.js").read_text() + "\n// a comment: not sent to the phone\n")
    with client_for(copy) as client:
        assert precached(client)[0] == version  # the phones' copy is still this version's, byte for byte


def test_gemba_pwa_debug_serves_the_javascript_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMBA_PWA_DEBUG", "1")
    with TestClient(Litestar(route_handlers=[pwa_router()])) as client:
        assert client.get("/app/outbox.js").text == (PWA_DIR / "outbox.js").read_text()
        readable, _ = precached(client)
    with client_for() as client:
        assert precached(client)[0] != readable  # switching back and forth is a new version for the phones


def test_gzip_when_the_client_accepts_it() -> None:
    with client_for() as client:
        answer = client.get("/app/main.js", headers={"accept-encoding": "gzip"})
        assert answer.headers.get("content-encoding") == "gzip"
        assert "registerWorker" in answer.text  # the client decompressed it
        raw = client.get("/app/main.js", headers={"accept-encoding": "identity"})
        assert "content-encoding" not in raw.headers
        assert len(gzip.compress(raw.content)) < len(raw.content)


@pytest.mark.parametrize("size", [192, 512])
def test_the_manifest_makes_the_app_installable(size: int) -> None:
    with client_for() as client:
        manifest = client.get("/app/manifest.webmanifest").json()
        assert manifest["display"] == "standalone" and manifest["start_url"] == "/" and manifest["scope"] == "/"
        assert manifest["theme_color"] and manifest["name"] and manifest["short_name"]
        for purpose in ("any", "maskable"):
            (icon,) = [i for i in manifest["icons"] if i["sizes"] == f"{size}x{size}" and i["purpose"] == purpose]
            image = Image.open(PWA_DIR / icon["src"].removeprefix("/app/"))
            assert image.size == (size, size)
