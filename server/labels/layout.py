"""Where things go on a label, in millimetres. Pure geometry; the renderers only draw it.

A 2D symbol (QR, DataMatrix) sits at the left with its quiet zone, as tall as the label, and the
human-readable text stands beside it; on a label too narrow for that, the text goes below. A Code 128
symbol spans the width with its quiet zones and the text goes below. Modules are never smaller than
0.25 mm (two dots of a 203 dpi printer); on a printer (`dot` given) they are whole dots. A label too
small for its code is refused with the size it would need.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from server.labels.symbols import Symbol

MIN_MODULE = 0.25  # mm
MIN_SIDE, MAX_SIDE = 10.0, 300.0  # mm
MIN_TEXT = 1.6  # mm font size (about 4.5 pt): the smallest text still readable on a shelf
ADVANCE = 0.6  # width of a character of a monospaced font, in em
LEADING = 1.2  # line height, in em
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*[x×X]\s*(\d+(?:\.\d+)?)\s*(?:mm)?\s*$")


class LabelTooSmall(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class LabelSize:
    width: float
    height: float

    def __str__(self) -> str:
        return f"{self.width:g}x{self.height:g}"


def parse_size(text: str) -> LabelSize:
    """`50x25` (width x height in mm). Raises ValueError with a reason people can act on."""
    match = _SIZE.match(text)
    if match is None:
        raise ValueError("size must be WIDTHxHEIGHT in millimetres, e.g. 50x25")
    size = LabelSize(float(match.group(1)), float(match.group(2)))
    if not (MIN_SIDE <= size.width <= MAX_SIDE and MIN_SIDE <= size.height <= MAX_SIDE):
        raise ValueError(f"each side must be between {MIN_SIDE:g} and {MAX_SIDE:g} mm")
    return size


@dataclass(frozen=True, slots=True)
class LabelText:
    title: str  # what it is: UNIT, LOT, LOCATION, PART
    value: str  # the code people read: serial, lot, location code, part number
    detail: str = ""  # the part (and description)


@dataclass(frozen=True, slots=True)
class TextLine:
    text: str
    x: float
    baseline: float
    size: float  # font size (em) in mm
    bold: bool = False


@dataclass(frozen=True, slots=True)
class Layout:
    size: LabelSize
    symbol: Symbol
    x: float  # top-left corner of the symbol's first module
    y: float
    module: float
    bar_height: float  # linear symbols: the height of the bars
    lines: tuple[TextLine, ...]

    def rects(self) -> list[tuple[float, float, float, float]]:
        """Dark rectangles (x, y, width, height) in mm."""
        height = self.bar_height if self.symbol.linear else self.module
        return [
            (self.x + col * self.module, self.y + row * self.module, length * self.module, height)
            for row, col, length in self.symbol.runs()
        ]


def _module(available: float, modules: int, dot: float | None, needed: str) -> float:
    module = available / modules
    if dot:
        module = math.floor(module / dot + 1e-9) * dot
    if module < MIN_MODULE - 1e-9:
        raise LabelTooSmall(needed)
    return module


def layout(size: LabelSize, symbol: Symbol, text: LabelText, dot: float | None = None) -> Layout:
    margin = min(max(min(size.width, size.height) * 0.06, 1.0), 3.0)
    span = symbol.width + 2 * symbol.quiet
    if symbol.linear:
        needed = f"a Code 128 of this code needs a label at least {span * MIN_MODULE + 0.05:.0f} mm wide"
        module = _module(size.width, span, dot, needed)
        bar_height = (size.height - 2 * margin) * 0.55
        x = (size.width - symbol.width * module) / 2
        text_top = margin + bar_height + margin / 2
        lines = _fit_text(text, margin, text_top, size.width - 2 * margin, size.height - margin - text_top)
        return Layout(size, symbol, x, margin, module, bar_height, lines)
    box = size.height
    beside = size.width - box >= max(0.35 * size.width, 12.0)
    if not beside:  # text below: the symbol keeps 60 % of the height
        box = min(size.width, size.height * 0.6)
    needed = f"this code needs a symbol at least {span * MIN_MODULE + 0.05:.0f} mm square"
    module = _module(box, span, dot, needed)
    side = symbol.width * module
    x = (box - side) / 2 if beside else (size.width - side) / 2
    y = (size.height - side) / 2 if beside else (box - side) / 2
    if beside:
        left = box - symbol.quiet * module / 2
        lines = _fit_text(text, left, margin, size.width - margin - left, size.height - 2 * margin)
    else:
        lines = _fit_text(text, margin, box, size.width - 2 * margin, size.height - box - margin / 2)
    return Layout(size, symbol, x, y, module, 0.0, lines)


def _wrap(value: str, chars: int) -> list[str]:
    return [value[i : i + chars] for i in range(0, len(value), chars)] or [""]


def _fit_text(text: LabelText, x: float, top: float, width: float, height: float) -> tuple[TextLine, ...]:
    """The largest text that fits: the value wrapped over as few lines as needed, the title and the
    detail smaller; the detail, then the title, are dropped when there is no room."""
    if width <= 0 or height <= 0:
        return ()
    for keep in (("title", "value", "detail"), ("title", "value"), ("value",)):
        for value_lines in range(1, 5):
            chars = max(1, math.ceil(len(text.value) / value_lines))
            rows = [("value", line, True, 1.0) for line in _wrap(text.value, chars)]
            if "title" in keep:
                rows.insert(0, ("title", text.title, False, 0.7))
            if "detail" in keep and text.detail:
                rows.append(("detail", text.detail, False, 0.7))
            size = min(height / sum(LEADING * scale for *_, scale in rows), 6.0)
            sizes = [_fit(size * scale, line, width, name != "value") for name, line, _, scale in rows]
            value_size = min(s for s, row in zip(sizes, rows, strict=True) if row[0] == "value")
            sizes = [s if row[0] == "value" else min(s, value_size) for s, row in zip(sizes, rows, strict=True)]
            if value_size >= MIN_TEXT:
                return _place(rows, sizes, x, top, width)
    rows = [("value", _ellipsis(text.value, width / (ADVANCE * MIN_TEXT)), True, 1.0)]
    return _place(rows, [MIN_TEXT], x, top, width) if LEADING * MIN_TEXT <= height else ()


def _fit(size: float, line: str, width: float, may_shorten: bool) -> float:
    """The font size for a line: as large as allowed and as wide as the space; a title or detail is
    not shrunk below a readable size but shortened instead."""
    fitting = min(size, width / (ADVANCE * max(len(line), 1)))
    return max(fitting, min(size, MIN_TEXT)) if may_shorten else fitting


def _ellipsis(value: str, chars: float) -> str:
    limit = max(int(chars + 1e-6), 1)
    return value if len(value) <= limit else value[: max(limit - 1, 0)] + "…"


def _place(rows: list, sizes: list[float], x: float, top: float, width: float) -> tuple[TextLine, ...]:
    lines = []
    y = top
    for (_, line, bold, _), size in zip(rows, sizes, strict=True):
        shown = _ellipsis(line, width / (ADVANCE * size))
        lines.append(TextLine(shown, x, y + 0.9 * size, size, bold))
        y += LEADING * size
    return tuple(lines)
