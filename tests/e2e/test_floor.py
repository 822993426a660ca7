"""For the floor: every screen fits 360 px one-handed with targets of at least 48 px, and a supplier
label scanned in Receive fills what it carries (offline too)."""

from __future__ import annotations

from typing import Any

import pytest

SCREENS = ["", "receive", "move", "install", "uninstall", "remove", "scrap", "isolate", "count", "sync", "item?code=PUMP-0001",
           "find?q=M3", "item?code=B:STORES", "item?code=P:SCREW-M3"]
TARGETS = """() => [...document.querySelectorAll('button, a, input, select')]
  .filter((el) => el.offsetParent !== null && !el.closest('#toast'))
  .map((el) => { const r = el.getBoundingClientRect(); return { what: el.outerHTML.slice(0, 80), w: r.width, h: r.height }; })
  .filter((t) => t.h < 48 || t.w < 48)"""


@pytest.fixture
def narrow_phone(browser: Any, server: Any) -> Any:
    from tests.e2e.conftest import PHONE, Phone

    context = browser.new_context(**{**PHONE, "viewport": {"width": 360, "height": 740}}, service_workers="allow")
    phone = Phone(context, server).open().sign_in("olga")
    yield phone
    context.close()


def test_every_screen_fits_360_px_with_big_targets(narrow_phone: Any) -> None:
    page = narrow_phone.page
    for screen in SCREENS:
        narrow_phone.go(screen)
        page.wait_for_selector({"find": "div.results li", "item": "article.item nav.actions"}.get(screen.split("?")[0], "#view > *"))
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, f"#{screen} scrolls sideways"
        small = page.evaluate(TARGETS)
        assert not small, f"#/{screen}: targets under 48 px: {small}"


def filled(phone: Any, name: str, value: str) -> None:
    phone.page.wait_for_function("([n, v]) => document.querySelector(`input[name=${n}]`).value === v", arg=[name, value])


def test_a_supplier_label_fills_the_receive_form_offline(phones: Any, uid: str) -> None:
    phone = phones("olga")
    phone.offline()
    phone.go("receive")
    phone.scan(f"(240)PUMP-A(21)LBL-{uid}")  # a GS1 label: additional product id and serial
    phone.page.wait_for_selector("p.tracking:has-text('tracked by serial')")
    filled(phone, "part", "PUMP-A")
    filled(phone, "serial", f"LBL-{uid}")
    phone.scan("DOCK-1")
    filled(phone, "location", "DOCK-1")
    phone.page.click("form.flow button.primary")
    phone.wait_queued(1)


def test_a_label_scanned_into_a_field_is_read_as_a_label(phones: Any, uid: str) -> None:
    phone = phones("olga")
    phone.offline()
    phone.go("receive")
    phone.page.click("input[name=part]")  # the focus is in a field when the wedge scanner fires
    phone.wedge(f"(240)PUMP-A(21)WEDGE-{uid}")
    filled(phone, "part", "PUMP-A")
    filled(phone, "serial", f"WEDGE-{uid}")
