"""Serial and lot number patterns, e.g. `{part}-{yy}{seq:05}` or `LOT-{yyyy}-{seq:04}`.

Fields: `{part}` part number, `{rev}` revision, `{yyyy}` `{yy}` `{mm}` `{dd}` date (server clock, UTC),
`{seq}` or `{seq:0N}` the next value of a counter. The counter is scoped to everything before the
`{seq}` once expanded, so `LOT-{yyyy}-{seq:04}` restarts at 1 each year and never repeats.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

FIELD = re.compile(r"\{(\w+)(?::(0\d+))?\}")
BRACED = re.compile(r"\{([^{}]*)\}")
KNOWN = {"part", "rev", "yyyy", "yy", "mm", "dd", "seq"}
MAX_WIDTH = 18  # {seq:0N}: wider than any counter will reach


class PatternError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Expanded:
    """A pattern with every field but `seq` filled in."""

    scope: str  # counter key: the expanded text around the {seq} field
    prefix: str
    suffix: str
    width: int

    def render(self, seq: int) -> str:
        return f"{self.prefix}{seq:0{self.width}d}{self.suffix}"


def validate(pattern: str) -> None:
    """Raise PatternError, saying what is wrong and how to write it, unless `pattern` is usable."""
    if pattern != pattern.strip():
        raise PatternError("a pattern cannot start or end with spaces (numbers are scanned and typed)")
    fields: list[str] = []
    for token in BRACED.finditer(pattern):
        match = FIELD.fullmatch(token.group(0))
        name = match.group(1) if match else token.group(1).partition(":")[0]
        if name not in KNOWN:
            raise PatternError(f"unknown field {token.group(0)}; use {', '.join('{' + k + '}' for k in sorted(KNOWN))}")
        if match is None or (match.group(2) and name != "seq"):
            how = "{seq} or {seq:0N}, e.g. {seq:05}" if name == "seq" else "{" + name + "} (only {seq} takes a width)"
            raise PatternError(f"{token.group(0)} is not a valid field: write {how}")
        if match.group(2) and not 1 <= int(match.group(2)) <= MAX_WIDTH:
            raise PatternError(f"{token.group(0)}: the width must be between 1 and {MAX_WIDTH}")
        fields.append(name)
    leftover = BRACED.sub("", pattern)
    if "{" in leftover or "}" in leftover:
        raise PatternError("unbalanced braces: every { needs its }")
    if fields.count("seq") != 1:
        raise PatternError("a pattern needs exactly one {seq} field, so generated numbers never repeat")


def expand(pattern: str, *, part: str, revision: str, now: datetime) -> Expanded:
    validate(pattern)
    values = {
        "part": part,
        "rev": revision,
        "yyyy": f"{now.year:04d}",
        "yy": f"{now.year % 100:02d}",
        "mm": f"{now.month:02d}",
        "dd": f"{now.day:02d}",
    }
    seq_match = next(m for m in FIELD.finditer(pattern) if m.group(1) == "seq")
    width = int(seq_match.group(2) or "1")

    def fill(text: str) -> str:
        return FIELD.sub(lambda m: values[m.group(1)], text)

    prefix = fill(pattern[: seq_match.start()])
    suffix = fill(pattern[seq_match.end() :])
    return Expanded(scope=f"{prefix}\x1f{suffix}", prefix=prefix, suffix=suffix, width=width)
