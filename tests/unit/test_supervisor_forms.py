"""The supervisor pages' pure parts: every reason in plain words, and an op's args through the approve
form and back (typed by the op's Struct, empty inputs left out, unchanged args are no correction)."""

from __future__ import annotations

import pytest

from server.errors import OP_REASONS, Invalid
from server.supervisor.words import REASON_WORDS, op_summary, reason_words
from sync.decide import OUTCOMES
from sync.errors import SYNC_REASONS
from sync.forms import arg_fields, args_from_form, correction


@pytest.mark.parametrize("reason", sorted({*OUTCOMES, *OP_REASONS, *SYNC_REASONS}))
def test_every_reason_has_plain_words(reason: str) -> None:
    assert reason in REASON_WORDS
    assert reason_words(reason)[0].isupper() and "_" not in reason_words(reason)


def test_duplicate_serial_in_plain_words() -> None:
    assert reason_words("duplicate_serial") == "Another unit with this serial already exists"


def test_args_through_the_form_and_back() -> None:
    sent = {"part": "PN-L", "tracking": "lot", "lot": "L-1", "from_location": "A", "to_location": "B",
            "quantity": 8, "isolated": True}
    fields = {field.name: field for field in arg_fields("move", sent)}
    assert (fields["quantity"].kind, fields["quantity"].value, fields["quantity"].required) == ("quantity", "8", True)
    assert (fields["tracking"].kind, fields["tracking"].choices) == ("choice", ("serial", "lot", "untracked"))
    assert (fields["isolated"].value, fields["serial"].value, fields["serial"].required) == ("yes", "", False)
    form = {field.input_name: field.value for field in fields.values()} | {"csrf": "x", "note": "n"}
    assert args_from_form("move", form) == sent
    assert correction("move", sent, args_from_form("move", form)) is None
    corrected = args_from_form("move", {**form, "args.quantity": " 5 ", "args.isolated": "no"})
    assert corrected == {key: value for key, value in {**sent, "quantity": 5}.items() if key != "isolated"}
    assert correction("move", sent, corrected) == corrected
    with pytest.raises(Invalid) as error:
        args_from_form("move", {**form, "args.quantity": "eight"})
    assert error.value.field == "args.quantity"
    assert args_from_form("move", {**form, "args.quantity": "0,750"})["quantity"] == "0.75"  # a decimal: its exact text
    merge = args_from_form("merge", {"args.lots": "L-1, L-2,\nL-3", "args.unit_cost": ""})
    assert merge == {"lots": ["L-1", "L-2", "L-3"]}


def test_a_price_is_typed_as_an_exact_decimal() -> None:
    fields = {field.name: field for field in arg_fields("receive", {"unit_cost": "0.10"})}
    assert (fields["unit_cost"].kind, fields["unit_cost"].value) == ("decimal", "0.10")
    assert args_from_form("receive", {"args.unit_cost": " 0.30 "}) == {"unit_cost": "0.30"}
    with pytest.raises(Invalid) as error:
        args_from_form("receive", {"args.unit_cost": "12,50"})
    assert error.value.field == "args.unit_cost"


def test_an_op_in_one_line() -> None:
    assert op_summary("move", {"part": "PN-U", "quantity": 8, "from_location": "A", "to_location": "B"}) == (
        "Move 8 × PN-U from A to B"
    )
    assert op_summary("receive", {"part": "PN-S", "serial": "SN-1", "quantity": 1, "location": "DOCK"}) == (
        "Receive PN-S serial SN-1 into DOCK"
    )
    assert op_summary("count", {"part": "PN-L", "lot": "L-1", "location": "A", "counted_quantity": 3}) == (
        "Count PN-L lot L-1 at A: counted 3"
    )
    assert op_summary("frobnicate", None) == "Frobnicate"
