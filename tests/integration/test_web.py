"""The phone app as the server serves it: one version of the shell at a time, the service worker at
the root scope, every module import resolvable from the precached files, an installable manifest."""

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


def client_for(directory: Path = PWA_DIR) -> TestClient:
    return TestClient(Litestar(route_handlers=[pwa_router(load_shell(directory))]))


def precached(client: TestClient) -> tuple[str, list[str]]:
    worker = client.get("/sw.js").text
    version = re.search(r"const VERSION = '([0-9a-f]{16})'", worker).group(1)
    shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", worker).group(1))
    return version, shell


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
    (copy / "ui.js").write_text((copy / "ui.js").read_text() + "\n// a new release\n")
    with client_for(copy) as client:
        new, shell = precached(client)
        assert new != old
        assert client.get("/app/ui.js", params={"v": old}).status_code == 404
        assert client.get("/app/ui.js", params={"v": new}).status_code == 200
        assert client.get("/", params={"v": old}).status_code == 404


def test_tests_and_tooling_are_not_part_of_the_shell() -> None:
    _, shell = precached(client_for())
    assert not [path for path in shell if "/tests/" in path or path.endswith("package.json")]


def test_every_module_import_resolves_to_a_precached_file() -> None:
    with client_for() as client:
        _, shell = precached(client)
        for path in [p for p in shell if p.endswith(".js")]:
            source = client.get(path).text
            for target in re.findall(r"""(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]""", source):
                resolved = str(Path(path).parent / target).replace("/./", "/")
                resolved = re.sub(r"/[^/]+/\.\./", "/", resolved)
                assert resolved in shell, f"{path} imports {target} ({resolved}), which is not precached"
        index = client.get("/").text
        for ref in re.findall(r'(?:href|src)="(/app/[^"]+)"', index):
            assert ref in shell, ref


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
