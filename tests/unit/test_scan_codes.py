"""Our own label format: every code round-trips, every text names at most one thing, and it is never
mistaken for (or mistakes) a GS1, ISO/IEC 15434 or EAN code."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.scan import codes, gs1, iso15434
from server.scan.codes import LocationCode, LotCode, PartCode, UnitCode

values = st.text(min_size=1, max_size=60)
own_codes = st.one_of(
    st.builds(UnitCode, values),
    st.builds(LotCode, values, values),
    st.builds(PartCode, values),
    st.builds(LocationCode, values),
)


@given(own_codes)
def test_parse_of_render_is_the_same_entity(code):
    assert codes.parse(codes.render(code)) == code


@given(own_codes)
def test_rendered_text_is_printable_ascii_for_any_symbology(code):
    text = codes.render(code)
    assert text.isascii() and text.isprintable() and " " not in text


@given(st.text(max_size=40))
def test_any_text_is_ours_only_in_its_one_canonical_spelling(text):
    parsed = codes.parse(text)
    assert parsed is None or codes.render(parsed) == text


@given(own_codes)
def test_our_codes_are_never_read_as_gs1_or_iso_15434(code):
    text = codes.render(code)
    assert gs1.parse(text) is None
    assert iso15434.parse(text) is None
    assert gs1.parse_gtin(text) is None


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (UnitCode("SN-24-00017"), "U:SN-24-00017"),
        (LotCode("RES-10K", "LOT-2024-0001"), "L:RES-10K/LOT-2024-0001"),
        (LotCode("A/B", "C/D"), "L:A%2FB/C/D"),  # `/` escaped in the part only: the first `/` splits
        (PartCode("RES 10K"), "P:RES%2010K"),
        (PartCode("100%"), "P:100%25"),
        (LocationCode("PLANT-1/STORES/CAGE-A"), "B:PLANT-1/STORES/CAGE-A"),
        (LocationCode("Lager-Süd"), "B:Lager-S%C3%BCd"),
        (UnitCode("序列-1"), "U:%E5%BA%8F%E5%88%97-1"),
        (UnitCode("a\x1db"), "U:a%1Db"),
    ],
)
def test_documented_examples(code, text):
    assert codes.render(code) == text
    assert codes.parse(text) == code


@pytest.mark.parametrize(
    "text",
    [
        "", "U:", "U", "X:ABC", "u:SN-1", "L:PART", "L:/LOT", "L:PART/", "U:SN 1", "U:%zz", "U:%e5",
        "U:%41", "U:%C3", "P:%", "B:a%2", "U:SN-1\n", "0109506000134352", "[)>\x1e06\x1dP1",
    ],
)
def test_anything_else_is_not_ours(text):
    assert codes.parse(text) is None


def test_an_empty_value_cannot_be_rendered():
    with pytest.raises(ValueError):
        codes.render(LotCode("PART", ""))
