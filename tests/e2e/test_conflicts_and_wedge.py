"""Two phones receive the same serial offline: one is applied, the other told why not, in plain words.
A keyboard-wedge scanner (fast keystrokes ending in Enter) works with the network gone."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def test_the_same_serial_received_on_two_phones_offline(phones: Any, server: Any, artifacts: Path, uid: str) -> None:
    serial = f"DUP-{uid}"
    first, second = phones("olga"), phones("oleg")
    for phone in (first, second):
        phone.offline()
        phone.receive("PUMP-A", "DOCK-1", serial=serial)
        assert phone.pending() == 1

    first.offline(False)
    first.wait_synced()
    second.offline(False)
    second.wait_synced()

    assert first.outcomes()[0].splitlines()[1] == "Applied"
    rejected = second.outcomes()[0]
    assert f"Rejected: Serial {serial} already exists" in rejected, rejected  # what happened, in words
    second.screenshot(artifacts, "08-sync-rejected")
    (unit,) = server.inventory(serial=serial)
    assert unit["location"] == "DOCK-1"

    # the rejected phone's own view went back to the server's truth: one unit, not a phantom
    second.go("")
    second.scan(serial)
    second.page.wait_for_selector("article.item[data-kind='unit']")
    assert "not synced" not in second.page.inner_text("article.item")


def test_a_keyboard_wedge_scan_works_offline(phones: Any, artifacts: Path) -> None:
    phone = phones("olga")
    phone.offline()
    phone.page.evaluate("document.activeElement && document.activeElement.blur()")
    phone.wedge("PUMP-0001")  # a scanner types fast and ends with Enter
    phone.page.wait_for_selector("article.item[data-kind='unit']")
    text = phone.page.inner_text("article.item")
    assert "PUMP-0001" in text and "STORES" in text and "AVAILABLE" in text.upper()

    # slow typing outside a field is not a scan
    phone.go("")
    phone.page.evaluate("document.activeElement && document.activeElement.blur()")
    phone.keys("PUMP-0001", 150, enter=True)
    phone.page.wait_for_timeout(300)
    assert phone.page.query_selector("article.item") is None


def test_sign_in_screen(phones: Any, artifacts: Path) -> None:
    phone = phones(None)
    phone.page.wait_for_selector("form.signin")
    phone.screenshot(artifacts, "00-sign-in")
