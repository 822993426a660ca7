"""Kits' pure rules: where Kitted sits in the status order, picks into a kit, and where to pick from (FEFO)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from server.errors import AlreadyKitted, Invalid, KitNotOpen, NotOnKit
from server.rules import kits as rules
from server.rules.kits import Stock, suggest
from server.rules.status import PoState, Status, StatusInputs, derive_status


def test_kitted_sits_after_wip_and_before_on_order_and_unavailable() -> None:
    assert derive_status(StatusInputs(in_open_kit=True)) == Status.kitted
    assert derive_status(StatusInputs(in_open_kit=True, isolated=True)) == Status.kitted
    assert derive_status(StatusInputs(in_open_kit=True, po_state=PoState.open)) == Status.kitted
    assert derive_status(StatusInputs(in_open_kit=True, on_open_run=True)) == Status.wip
    assert derive_status(StatusInputs(in_open_kit=True, installed=True)) == Status.installed
    assert derive_status(StatusInputs(in_open_kit=True, scrapped=True)) == Status.scrapped


def test_a_pick_must_fit_an_open_kits_line() -> None:
    rules.check_on_kit("KIT-0001", "BOLT", (8, 5), 3)
    rules.check_on_kit("KIT-0001", "RESIN", (Decimal("3.5"), Decimal("1.25")), Decimal("2.25"))
    with pytest.raises(NotOnKit) as over:
        rules.check_on_kit("KIT-0001", "BOLT", (8, 5), 4)
    assert (over.value.field, over.value.extra["remaining"]) == ("quantity", 3)
    with pytest.raises(NotOnKit) as missing:
        rules.check_on_kit("KIT-0001", "NUT", None, 1)
    assert missing.value.field == "part"
    with pytest.raises(KitNotOpen):
        rules.check_open("KIT-0001", "completed")
    with pytest.raises(AlreadyKitted) as kitted:
        rules.check_not_kitted("Unit P-1", "KIT-0002", "serial")
    assert kitted.value.extra["kit"] == "KIT-0002"
    rules.check_not_kitted("Unit P-1", None, "serial")
    assert rules.remaining(8, 9) == 0 and rules.remaining(Decimal("3.5"), Decimal("1.5")) == 2


def test_lines_name_each_part_once_and_statuses_are_known() -> None:
    with pytest.raises(Invalid) as twice:
        rules.check_lines(["BOLT", "NUT", "BOLT"])
    assert twice.value.field == "lines[2].part"
    assert rules.check_status_filter("open, completed") == ["open", "completed"]
    with pytest.raises(Invalid):
        rules.check_status_filter("lost")


def test_suggestions_first_expiring_first_then_oldest_until_covered() -> None:
    jan, feb = datetime(2026, 1, 5), datetime(2026, 2, 5)
    candidates = [
        Stock("A", 10, lot="NEW", received=feb),
        Stock("B", Decimal("2.5"), lot="OLD", received=jan),
        Stock("C", 4, lot="SOON", expiry=date(2026, 12, 20), received=feb),
        Stock("D", 4, lot="LATER", expiry=date(2027, 3, 1), received=jan),
    ]
    picked = suggest(candidates, 9)
    assert [(s.location, s.lot, s.quantity) for s in picked] == [("C", "SOON", 4), ("D", "LATER", 4), ("B", "OLD", 1)]
    assert [(s.location, s.quantity) for s in suggest(candidates[:2], Decimal("3.5"))] == [("B", Decimal("2.5")), ("A", 1)]
    assert suggest(candidates, 0) == []
    many = [Stock(f"S{n}", 1, serial=f"P-{n}", received=datetime(2026, 1, n + 1)) for n in range(9)]
    assert [s.serial for s in suggest(many, 20, most=3)] == ["P-0", "P-1", "P-2"]
