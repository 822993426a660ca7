"""Accuracy over time as an inline SVG line chart, drawn on the server (no script, no library): one point
per closed count, lines accurate / lines counted and value accuracy, 0–100 %, with the 95 % mark."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from server.counts.schemas import AccuracyPoint
from server.i18n import DEFAULT, text

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 16, 40
SERIES = (("line_accuracy", "counts.lines_accurate", "#1f3a5f"), ("value_accuracy", "counts.value_accuracy", "#1a7f37"))
TARGET = 0.95


def _y(fraction: float) -> float:
    return TOP + (1 - fraction) * (HEIGHT - TOP - BOTTOM)


def accuracy_svg(points: Sequence[AccuracyPoint], title: str | None = None, lang: str = DEFAULT) -> str:
    """The chart, its words in `lang` (the series' labels are catalogue keys)."""
    title = title or text(lang, "counts.accuracy_over_time")
    plot_w = WIDTH - LEFT - RIGHT
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
        'class="chart" style="width:100%;height:auto;background:#fff;border:1px solid #d6d9de;border-radius:10px">',
        f"<title>{escape(title)}</title>",
    ]
    for fraction in (0.0, 0.5, 1.0):
        y = _y(fraction)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#e3e5e8"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" font-size="12" text-anchor="end" fill="#555">{fraction:.0%}</text>')
    y = _y(TARGET)
    parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#b26a00" stroke-dasharray="4 4"/>')
    parts.append(f'<text x="{WIDTH - RIGHT}" y="{y - 4:.1f}" font-size="11" text-anchor="end" fill="#b26a00">95 %</text>')
    if not points:
        parts.append(f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" font-size="14" text-anchor="middle" fill="#555">'
                     f"{escape(text(lang, 'counts.no_closed'))}</text></svg>")
        return "".join(parts)
    step = plot_w / max(len(points) - 1, 1)
    xs = [LEFT + (i * step if len(points) > 1 else plot_w / 2) for i in range(len(points))]
    for attribute, key, colour in SERIES:
        label = escape(text(lang, key))
        shown = [(x, getattr(p, attribute), p) for x, p in zip(xs, points) if getattr(p, attribute) is not None]
        if len(shown) > 1:
            path = " ".join(f"{x:.1f},{_y(v):.1f}" for x, v, _ in shown)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
        for x, v, p in shown:
            parts.append(
                f'<circle cx="{x:.1f}" cy="{_y(v):.1f}" r="4.5" fill="{colour}" data-series="{attribute}" data-value="{v:.4f}">'
                f"<title>{escape(p.name)} ({p.closed_at:%Y-%m-%d}): {label.lower()} {v:.1%}</title></circle>"
            )
    for i, (x, p) in enumerate(zip(xs, points)):
        if len(points) <= 12 or i in (0, len(points) - 1):
            parts.append(f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" font-size="11" text-anchor="middle" fill="#555">'
                         f"{p.closed_at:%m-%d}</text>")
    legend_x = LEFT
    for _, key, colour in SERIES:
        label = escape(text(lang, key))
        parts.append(f'<rect x="{legend_x}" y="{HEIGHT - 14}" width="12" height="4" fill="{colour}"/>')
        parts.append(f'<text x="{legend_x + 16}" y="{HEIGHT - 9}" font-size="12" fill="#1b1b1b">{label}</text>')
        legend_x += 140
    parts.append("</svg>")
    return "".join(parts)
