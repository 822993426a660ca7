"""GS1 element strings: real examples, every input form, malformed ones, and a round trip."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.scan import gs1, wedge

GS = "\x1d"
TODAY = date(2025, 6, 1)


def values(message: gs1.GS1Message) -> dict[str, object]:
    return {element.ai: element.value for element in message.elements}


def test_a_gs1_128_label_with_measures_prices_and_a_postal_code():
    # PeterBrockfeld/BarcodeParser, spec/BarcodeParserSpec.js: GS1-128 with FNC1 as GS.
    message = gs1.parse(f"]C101040123456789011715012910ABC123{GS}39329714711{GS}310300052539224711{GS}42127649716", TODAY)
    assert message is not None and message.ok and message.symbology == "]C1"
    assert values(message) == {
        "01": "04012345678901",
        "17": date(2015, 1, 29),
        "10": "ABC123",
        "3932": ("971", Decimal("47.11")),
        "3103": Decimal("0.525"),
        "3922": Decimal("47.11"),
        "421": "27649716",
    }


def test_fixed_length_fields_need_no_separator():
    # jodal/biip documentation: a logistic unit's GS1-128, GTIN + best before + batch, no FNC1 inside.
    message = gs1.parse("010703206980498815210526100329", TODAY)
    assert message is not None and not message.explicit
    assert message.hri() == "(01)07032069804988(15)210526(10)0329"
    assert message.get("15") == date(2021, 5, 26)


def test_an_sscc_in_human_readable_form():
    # jodal/biip documentation: the SSCC of a pallet.
    message = gs1.parse("(00)157035381410375177", TODAY)
    assert message is not None and message.ok and message.get("00") == "157035381410375177"


@pytest.mark.parametrize(
    "text",
    [
        f"]d2010950600013435217251231{GS}10LOT-7{GS}21SER9",
        f"]Q3010950600013435217251231{GS}10LOT-7{GS}21SER9",
        f"]e0010950600013435217251231{GS}10LOT-7{GS}21SER9",
        f"{GS}010950600013435217251231{GS}10LOT-7{GS}21SER9",
        "010950600013435217251231{GS}10LOT-7<GS>21SER9",  # keyboard-wedge spellings
        "]C1010950600013435217251231^]10LOT-7\\x1d21SER9",
        "(01)09506000134352(17)251231(10)LOT-7(21)SER9",
        f"]C101095060001343521725123110LOT-7{GS}21SER9",  # variable field in the middle needs the GS only after it
    ],
)
def test_every_input_form_reads_the_same(text):
    message = gs1.parse(text, TODAY)
    assert message is not None and message.ok, message
    assert values(message) == {"01": "09506000134352", "17": date(2025, 12, 31), "10": "LOT-7", "21": "SER9"}
    assert message.gtin == "09506000134352"


def test_day_00_is_the_last_day_of_the_month_and_the_century_follows_gs1():
    assert gs1.gs1_date("240200", TODAY) == date(2024, 2, 29)
    assert gs1.gs1_date("991231", TODAY) == date(1999, 12, 31)  # 74 years back
    assert gs1.gs1_date("740101", TODAY) == date(2074, 1, 1)  # 49 years ahead
    assert gs1.gs1_date("751301", TODAY) is None
    assert gs1.gs1_date("250231", TODAY) is None


def test_counts_and_orders():
    message = gs1.parse(f"(02)19506000134359(37)24(400)PO-4711", TODAY)
    assert message is not None and message.ok
    assert (message.gtin, message.quantity, message.get("400")) == ("19506000134359", 24, "PO-4711")
    assert gs1.parse(f"]C10109506000134352{GS}3012", TODAY).quantity == 12
    assert values(gs1.parse("(240)ADD-1(241)CUST-PN(250)S2", TODAY)) == {"240": "ADD-1", "241": "CUST-PN", "250": "S2"}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("]C10109506000134351", "check digit"),
        ("(00)157035381410375178", "check digit"),
        ("]C10109506000", "truncated"),
        ("(01)0950600013435", "wrong length"),
        ("]C1010950600013435217251399", "not a date"),
        ("]C1050950600013435", "unknown application identifier"),
        ("(01)09506000134352(99)", "wrong length"),
        ("]C13712AB", "digits"),
        ("(01)09506000134352junk", "wrong length"),
        ("(01)09506000134352)(10)X", "unreadable"),
        (f"]C110{'X' * 21}", "longer than 20"),
        ("]d2", "no element strings"),
    ],
)
def test_malformed_marked_strings_are_answered_with_errors_not_exceptions(text, says):
    message = gs1.parse(text, TODAY)
    assert message is not None and not message.ok
    assert any(says in error for error in message.errors), message.errors


@pytest.mark.parametrize(
    "text",
    ["", "hello", "9506000134352", "1234", "0109506000134351", "]C0ABC", "]d1[)>", "U:SN-1", "(hello)", "01"],
)
def test_unmarked_text_is_gs1_only_when_it_reads_perfectly(text):
    assert gs1.parse(text, TODAY) is None


@pytest.mark.parametrize(
    ("text", "gtin"),
    [("9506000134352", "9506000134352"), ("4006381333931", "4006381333931"), ("036000291452", "036000291452"),
     ("96385074", "96385074"), ("09506000134352", "09506000134352"), ("9506000134353", None), ("12345", None),
     ("95O6000134352", None)],
)
def test_bare_gtins_need_a_valid_check_digit(text, gtin):
    assert gs1.parse_gtin(text) == gtin


def test_gtin_forms_drop_padding_zeros():
    assert gs1.gtin_forms("00036000291452") == ["00036000291452", "0036000291452", "036000291452"]
    assert gs1.gtin_forms("19506000134359") == ["19506000134359"]


# GS1 character set 82 (General Specifications 7.11), minus the wedge spellings of GS such as `<GS>`.
CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
cset82 = st.text(st.sampled_from(CSET82), min_size=1, max_size=20).filter(lambda v: not wedge.has_spellings(v))


@given(
    gtin=st.from_regex(r"\A[0-9]{13}\Z").map(lambda d: d + str(gs1.check_digit(d))),
    lot=cset82,
    serial=cset82,
    expiry=st.dates(min_value=date(2000, 1, 1), max_value=date(2074, 12, 31)),
    order=st.permutations(["01", "10", "17", "21"]),
)
def test_render_then_parse_round_trips_in_any_order(gtin, lot, serial, expiry, order):
    data = {"01": gtin, "10": lot, "17": expiry.strftime("%y%m%d"), "21": serial}
    message = gs1.parse("]C1" + gs1.render([(ai, data[ai]) for ai in order]), TODAY)
    assert message is not None and message.ok, message.errors
    assert values(message) == {"01": gtin, "10": lot, "17": expiry, "21": serial}
    assert [e.ai for e in message.elements] == list(order)


@given(st.text(max_size=60))
def test_parse_never_raises(text):
    gs1.parse(text, TODAY)
    gs1.parse("]C1" + text, TODAY)
    gs1.parse("(01)" + text, TODAY)
