"""Draw laid-out labels as SVG, PDF (fpdf2) and ZPL (Zebra printers). Single labels are one label per
page the size of the label; sheets put a grid of labels on A4 or Letter pages (PDF, SVG) or send one
label after the other (ZPL: label printers feed labels, not pages).

ZPL carries the symbol as a bitmap (`^GFA`) of whole printer dots, not as a printer barcode command:
the printer then prints exactly the grid that was tested, and no firmware re-encodes the text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from server.labels.layout import Layout, LabelSize

if TYPE_CHECKING:
    from fpdf import FPDF

PAPERS = {"a4": LabelSize(210.0, 297.0), "letter": LabelSize(215.9, 279.4)}
SHEET_MARGIN, SHEET_GAP = 8.0, 2.0  # mm
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")  # Debian's fonts-dejavu-core
PT_PER_MM = 72 / 25.4


class DoesNotFit(ValueError):
    """The label is larger than the page."""


@dataclass(frozen=True, slots=True)
class Placed:
    x: float
    y: float
    layout: Layout


def sheet_pages(layouts: list[Layout], paper: LabelSize) -> list[list[Placed]]:
    """Labels in reading order on as many pages as needed. Raises ValueError if none fits a page."""
    size = layouts[0].size
    columns = math.floor((paper.width - 2 * SHEET_MARGIN + SHEET_GAP) / (size.width + SHEET_GAP))
    rows = math.floor((paper.height - 2 * SHEET_MARGIN + SHEET_GAP) / (size.height + SHEET_GAP))
    if columns < 1 or rows < 1:
        raise DoesNotFit(f"a {size} mm label does not fit on the page")
    per_page = columns * rows
    pages = []
    for start in range(0, len(layouts), per_page):
        page = []
        for index, item in enumerate(layouts[start : start + per_page]):
            row, column = divmod(index, columns)
            x = SHEET_MARGIN + column * (size.width + SHEET_GAP)
            y = SHEET_MARGIN + row * (size.height + SHEET_GAP)
            page.append(Placed(x, y, item))
        pages.append(page)
    return pages


# ---- SVG ---------------------------------------------------------------------------------------
def _n(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _svg_label(layout: Layout, outline: bool) -> str:
    size = layout.size
    path = "".join(f"M{_n(x)} {_n(y)}h{_n(w)}v{_n(h)}h-{_n(w)}z" for x, y, w, h in layout.rects())
    parts = [f'<rect width="{_n(size.width)}" height="{_n(size.height)}" fill="#fff"'
             + (' stroke="#bbb" stroke-width="0.1"' if outline else "") + "/>"]
    parts.append(f'<path d="{path}" fill="#000" shape-rendering="crispEdges"/>')
    for line in layout.lines:
        weight = ' font-weight="bold"' if line.bold else ""
        parts.append(
            f'<text x="{_n(line.x)}" y="{_n(line.baseline)}" font-size="{_n(line.size)}"{weight}>{escape(line.text)}</text>'
        )
    return "".join(parts)


def _svg_document(width: float, height: float, body: str) -> bytes:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(width)}mm" height="{_n(height)}mm" '
        f'viewBox="0 0 {_n(width)} {_n(height)}" font-family="DejaVu Sans Mono, monospace">{body}</svg>'
    ).encode()


def svg_label(layout: Layout) -> bytes:
    return _svg_document(layout.size.width, layout.size.height, _svg_label(layout, outline=False))


def svg_sheet(layouts: list[Layout], paper: LabelSize) -> bytes:
    """One page as SVG (an SVG has no pages): raises ValueError when the labels need more than one."""
    pages = sheet_pages(layouts, paper)
    if len(pages) > 1:
        raise ValueError(f"{len(layouts)} labels need {len(pages)} pages: ask for a PDF, or fewer labels")
    body = "".join(f'<g transform="translate({_n(p.x)} {_n(p.y)})">{_svg_label(p.layout, True)}</g>' for p in pages[0])
    return _svg_document(paper.width, paper.height, body)


# ---- PDF ---------------------------------------------------------------------------------------
def _pdf(page: LabelSize) -> tuple[FPDF, str]:
    from fpdf import FPDF  # imported when a PDF is asked for: it costs every process start half a second

    pdf = FPDF(unit="mm", format=(page.width, page.height))
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.set_creator("Gemba")
    regular, bold = FONT_DIR / "DejaVuSansMono.ttf", FONT_DIR / "DejaVuSansMono-Bold.ttf"
    if regular.exists() and bold.exists():
        pdf.add_font("mono", "", str(regular))
        pdf.add_font("mono", "B", str(bold))
        return pdf, "mono"
    return pdf, "courier"  # a core font: text outside Latin-1 is shown as "?"


def _pdf_label(pdf: FPDF, font: str, x0: float, y0: float, layout: Layout, outline: bool) -> None:
    pdf.set_fill_color(0, 0, 0)
    if outline:
        pdf.set_draw_color(190, 190, 190)
        pdf.set_line_width(0.1)
        pdf.rect(x0, y0, layout.size.width, layout.size.height)
    for x, y, w, h in layout.rects():
        pdf.rect(x0 + x, y0 + y, w, h, style="F")
    for line in layout.lines:
        pdf.set_font(font, "B" if line.bold else "", line.size * PT_PER_MM)
        text = line.text if font == "mono" else line.text.encode("latin-1", "replace").decode("latin-1")
        pdf.text(x0 + line.x, y0 + line.baseline, text)


def pdf_labels(layouts: list[Layout]) -> bytes:
    """One label per page, each page the size of the label."""
    pdf, font = _pdf(layouts[0].size)
    for layout in layouts:
        pdf.add_page(format=(layout.size.width, layout.size.height))
        _pdf_label(pdf, font, 0, 0, layout, outline=False)
    return bytes(pdf.output())


def pdf_sheet(layouts: list[Layout], paper: LabelSize) -> bytes:
    pdf, font = _pdf(paper)
    for page in sheet_pages(layouts, paper):
        pdf.add_page()
        for placed in page:
            _pdf_label(pdf, font, placed.x, placed.y, placed.layout, outline=True)
    return bytes(pdf.output())


# ---- ZPL ---------------------------------------------------------------------------------------
_ZPL_PLAIN = frozenset(chr(c) for c in range(0x20, 0x7F)) - set("^~_\\")


def _zpl_text(text: str) -> str:
    """Field data for ^FH_: anything but plain ASCII as _XX (UTF-8 bytes, with ^CI28)."""
    return "".join(c if c in _ZPL_PLAIN else "".join(f"_{b:02X}" for b in c.encode()) for c in text)


def zpl_graphic(layout: Layout, dpmm: float) -> tuple[int, int, int, str]:
    """The symbol as a ^GFA bitmap: (x dots, y dots, bytes per row, hex rows)."""
    module = round(layout.module * dpmm)
    symbol = layout.symbol
    rows = symbol.rows
    height_dots = round(layout.bar_height * dpmm) if symbol.linear else module
    width = symbol.width * module
    per_row = (width + 7) // 8
    lines = []
    for row in rows:
        bits = "".join(("1" if dark else "0") * module for dark in row).ljust(per_row * 8, "0")
        line = int(bits, 2).to_bytes(per_row, "big").hex().upper()
        lines.extend([line] * height_dots)
    return round(layout.x * dpmm), round(layout.y * dpmm), per_row, "".join(lines)


def zpl_labels(layouts: list[Layout], dpi: int) -> bytes:
    dpmm = dpi / 25.4
    out = []
    for layout in layouts:
        x, y, per_row, data = zpl_graphic(layout, dpmm)
        total = len(data) // 2
        fields = [
            "^XA", "^CI28", f"^PW{round(layout.size.width * dpmm)}", f"^LL{round(layout.size.height * dpmm)}", "^LH0,0",
            f"^FO{x},{y}^GFA,{total},{total},{per_row},{data}^FS",
        ]
        for line in layout.lines:
            height = max(round(line.size * dpmm), 10)
            top = round((line.baseline - 0.8 * line.size) * dpmm)
            fields.append(f"^FO{round(line.x * dpmm)},{top}^A0N,{height},{height}^FH_^FD{_zpl_text(line.text)}^FS")
        fields.append("^XZ")
        out.append("\n".join(fields))
    return ("\n".join(out) + "\n").encode("ascii")
