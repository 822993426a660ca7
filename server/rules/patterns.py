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
KNOWN = {"part", "rev", "yyyy", "yy", "mm", "dd", "seq"}


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
    fields = [m.group(1) for m in FIELD.finditer(pattern)]
    unknown = sorted(set(fields) - KNOWN)
    if unknown:
        raise PatternError(f"unknown field {{{unknown[0]}}}; use {', '.join('{' + k + '}' for k in sorted(KNOWN))}")
    if fields.count("seq") != 1:
        raise PatternError("a pattern needs exactly one {seq} field, so generated numbers never repeat")
    stripped = FIELD.sub("", pattern)
    if "{" in stripped or "}" in stripped:
        raise PatternError("unbalanced braces")


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
