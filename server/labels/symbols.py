"""Barcode symbols as module grids, made by zxing-cpp (the same library that reads them back).

A symbol is a grid of dark/light modules; every output format (SVG, PDF, ZPL) draws the same grid, so
what was tested is what prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import zxingcpp


class Symbology(StrEnum):
    qr = "qr"
    datamatrix = "datamatrix"
    code128 = "code128"


_FORMATS = {
    Symbology.qr: zxingcpp.BarcodeFormat.QRCode,
    Symbology.datamatrix: zxingcpp.BarcodeFormat.DataMatrix,
    Symbology.code128: zxingcpp.BarcodeFormat.Code128,
}
# Quiet zone each side, in modules: ISO/IEC 18004 (QR) 4, ISO/IEC 16022 (DataMatrix) 1 (we give 2),
# ISO/IEC 15417 (Code 128) 10.
QUIET_ZONE = {Symbology.qr: 4, Symbology.datamatrix: 2, Symbology.code128: 10}


@dataclass(frozen=True, slots=True)
class Symbol:
    symbology: Symbology
    text: str
    rows: tuple[tuple[bool, ...], ...]  # True = dark; a linear symbol has one row

    @property
    def width(self) -> int:
        return len(self.rows[0])

    @property
    def height(self) -> int:
        return len(self.rows)

    @property
    def linear(self) -> bool:
        return self.symbology == Symbology.code128

    @property
    def quiet(self) -> int:
        return QUIET_ZONE[self.symbology]

    def runs(self) -> list[tuple[int, int, int]]:
        """Dark runs as (row, first column, length): what the renderers draw as rectangles."""
        found = []
        for y, row in enumerate(self.rows):
            x = 0
            while x < len(row):
                if row[x]:
                    start = x
                    while x < len(row) and row[x]:
                        x += 1
                    found.append((y, start, x - start))
                else:
                    x += 1
        return found


def encode(text: str, symbology: Symbology) -> Symbol:
    """The symbol for `text`. Our label texts are ASCII (see server/scan/codes.py), which every
    symbology here encodes without character-set ambiguity."""
    options = {"force_square": True} if symbology == Symbology.datamatrix else {}
    if symbology == Symbology.qr:
        options["ec_level"] = "M"  # 15 % recovery: survives scuffs, keeps modules large on small labels
    barcode = zxingcpp.create_barcode(text, _FORMATS[symbology], **options)
    image = memoryview(barcode.to_image(scale=1, add_quiet_zones=False))
    height, width = image.shape
    pixels = image.tobytes()
    rows = tuple(tuple(pixels[y * width + x] < 128 for x in range(width)) for y in range(height))
    if symbology == Symbology.code128:
        rows = rows[:1]  # every row of a linear symbol is the same
    return Symbol(symbology, text, rows)
