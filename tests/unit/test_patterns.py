"""Serial and lot patterns (server/rules/patterns.py): expansion, widths, and patterns refused with a reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.rules.patterns import PatternError, expand, validate

NOW = datetime(2026, 3, 7, 14, 30, tzinfo=UTC)


def numbers(pattern: str, seqs: range, *, part: str = "CTRL-100", revision: str = "C", now: datetime = NOW) -> list[str]:
    expanded = expand(pattern, part=part, revision=revision, now=now)
    return [expanded.render(seq) for seq in seqs]


@pytest.mark.parametrize(
    ("pattern", "first", "tenth"),
    [
        ("{part}-{yy}{seq:05}", "CTRL-100-2600001", "CTRL-100-2600010"),
        ("LOT-{yyyy}-{seq:04}", "LOT-2026-0001", "LOT-2026-0010"),
        ("{part}{rev}/{yyyy}{mm}{dd}/{seq}", "CTRL-100C/20260307/1", "CTRL-100C/20260307/10"),
        ("{seq:03}-{part}", "001-CTRL-100", "010-CTRL-100"),
        ("SN{seq}", "SN1", "SN10"),
    ],
)
def test_expansion_fills_every_field_and_pads_the_sequence(pattern: str, first: str, tenth: str) -> None:
    assert numbers(pattern, range(1, 11))[0] == first
    assert numbers(pattern, range(1, 11))[-1] == tenth


def test_a_sequence_wider_than_its_padding_keeps_all_its_digits() -> None:
    assert numbers("LOT-{seq:02}", range(99, 102)) == ["LOT-99", "LOT-100", "LOT-101"]


def test_dates_are_zero_padded_so_january_and_november_differ() -> None:
    assert numbers("{yy}{mm}{dd}-{seq}", range(1, 2), now=datetime(2001, 1, 2, tzinfo=UTC)) == ["010102-1"]
    assert numbers("{yy}{mm}{dd}-{seq}", range(1, 2), now=datetime(2011, 11, 22, tzinfo=UTC)) == ["111122-1"]


def test_the_counter_scope_restarts_with_the_year_and_is_shared_within_it() -> None:
    pattern = "LOT-{yyyy}-{seq:04}"
    march = expand(pattern, part="P", revision="", now=NOW)
    december = expand(pattern, part="P", revision="", now=datetime(2026, 12, 31, 23, 59, tzinfo=UTC))
    next_year = expand(pattern, part="P", revision="", now=datetime(2027, 1, 1, tzinfo=UTC))
    assert march.scope == december.scope
    assert next_year.scope != march.scope
    assert next_year.render(1) == "LOT-2027-0001"


def test_text_after_the_sequence_belongs_to_the_scope() -> None:
    a = expand("{seq:03}-{part}", part="A", revision="", now=NOW)
    b = expand("{seq:03}-{part}", part="B", revision="", now=NOW)
    assert a.scope != b.scope


@pytest.mark.parametrize(
    ("pattern", "says"),
    [
        ("LOT-{yyyy}", "exactly one {seq}"),
        ("{seq}-{seq}", "exactly one {seq}"),
        ("LOT-{year}-{seq}", "unknown field {year}"),
        ("LOT-{SEQ}", "unknown field {SEQ}"),
        ("LOT-{}-{seq}", "unknown field {}"),
        ("LOT-{seq:5}", "{seq:5} is not a valid field: write {seq} or {seq:0N}"),
        ("LOT-{seq:0}", "{seq:0} is not a valid field"),
        ("LOT-{seq:x4}", "{seq:x4} is not a valid field"),
        ("LOT-{seq:00}", "the width must be between 1 and 18"),
        ("LOT-{seq:019}", "the width must be between 1 and 18"),
        ("{part:05}-{seq}", "only {seq} takes a width"),
        ("LOT-{seq", "unbalanced braces"),
        ("LOT}-{seq}", "unbalanced braces"),
        ("{{seq}}", "unbalanced braces"),
        (" LOT-{seq}", "cannot start or end with spaces"),
        ("LOT-{seq} ", "cannot start or end with spaces"),
    ],
)
def test_invalid_patterns_are_refused_with_a_reason(pattern: str, says: str) -> None:
    with pytest.raises(PatternError) as refused:
        validate(pattern)
    assert says in str(refused.value)
    with pytest.raises(PatternError):
        expand(pattern, part="P", revision="", now=NOW)


def test_an_unknown_field_message_lists_the_fields_one_can_use() -> None:
    with pytest.raises(PatternError) as refused:
        validate("{week}-{seq}")
    for known in ("{part}", "{rev}", "{yyyy}", "{yy}", "{mm}", "{dd}", "{seq}"):
        assert known in str(refused.value)


@pytest.mark.parametrize("pattern", ["{seq}", "{seq:018}", "A {seq} B", "{part}-{rev}-{yyyy}{mm}{dd}{yy}-{seq:01}"])
def test_valid_patterns_pass(pattern: str) -> None:
    validate(pattern)


# ---- properties ---------------------------------------------------------------------------------
LITERAL = st.text(st.characters(codec="utf-8", exclude_characters="{}\x1f", exclude_categories=("Cs",)), max_size=6)
DATE_FIELD = st.sampled_from(["{yyyy}", "{yy}", "{mm}", "{dd}"])
WIDTH = st.one_of(st.just("{seq}"), st.integers(1, 9).map(lambda n: f"{{seq:0{n}}}"))


@st.composite
def patterns(draw: st.DrawFn) -> str:
    """Literal text and fixed-width fields around exactly one {seq}."""
    before = draw(st.lists(st.one_of(LITERAL, DATE_FIELD, st.just("{part}"), st.just("{rev}")), max_size=4))
    after = draw(st.lists(st.one_of(LITERAL, DATE_FIELD), max_size=3))
    return "".join([*before, draw(WIDTH), *after]).strip() or "{seq}"


MOMENTS = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2199, 12, 31), timezones=st.just(UTC))


@given(patterns(), st.lists(st.integers(0, 10**12), min_size=2, max_size=20, unique=True))
def test_distinct_sequence_values_render_distinct_numbers(pattern: str, seqs: list[int]) -> None:
    expanded = expand(pattern, part="PN-7", revision="B", now=NOW)
    rendered = [expanded.render(seq) for seq in seqs]
    assert len(set(rendered)) == len(seqs)
    assert all("{" not in number and "}" not in number for number in rendered)


@given(patterns(), MOMENTS, MOMENTS, st.integers(0, 10**6), st.integers(0, 10**6))
def test_a_number_never_repeats_across_counter_scopes_of_one_part(
    pattern: str, when_a: datetime, when_b: datetime, seq_a: int, seq_b: int
) -> None:
    """Each scope (say, each year) has its own counter; numbers of one part's pattern must still never
    collide across scopes: date fields are fixed-width, so the text around {seq} pins it down."""
    a = expand(pattern, part="PN-7", revision="B", now=when_a)
    b = expand(pattern, part="PN-7", revision="B", now=when_b)
    if (a.scope, seq_a) != (b.scope, seq_b):
        assert a.render(seq_a) != b.render(seq_b)
