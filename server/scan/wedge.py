"""Control characters as keyboard-wedge scanners and copy-paste spell them. Pure.

Structured codes separate their fields with ASCII control characters: GS (0x1D, also what FNC1
becomes), RS (0x1E) and EOT (0x04). A scanner that types into a text field (a keyboard wedge) cannot
type them and substitutes something, and people paste scans from tools that print them in a
notation. These spellings are turned back into the control characters (case-insensitively):

| char | spellings |
|---|---|
| GS  | `{GS}` `<GS>` `[GS]` `<0x1D>` `\\x1d` `\\u001d` `^]` `␝` (U+241D) and `{FNC1}` `<FNC1>` |
| RS  | `{RS}` `<RS>` `[RS]` `<0x1E>` `\\x1e` `\\u001e` `^^` `␞` (U+241E) |
| EOT | `{EOT}` `<EOT>` `[EOT]` `<0x04>` `\\x04` `\\u0004` `^D` `␄` (U+2404) |

Scanners also substitute a single plain character (`]`, `^`, `|` or `~`, or drop RS altogether);
that cannot be undone blindly without breaking legitimate text, so the ISO/IEC 15434 parser reads the
substitute from the message header itself (`[)>` RS `06` GS), where the characters' places are fixed.
"""

from __future__ import annotations

import re

GS, RS, EOT = "\x1d", "\x1e", "\x04"

_SPELLINGS: dict[str, list[str]] = {
    GS: ["{GS}", "<GS>", "[GS]", "<0x1D>", "\\x1d", "\\u001d", "^]", "\u241d", "{FNC1}", "<FNC1>"],
    RS: ["{RS}", "<RS>", "[RS]", "<0x1E>", "\\x1e", "\\u001e", "^^", "\u241e"],
    EOT: ["{EOT}", "<EOT>", "[EOT]", "<0x04>", "\\x04", "\\u0004", "^D", "\u2404"],
}
_BY_SPELLING = {spelling.lower(): char for char, spellings in _SPELLINGS.items() for spelling in spellings}
_PATTERN = re.compile("|".join(re.escape(s) for s in sorted(_BY_SPELLING, key=len, reverse=True)), re.IGNORECASE)

# Single characters a wedge may type for GS or RS; only trusted where a header fixes their place.
SINGLE_SUBSTITUTES = "]^|~"


def unspell(text: str) -> str:
    """The text with every documented spelling of GS, RS and EOT replaced by the character itself."""
    return _PATTERN.sub(lambda match: _BY_SPELLING[match.group(0).lower()], text)


def has_spellings(text: str) -> bool:
    return _PATTERN.search(text) is not None


_SYMBOLOGY_ID = re.compile(r"^\][A-Za-z][0-9A-Za-z]")
# AIM symbology identifiers of the GS1 variants: GS1-128, GS1 DataBar, GS1 DataMatrix, GS1 QR, GS1 DotCode.
GS1_SYMBOLOGY_IDS = frozenset({"]C1", "]e0", "]d2", "]Q3", "]J1"})
# EAN/UPC: the text is a GTIN.
EAN_SYMBOLOGY_IDS = frozenset({"]E0", "]E3", "]E4"})


def split_symbology_id(text: str) -> tuple[str | None, str]:
    """A leading AIM symbology identifier (`]C1`, `]d2`, `]Q1`…, sent by scanners set up to) and the rest."""
    match = _SYMBOLOGY_ID.match(text)
    if match is None:
        return None, text
    return match.group(0), text[3:]
