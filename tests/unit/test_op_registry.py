"""One registry of op types (server/ops/registry.py): it lists exactly the op types of the sync protocol's
table and the documented extras (docs/api.md, the table of op args), and what it says of each type — which
args name locations and units, where a stale unit is said to be — names args its Struct has."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec.inspect as mi
import pytest

from server.ops.registry import OP_TYPES, places_named, units_named

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT.parent / "shared" / "spec" / "sync-protocol.md"
SPEC_TYPES = {"receive", "move", "install", "uninstall", "count", "scrap", "isolate"}  # for checkouts without it
TYPE_ROW = re.compile(r"^\| `([a-z_]+)` \| `[a-z_?, ]+`")


def table_types(text: str) -> set[str]:
    return {match.group(1) for line in text.splitlines() if (match := TYPE_ROW.match(line))}


def test_the_protocols_op_types_and_the_documented_ones_are_those_registered() -> None:
    spec = table_types(SPEC.read_text()) if SPEC.exists() else SPEC_TYPES
    assert spec == SPEC_TYPES  # the spec's table changed: update SPEC_TYPES, the registry and the docs
    assert spec <= OP_TYPES.keys()
    assert table_types((ROOT / "docs" / "api.md").read_text()) == OP_TYPES.keys()


@pytest.mark.parametrize("name", sorted(OP_TYPES))
def test_what_the_registry_says_of_an_op_type_names_its_args(name: str) -> None:
    known = OP_TYPES[name]
    fields = {field.name for field in mi.type_info(known.args).fields}
    assert known.name == name
    assert {*known.places, *known.units, *([known.source] if known.source else [])} <= fields
    assert known.source is None or known.source in known.places


def test_places_and_units_named_by_raw_args() -> None:
    move = {"part": "P", "from_location": "A", "to_location": "B", "serial": "S1", "location": "ignored"}
    assert (places_named("move", move), units_named("move", move)) == (["A", "B"], ["S1"])
    install = {"parent_serial": "ASM", "serial": "S2", "from_location": 7}
    assert (places_named("install", install), units_named("install", install)) == ([], ["S2", "ASM"])
    assert (places_named("teleport", move), places_named("move", ["not", "a", "dict"])) == ([], [])
