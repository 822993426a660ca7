"""A new version deployed while phones have the old one: the app updates itself cleanly — the new
version's files are all cached before it takes over, the old cache is deleted, nothing queued is lost."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

CACHED_VERSIONS = """caches.keys().then(async (names) => Promise.all(names.map(async (name) =>
  [name, (await (await caches.open(name)).keys()).map((r) => new URL(r.url).search)])))"""


def test_a_deploy_updates_the_app_without_mixing_versions(phones: Any, server: Any, uid: str) -> None:
    if server.log is None:
        pytest.skip("GEMBA_E2E_URL: this test deploys a new version, so it needs a server it started itself")
    phone = phones("olga")
    old = phone.page.get_attribute("html", "data-version")
    phone.offline()
    phone.receive("PUMP-A", "DOCK-1", serial=f"UPD-{uid}")  # queued work across the update
    phone.offline(False)
    phone.wait_synced()
    phone.go("")

    vendor_before = [name for name in dict(phone.page.evaluate(CACHED_VERSIONS)) if name.startswith("gemba-vendor-")]
    build = Path(server.env["GEMBA_PWA_DIR"])  # deploy a new release: one file changes
    words = build / "locales" / "en.json"  # the home screen's heading, in the English catalogue
    words.write_text(words.read_text(encoding="utf-8").replace('"Recent work"', '"Recent work today"'), encoding="utf-8")
    server.restart()

    phone.page.reload()  # still the old version (from its cache), which finds the new one
    phone.page.wait_for_selector("#banner:has-text('A new version of the app is ready')")
    assert phone.page.get_attribute("html", "data-version") == old
    phone.page.click("#banner button")
    phone.page.wait_for_function(f"document.documentElement.dataset.version !== '{old}' && document.documentElement.dataset.ready === '1'")
    new = phone.page.get_attribute("html", "data-version")
    phone.page.wait_for_selector("h2:has-text('Recent work today')")

    caches = dict(phone.page.evaluate(CACHED_VERSIONS))
    vendor = [name for name in caches if name.startswith("gemba-vendor-")]
    assert sorted(caches) == sorted([f"gemba-shell-{new}", *vendor]) and len(vendor) == 1  # the old version's cache is gone
    assert caches[f"gemba-shell-{new}"] and set(caches[f"gemba-shell-{new}"]) == {f"?v={new}"}
    assert vendor == vendor_before and caches[vendor[0]]  # the barcode reader, unchanged, keeps its cache
    assert phone.page.evaluate("import('/app/outbox.js').then(async (o) => (await o.recent(10)).length)") == 1

    phone.offline()  # and the new version works offline
    phone.page.reload()
    phone.page.wait_for_selector("h2:has-text('Recent work today')")
