"""ISO/IEC 15434 format 06 (ECIA data identifiers) on real DigiKey and Mouser label contents, as a
scanner delivers them and as keyboard wedges mangle them; malformed messages; and the pure reading
that turns a message into receive-screen fields."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.scan import iso15434, reading

GS, RS, EOT = "\x1d", "\x1e", "\x04"

# inventree/InvenTree, src/backend/InvenTree/plugin/builtin/suppliers/test_supplier_barcodes.py
DIGIKEY = (
    f"[)>{RS}06{GS}P296-LM358BIDDFRCT-ND{GS}1PLM358BIDDFR{GS}K{GS}1K72991337{GS}10K85781337{GS}11K1{GS}4LPH"
    f"{GS}Q10{GS}11ZPICK{GS}12Z15221337{GS}13Z361337{GS}20Z" + "0" * 176
)
DIGIKEY_30P = f"[)>{RS}06{GS}30P296-LM358BIDDFRCT-ND{GS}K{GS}1K72991337{GS}10K85781337{GS}11K1{GS}4LPH{GS}Q10"
MOUSER = f"[)>{RS}06{GS}KP0-1337{GS}14K011{GS}1PMC34063ADR{GS}Q3{GS}11K073121337{GS}4LMX{GS}1VTI{RS}{EOT}"
MOUSER_OLD = f">[)>06{GS}K21421337{GS}14K033{GS}1PLDK320ADU33R{GS}Q32{GS}11K060931337{GS}4LCN{GS}1VSTMicro"
# partmanager/barcode-decoder, tests/test_mouser.py and tests/test_digi_key.py: typed by a keyboard
# wedge (a Gryphon D432) that sends `]` for GS, `^` for RS and `d` for EOT, and upsets some letters' case.
MOUSER_WEDGE = "[)>^06]K26161557]14K054]1PPESD3V3S2UT,215]q40]11K069009053]4LCN]1VNexperia^d"
MOUSER_WEDGE_OLD = ">[)>06]K21105000]14K004]1PDR331-513AE]q4]11K060439500]4LCN]1VBourns"
MOUSER_WEDGE_NO_RS = "[)>06]K20070071]14K019]1PERJ-UP3F3302V]q10]11K058646908]4LJP]1VPanasonic"
DIGIKEY_WEDGE = (
    "]d1[)>^06]pSAM14954CT-ND]1PLSHM-110-01-L-DH-A-S-K-TR]kPO22000140]1K74797379]10K88169536]11K1]4LCR]Q3"
    "]11ZPICK]12Z9597381]13Z213254]20Z" + "0" * 60
)
DIGIKEY_WEDGE_LOT = (
    "[)>^06]j88EFC224.BD844ABB.8A542FF7.7F3C82260D83]P455-2290-ND]1P03ZR-8M-P]9D2017.11]14Z171101]1T278565"
    "]4LCN]11ZPREPACK]15Z1.0.1]12Z1678834]q50]13Z0]20Z0000"
)


def fields_of(text: str) -> dict[str, object]:
    return {k: v for k, v in reading.read(text).fields.items() if v is not None}


def test_digikey():
    message = iso15434.parse(DIGIKEY)
    assert message is not None and message.ok and message.format == "06"
    assert message.first("P") == "296-LM358BIDDFRCT-ND"
    assert message.first("K") is None  # present but empty
    assert message.warnings == ("no trailer (RS EOT)",)
    assert fields_of(DIGIKEY) == {
        "supplier_part": "296-LM358BIDDFRCT-ND", "manufacturer_part": "LM358BIDDFR", "quantity": 10, "country": "PH",
    }
    assert reading.read(DIGIKEY).part_candidates == ["296-LM358BIDDFRCT-ND", "LM358BIDDFR"]


def test_digikey_with_30p_instead_of_p():
    assert fields_of(DIGIKEY_30P)["supplier_part"] == "296-LM358BIDDFRCT-ND"


def test_mouser_with_trailer():
    message = iso15434.parse(MOUSER)
    assert message is not None and message.ok and message.warnings == ()
    assert fields_of(MOUSER) == {
        "manufacturer_part": "MC34063ADR", "manufacturer": "TI", "quantity": 3, "po": "P0-1337", "po_line": "011",
        "country": "MX",
    }


def test_old_mouser_header():
    message = iso15434.parse(MOUSER_OLD)
    assert message is not None and message.ok
    assert "old Mouser header >[)>06" in message.warnings
    assert fields_of(MOUSER_OLD)["manufacturer_part"] == "LDK320ADU33R"
    assert message.quantity == 32


@pytest.mark.parametrize(
    ("text", "part", "quantity", "last"),
    [
        (MOUSER_WEDGE, "PESD3V3S2UT,215", 40, ("1V", "Nexperia")),
        (MOUSER_WEDGE_OLD, "DR331-513AE", 4, ("1V", "Bourns")),
        (MOUSER_WEDGE_NO_RS, "ERJ-UP3F3302V", 10, ("1V", "Panasonic")),
        (DIGIKEY_WEDGE, "LSHM-110-01-L-DH-A-S-K-TR", 3, ("20Z", "0" * 60)),
    ],
)
def test_keyboard_wedge_substitutes_are_read_from_the_header(text, part, quantity, last):
    message = iso15434.parse(text)
    assert message is not None and message.ok, message.errors
    assert message.first("1P") == part
    assert message.quantity == quantity
    assert (message.fields[-1].di, message.fields[-1].value) == last
    assert any("']'" in warning for warning in message.warnings)


def test_a_wedge_digikey_label_with_lot_and_date_code():
    found = fields_of(DIGIKEY_WEDGE_LOT)
    assert found == {
        "supplier_part": "455-2290-ND", "manufacturer_part": "03ZR-8M-P", "quantity": 50, "lot": "278565",
        "date_code": "2017.11", "country": "CN",
    }
    assert iso15434.parse(DIGIKEY_WEDGE_LOT).first("J") == "88EFC224.BD844ABB.8A542FF7.7F3C82260D83"


@pytest.mark.parametrize(
    "text",
    [
        "[)>{RS}06{GS}P123{GS}1PABC{GS}Q10{RS}{EOT}",
        "[)><RS>06<GS>P123<GS>1PABC<GS>Q10<RS><EOT>",
        "[)>\\x1e06\\x1dP123\\x1d1PABC\\x1dQ10\\x1e\\x04",
        "[)>^^06^]P123^]1PABC^]Q10^^^D",
        "[)>\u241e06\u241dP123\u241d1PABC\u241dQ10\u241e\u2404",
        "[)>|06|P123|1PABC|Q10|",
        "[)>~06~P123~1PABC~Q10",
        f"]Q1[)>{RS}06{GS}P123{GS}1PABC{GS}Q10{RS}{EOT}",
        f"[)>{RS}06{GS}P123{GS}1PABC{GS}Q10{EOT}",
    ],
)
def test_every_documented_separator_spelling(text):
    message = iso15434.parse(text)
    assert message is not None and message.ok, message.errors
    assert [(f.di, f.value) for f in message.fields] == [("P", "123"), ("1P", "ABC"), ("Q", "10")]


def test_serial_expiry_and_unknown_identifiers_are_kept():
    message = iso15434.parse(f"[)>{RS}06{GS}SSN-77{GS}14D20261231{GS}16D20240101{GS}99XFOO{RS}{EOT}")
    assert message is not None and message.ok
    assert message.expiry == date(2026, 12, 31)
    assert [f.name for f in message.fields][-1] == "unknown data identifier"
    assert fields_of(f"[)>{RS}06{GS}SSN-77{GS}14D20261231{RS}{EOT}") == {"serial": "SN-77", "expiry": date(2026, 12, 31)}


def test_format_05_carries_gs1():
    message = iso15434.parse(f"[)>{RS}05{GS}0109506000134352{GS}10LOT-1{RS}{EOT}")
    assert message is not None and message.ok and message.gs1 is not None
    assert fields_of(f"[)>{RS}05{GS}0109506000134352{GS}10LOT-1{RS}{EOT}") == {"gtin": "09506000134352", "lot": "LOT-1"}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[)>", "header"),
        ("[)>06P123Q5", "header"),  # every separator lost: nothing can be split
        (f"[)>{RS}06", "header"),
        (f"[)>{RS}06{GS}{RS}{EOT}", "no data fields"),
        (f"[)>{RS}06{GS}123{GS}Q5", "no data identifier"),
        (f"[)>{RS}12{GS}P1{RS}{EOT}", "format 12"),
        (f"[)>{RS}05{GS}ABC{RS}{EOT}", "unknown application identifier"),
    ],
)
def test_malformed_messages_are_answered_with_errors(text, says):
    message = iso15434.parse(text)
    assert message is not None and not message.ok
    assert any(says in error for error in message.errors), message.errors


@pytest.mark.parametrize("text", ["", "P123", "[)", "hello [)>06", "0109506000134352", "U:SN-1"])
def test_text_without_the_header_is_not_a_message(text):
    assert iso15434.parse(text) is None


def test_a_quantity_that_is_not_a_whole_number_is_a_warning_not_a_number():
    read = reading.read(f"[)>{RS}06{GS}P1{GS}Q2.5{RS}{EOT}")
    assert read.fields.get("quantity") is None
    assert any("2.5" in warning for warning in read.warnings)


@given(st.text(max_size=80))
def test_parse_never_raises(text):
    iso15434.parse(text)
    iso15434.parse(f"[)>{RS}06{GS}" + text)
    iso15434.parse("[)>|06|" + text)
    reading.read(text)
