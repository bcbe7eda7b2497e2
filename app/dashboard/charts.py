"""Bar charts as inline SVG drawn on the server: no script, no network, nothing for the CSP to allow.

Hand-written because it is ~80 lines of arithmetic; a charting package would bring JavaScript to serve
or a plotting stack (matplotlib) far heavier than a few rectangles. Every text is escaped; colours come
from presentation attributes (inline `style` would need a CSP exception).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 600, 160
LEFT, BOTTOM, TOP = 48, 22, 10
COLOURS = {"runs": "#0969da", "cost": "#8250df", "lint": "#1a7f37", "test": "#bf8700", "risk": "#cf222e"}


def _axis(label_max: str, days: Sequence[dt.date]) -> list[str]:
    base = HEIGHT - BOTTOM
    parts = [
        f'<line x1="{LEFT}" y1="{base}" x2="{WIDTH}" y2="{base}" stroke="#d0d7de"/>',
        f'<text x="{LEFT - 4}" y="{TOP + 8}" text-anchor="end" font-size="10" fill="#59636e">'
        f"{escape(label_max)}</text>",
        f'<text x="{LEFT - 4}" y="{base}" text-anchor="end" font-size="10" fill="#59636e">0</text>',
    ]
    if days:
        first, last = days[0].strftime("%b %d"), days[-1].strftime("%b %d")
        parts.append(f'<text x="{LEFT}" y="{HEIGHT - 6}" font-size="10" fill="#59636e">{first}</text>')
        parts.append(
            f'<text x="{WIDTH}" y="{HEIGHT - 6}" text-anchor="end" font-size="10" '
            f'fill="#59636e">{last}</text>'
        )
    return parts


def _svg(title: str, parts: list[str]) -> Markup:
    body = "".join(parts)
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{body}</svg>'
    )


def stacked_bars(
    title: str,
    days: Sequence[dt.date],
    series: dict[str, Sequence[float]],
    *,
    unit: str = "",
    decimals: int = 0,
) -> Markup:
    """One bar per day, each series stacked on the previous; a <title> on each bar tells its values."""
    totals = [sum(values[i] for values in series.values()) for i in range(len(days))]
    top = max(totals, default=0) or 1
    plot_h = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT) / max(len(days), 1)
    parts = _axis(f"{unit}{top:.{decimals}f}", days)
    for i, day in enumerate(days):
        y = float(HEIGHT - BOTTOM)
        for name, values in series.items():
            value = values[i]
            if value <= 0:
                continue
            h = plot_h * value / top
            y -= h
            tip = f"{day.isoformat()} {name}: {unit}{value:.{decimals}f}"
            parts.append(
                f'<rect x="{LEFT + i * slot + 1:.1f}" y="{y:.1f}" width="{max(slot - 2, 1):.1f}" '
                f'height="{h:.1f}" fill="{COLOURS.get(name, "#57606a")}"><title>{escape(tip)}</title></rect>'
            )
    return _svg(title, parts)


def legend(names: Sequence[str]) -> Markup:
    items = "".join(
        f'<span class="key"><svg width="10" height="10" aria-hidden="true"><rect width="10" height="10" '
        f'fill="{COLOURS.get(n, "#57606a")}"/></svg> {escape(n)}</span>'
        for n in names
    )
    return Markup(f'<p class="legend">{items}</p>')
