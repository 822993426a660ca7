"""Imports run one way (docs/decisions.md, "Layers"): the import-linter contracts in pyproject.toml hold for
the code as it is, the layers contract catches an import that goes up, and every module of `server` sits
in a layer (a new package must be placed, not slip past the contract)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
LAYERS = next(contract for contract in CONFIG["contracts"] if contract["id"] == "layers")["layers"]


def layer(text: str) -> grimp.Layer:
    """A layer as pyproject writes it: `a | b` (independent siblings), `a : b` (siblings that may import each
    other), or one module."""
    independent = ":" not in text
    names = [name.strip() for name in text.replace(":", "|").split("|")]
    return grimp.Layer(*names, independent=independent)


def build() -> grimp.ImportGraph:
    return grimp.build_graph(*CONFIG["root_packages"], cache_dir=None)


def test_the_contracts_hold() -> None:
    run = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def test_an_import_going_up_is_caught() -> None:
    layers = [layer(text) for text in LAYERS]
    upward = build()
    assert upward.find_illegal_dependencies_for_layers(layers) == set()
    upward.add_import(importer="server.ops.handlers", imported="server.counts.lines")
    illegal = upward.find_illegal_dependencies_for_layers(layers)
    assert {(dependency.importer, dependency.imported) for dependency in illegal} == {("server.ops", "server.counts")}


def test_every_module_of_server_is_in_a_layer() -> None:
    placed = {name.strip() for text in LAYERS for name in text.replace(":", "|").split("|")}
    modules = build().find_children("server")
    assert modules - placed == set(), "place these in a layer of [tool.importlinter] in pyproject.toml"
