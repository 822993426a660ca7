"""The phone speaks the browser's language (navigator.languages; English when no catalogue fits), offline
too: only that language's catalogue is fetched at start, and the service worker has it cached."""

from __future__ import annotations

from typing import Any


def test_a_german_phone_works_in_german_offline_and_a_french_one_in_english(phones: Any, uid: str) -> None:
    german = phones("olga", locale="de-DE")
    page = german.page
    assert page.get_attribute("html", "lang") == "de"
    assert page.inner_text("nav.actions a[data-action=receive]") == "Eingang"
    assert page.inner_text("#syncchip") == "Synchron" and page.inner_text("#prompt") == "Irgendetwas scannen, um zu sehen, was es ist"
    fetched = page.evaluate("performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.includes('/locales/'))")
    assert [name.rsplit("/", 1)[1] for name in fetched] == ["de.json"]  # the English one is not loaded

    german.offline()
    page.reload()
    page.wait_for_selector("html[data-ready='1']")
    assert page.get_attribute("html", "lang") == "de" and page.inner_text("#net") == "OFFLINE"
    german.receive("PUMP-A", "DOCK-1", serial=f"DE-{uid}")
    page.wait_for_selector("#toast.show")
    assert page.inner_text("#toast") == f"Vorgemerkt: DE-{uid} nach DOCK-1 eingegangen"
    assert page.inner_text("#syncchip").startswith("1 wartend")
    german.go("sync")
    page.wait_for_selector("dd[data-fact='waiting']")
    assert page.inner_text("dd[data-fact='waiting']") == "1 wartend" and page.inner_text("section.sync h2") == "Synchronisierung"

    french = phones("olga", locale="fr-FR")
    assert french.page.get_attribute("html", "lang") == "en"
    assert french.page.inner_text("nav.actions a[data-action=receive]") == "Receive"
