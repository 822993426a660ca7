"""Stock value by location as an inline SVG bar chart, drawn on the server (no script, no library), in the
style of the counts' accuracy chart (server/counts/chart.py): one horizontal bar per location, the highest
first, its FIFO value written beside it."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape

from server.i18n import DEFAULT, text
from server.rules.money import money_text

WIDTH, ROW, TOP, LEFT, RIGHT = 640, 28, 16, 140, 130
MOST = 20  # bars shown: the locations holding the most value


def value_by_location_svg(values: Sequence[tuple[str, Decimal]], currency: str, lang: str = DEFAULT) -> str:
    title = text(lang, "costs.value_by_location")
    shown = list(values[:MOST])
    height = TOP * 2 + max(len(shown), 1) * ROW
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}" '
        'class="chart" style="width:100%;height:auto;background:#fff;border:1px solid #d6d9de;border-radius:10px">',
        f"<title>{escape(title)}</title>",
    ]
    if not shown:
        parts.append(f'<text x="{WIDTH / 2}" y="{height / 2 + 4}" font-size="14" text-anchor="middle" fill="#555">'
                     f"{escape(text(lang, 'costs.no_stock'))}</text></svg>")
        return "".join(parts)
    top = max(value for _, value in shown) or Decimal(1)
    span = WIDTH - LEFT - RIGHT
    for i, (code, value) in enumerate(shown):
        y = TOP + i * ROW
        width = float(value / top) * span if top else 0.0
        amount = f"{money_text(value)} {currency}"
        parts.append(f'<text x="{LEFT - 8}" y="{y + 17}" font-size="12" text-anchor="end" fill="#1b1b1b">{escape(code)}</text>')
        parts.append(
            f'<rect x="{LEFT}" y="{y + 4}" width="{width:.1f}" height="{ROW - 10}" fill="#1f3a5f" '
            f'data-location="{escape(code)}" data-value="{money_text(value)}"><title>{escape(code)}: {escape(amount)}</title></rect>'
        )
        parts.append(f'<text x="{LEFT + width + 6:.1f}" y="{y + 17}" font-size="12" fill="#555">{escape(amount)}</text>')
    parts.append("</svg>")
    return "".join(parts)
