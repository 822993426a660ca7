"""Cycle counting's pure rules: ABC classes with movement, next count dates, major discrepancies, accuracy,
causes from the SOP's table, and the accuracy chart."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from server.counts.causes import Facts, Moved, UnitNow, causes
from server.counts.chart import accuracy_svg
from server.counts.rules import (
    NO_LINES, Accuracy, LocationStats, Thresholds, classify, discrepancy_percent, due_state, fast_threshold, is_major,
    next_count,
)
from server.counts.schemas import AccuracyPoint

WHEN = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def test_abc_by_cumulative_value_and_one_class_up_when_fast() -> None:
    stats = [
        LocationStats("vault", "VAULT", D(10_000), 0), LocationStats("s1", "S1", D(910), 0),
        LocationStats("s2", "S2", D(425), 40), LocationStats("line", "LINE", D(400), 31), LocationStats("empty", "E", D(0), 0),
    ]
    found = classify(stats, window_days=90)
    assert {key: c.cls for key, c in found.items()} == {"vault": "A", "s1": "B", "s2": "A", "line": "B", "empty": "C"}
    assert found["s2"].value_class == "B" and found["s2"].fast and "one class up" in found["s2"].why
    assert fast_threshold(90) == 30 and fast_threshold(9) == 3 and fast_threshold(1) == 1
    assert classify([]) == {}


@given(st.lists(st.tuples(st.decimals(0, 10**12, places=6), st.integers(0, 100)), min_size=1, max_size=30))
def test_every_location_gets_one_class_and_the_most_valuable_is_never_below_the_others(rows: list[tuple[D, int]]) -> None:
    stats = [LocationStats(i, f"L{i:02d}", value, 0) for i, (value, _) in enumerate(rows)]
    found = classify(stats)
    assert set(found) == {s.key for s in stats}
    order = "ABC"
    top = max(stats, key=lambda s: (s.value, -int(s.code[1:])))
    assert all(order.index(found[top.key].cls) <= order.index(c.cls) for c in found.values())


def test_next_count_and_due_states() -> None:
    today = date(2026, 11, 25)
    assert next_count(None, 30, today) == today  # never counted: now
    assert next_count(date(2026, 10, 1), 30, today) == date(2026, 10, 31)
    assert due_state(date(2026, 11, 24), today) == "overdue"
    assert due_state(today, today) == "due" and due_state(date(2026, 12, 2), today) == "due"
    assert due_state(date(2026, 12, 3), today) == "scheduled"


def test_major_by_value_or_percentage_of_the_larger_of_expected_and_counted() -> None:
    t = Thresholds(value=D(500), percent=D(20))  # the value is the difference's: |difference| × unit cost
    assert not is_major(40, 37, D("7.50"), t)  # 7.5 %, 7.50
    assert is_major(10, 7, D("7.50"), t)  # 30 %
    assert is_major(1000, 600, D(400), t)  # worth 400 ... and 40 %
    assert is_major(1000, 900, D(500), t) and not is_major(1000, 900, D("499.999999"), t)  # 10 %: worth 500 / less
    assert is_major(1000, 900, D(-500), t)  # a signed value counts by its size
    assert is_major(1, 0, D(0), t) and is_major(0, 3, D(0), t)  # a missing serial, a find: 100 %
    assert not is_major(5, 5, D(10**9), t)
    assert is_major(D("0.5"), D("0.4"), D(0), t) and not is_major(D("0.5"), D("0.400001"), D(0), t)  # 20 % exactly, or just below
    assert discrepancy_percent(0, 0) == 0 and discrepancy_percent(40, 37) == D("7.5")


def test_accuracy_of_lines_and_value() -> None:
    a = Accuracy(4, 2, D(1300), D("407.5"))
    assert a.line_accuracy == 0.5 and a.value_accuracy == float(1 - D("407.5") / 1300)
    assert (a + Accuracy(1, 1, D(0), D(0))).lines_counted == 5
    assert (a + Accuracy(1, 0, D("0.1"), D("0.2"))).value_expected == D("1300.1")  # money adds exactly
    assert NO_LINES.line_accuracy is None and NO_LINES.value_accuracy is None
    assert Accuracy(2, 2, D(0), D(0)).value_accuracy == 1.0 and Accuracy(2, 1, D(0), D(3)).value_accuracy == 0.0
    assert Accuracy(1, 0, D(10), D(50)).value_accuracy == 0.0  # never below 0


def test_lines_not_counted_count_against_accuracy() -> None:
    one_of_four = Accuracy(1, 1, D(400), D(0), lines_not_counted=3, value_not_counted=D(510))
    assert one_of_four.line_accuracy == 0.25  # not 1.0
    assert one_of_four.value_accuracy == float(1 - D(510) / 910)
    assert Accuracy(0, 0, D(0), D(0), lines_not_counted=2).line_accuracy == 0.0
    total = one_of_four + Accuracy(3, 3, D(30), D(0))
    assert (total.lines_not_counted, total.line_accuracy) == (3, 4 / 7)


def test_causes_from_the_data_then_the_sop() -> None:
    built = Moved("Assemble", WHEN, "olga", 4, from_code="S1", parent_serial="ASM-9")
    short = causes(Facts(location="S1", tracking="lot", expected=36, counted=30, part="SEAL", isolated_here=3, recent=[built]))
    assert [c["code"] for c in short] == ["not_consumed", "wrong_status"] and "ASM-9" in short[0]["text"]
    elsewhere = causes(Facts(location="S2", tracking="serial", expected=0, counted=1,
                             unit=UnitNow("LINE", None, False, 1, False), last_move=Moved("Move", WHEN, "bob", 1)))
    assert [c["code"] for c in elsewhere] == ["moved_not_digitally"] and "Recorded at LINE" in elsewhere[0]["text"]
    assert causes(Facts(location="S2", tracking="serial", expected=0, counted=1))[0]["code"] == "not_received"
    sop = causes(Facts(location="S1", tracking="untracked", expected=10, counted=9))
    assert len(sop) == 4 and not any(c["evidence"] for c in sop)
    assert causes(Facts(location="S1", tracking="untracked", expected=9, counted=9)) == []


def test_the_chart_draws_a_point_per_count_and_escapes_names() -> None:
    point = AccuracyPoint(count_id="01a2" + "0" * 28, name="<Cage & co>", closed_at=WHEN, location=None, lines_counted=3,
                          lines_accurate=1, line_accuracy=1 / 3, value_expected="1500.00", value_difference="707.50",
                          value_accuracy=0.528)
    svg = accuracy_svg([point, point])
    assert svg.startswith("<svg") and svg.count('data-series="line_accuracy"') == 2 and "<polyline" in svg
    assert "&lt;Cage &amp; co&gt;" in svg and "<Cage" not in svg
    assert "No closed counts yet" in accuracy_svg([])
