"""The phone app as the server serves it, minified (server/web.py): the same programs as the source, in a
shell that stays within its size.

rjsmin only drops comments and layout, but it reads a template literal nested in another one's `${…}` as
code and closes up its spaces (`${a ? ` · ${b}` : ''}` would show "·b"). So every module is parsed
before and after (tree-sitter's JavaScript grammar): the two syntax trees must be the same, node for
node and token for token, comments aside."""

from __future__ import annotations

from pathlib import Path

import pytest
import tree_sitter_javascript
from tree_sitter import Language, Node, Parser

from server.web import PWA_DIR, minified
from tests.benchmarks.bench_pwa import shell_size

PARSER = Parser(Language(tree_sitter_javascript.language()))
MODULES = sorted(
    path for path in PWA_DIR.rglob("*.js") if not path.relative_to(PWA_DIR).as_posix().startswith(("vendor/", "tests/"))
)


def syntax(source: bytes) -> list[str | tuple[str, str]]:
    """The syntax tree, depth first: each node's type, and a token's text with it; comments left out."""
    tree = PARSER.parse(source)
    assert not tree.root_node.has_error, "tree-sitter cannot parse it"
    nodes: list[str | tuple[str, str]] = []

    def walk(node: Node) -> None:
        if node.type == "comment":
            return
        nodes.append((node.type, node.text.decode()) if node.child_count == 0 else node.type)
        for child in node.children:
            walk(child)

    walk(tree.root_node)
    return nodes


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.relative_to(PWA_DIR).as_posix())
def test_minifying_a_module_leaves_the_same_program(path: Path) -> None:
    source = path.read_bytes()
    served = minified(path.relative_to(PWA_DIR).as_posix(), source)
    assert len(served) < len(source)
    before, after = syntax(source), syntax(served)
    first = next((i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b), min(len(before), len(after)))
    assert before == after, f"rjsmin changes {path.name}: {before[first:first + 3]} became {after[first:first + 3]}"


def test_the_vendored_reader_is_served_as_its_authors_built_it() -> None:
    for path in (PWA_DIR / "vendor").rglob("*.js"):
        assert minified(path.relative_to(PWA_DIR).as_posix(), path.read_bytes()) == path.read_bytes()


def test_the_shell_a_phone_downloads_stays_within_150_kb() -> None:
    """The issue's target: the app shell (HTML, JS, CSS, manifest, service worker and the catalogue loaded
    at start) as served: its JavaScript at most 150 KB uncompressed (the issue's "JS shell"), the whole of it within
    165 KB (ours; 160 KB until the phone's price on Receive, trace and FEFO took it to 160.9 KB); the barcode reader
    is counted apart."""
    size = shell_size()
    assert size["js_bytes"] <= size["target_js_bytes"] == 150_000, size
    assert size["uncompressed_bytes"] <= size["budget_uncompressed_bytes"] == 165_000, size
    assert size["uncompressed_bytes"] < size["source_bytes"]


def test_the_style_sheet_and_the_catalogues_are_served_without_layout() -> None:
    sheet = b"/* big targets */\n:root {\n  --tap: 52px;\n}\nul.rows > li a:hover,\n.x { font: 18px/1.4 system-ui, sans-serif; margin: 0 4px; }\n@media (max-width: 400px) {\n  .x { color: red; }\n}\n"
    assert minified("app.css", sheet) == (
        b":root{--tap:52px}ul.rows>li a:hover,.x{font:18px/1.4 system-ui,sans-serif;margin:0 4px}"
        b"@media (max-width:400px){.x{color:red}}"
    )
    catalogue = '{\n"a.b": "Größe: {n}",\n"c": "x"\n}\n'.encode()
    assert minified("locales/de.json", catalogue) == '{"a.b":"Größe: {n}","c":"x"}'.encode()
    assert minified("manifest.webmanifest", b'{\n "a": 1\n}') == b'{"a":1}'
