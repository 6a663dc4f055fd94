"""Small inline-SVG chart helpers: line charts, stacked bars, timelines, and a legend.

Each function returns one ``<svg class="chart">`` element as text, sized in pixels, with every
label escaped; no script, no external resource, so the report opens from disk anywhere.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from html import escape

PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
_MARGIN = (14, 16, 38, 52)  # top, right, bottom, left


def color(i: int) -> str:
    """The i-th colour of the palette (cycles)."""
    return PALETTE[i % len(PALETTE)]


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 10 or float(v).is_integer():
        return f"{v:.0f}"
    if abs(v) >= 1:
        return f"{v:.1f}"
    return f"{v:.2g}"


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values covering [lo, hi]."""
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / max(1, count)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks = [round(start, 10)]
    while ticks[-1] < hi - step * 1e-9:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _open(width: int, height: int, title: str) -> list[str]:
    return [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]


def _axes(
    parts: list[str],
    width: int,
    height: int,
    y_ticks: Sequence[float],
    sy: Callable[[float], float],
    x_label: str,
    y_label: str,
) -> None:
    top, right, bottom, left = _MARGIN
    for t in y_ticks:
        y = sy(t)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#e5e5e5"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#444">{_fmt(t)}</text>'
        )
    parts.append(
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" '
        'stroke="#888"/>'
    )
    parts.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="#888"/>')
    if x_label:
        parts.append(
            f'<text x="{(left + width - right) / 2:.0f}" y="{height - 4}" text-anchor="middle" '
            f'font-size="11" fill="#444">{escape(x_label)}</text>'
        )
    if y_label:
        parts.append(
            f'<text x="12" y="{(top + height - bottom) / 2:.0f}" text-anchor="middle" '
            f'font-size="11" fill="#444" transform="rotate(-90 12 '
            f'{(top + height - bottom) / 2:.0f})">{escape(y_label)}</text>'
        )


def line_chart(
    series: Mapping[str, Sequence[tuple[float, float]]],
    *,
    title: str,
    x_label: str = "",
    y_label: str = "",
    width: int = 560,
    height: int = 240,
    x_format: Callable[[float], str] = _fmt,
    x_integer: bool = False,
    colors: Mapping[str, str] | None = None,
) -> str:
    """A line chart: one polyline (and dots) per named series of (x, y) points.

    ``x_integer`` keeps x ticks on whole numbers (epochs).
    """
    points = [p for pts in series.values() for p in pts]
    parts = _open(width, height, title)
    top, right, bottom, left = _MARGIN
    xs = [p[0] for p in points] or [0.0, 1.0]
    ys = [p[1] for p in points] or [0.0, 1.0]
    x0, x1 = min(xs), max(xs)
    if x1 <= x0:
        x0, x1 = x0 - 0.5, x1 + 0.5
    y_ticks = nice_ticks(min(0.0, min(ys)), max(ys) if max(ys) > 0 else 1.0)
    y0, y1 = y_ticks[0], y_ticks[-1]

    def sx(v: float) -> float:
        return left + (v - x0) / (x1 - x0) * (width - left - right)

    def sy(v: float) -> float:
        return height - bottom - (v - y0) / (y1 - y0) * (height - top - bottom)

    _axes(parts, width, height, y_ticks, sy, x_label, y_label)
    for t in nice_ticks(x0, x1, 5):
        if x0 <= t <= x1 and (not x_integer or float(t).is_integer()):
            parts.append(
                f'<text x="{sx(t):.1f}" y="{height - bottom + 14}" text-anchor="middle" '
                f'font-size="11" fill="#444">{escape(x_format(t))}</text>'
            )
    for i, (name, pts) in enumerate(series.items()):
        c = (colors or {}).get(name, color(i))
        coords = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in sorted(pts))
        parts.append(
            f'<polyline class="series" fill="none" stroke="{c}" stroke-width="2" '
            f'points="{coords}"><title>{escape(name)}</title></polyline>'
        )
        if len(pts) <= 80:
            for x, y in pts:
                parts.append(
                    f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.5" fill="{c}">'
                    f"<title>{escape(name)}: {_fmt(y)}</title></circle>"
                )
    parts.append("</svg>")
    return "".join(parts)


def stacked_bars(
    categories: Sequence[str],
    stacks: Mapping[str, Sequence[float]],
    *,
    title: str,
    y_label: str = "",
    width: int = 560,
    height: int = 260,
    colors: Mapping[str, str] | None = None,
) -> str:
    """Vertical bars, one per category, each split into the named stacks."""
    n = max(1, len(categories))
    totals = [sum(vals[i] for vals in stacks.values()) for i in range(len(categories))]
    y_ticks = nice_ticks(0.0, max(totals, default=1.0) or 1.0)
    parts = _open(width, height, title)
    top, right, bottom, left = _MARGIN
    y1 = y_ticks[-1]

    def sy(v: float) -> float:
        return height - bottom - v / y1 * (height - top - bottom)

    _axes(parts, width, height, y_ticks, sy, "", y_label)
    slot = (width - left - right) / n
    bar = max(4.0, slot * 0.6)
    for i, cat in enumerate(categories):
        x = left + i * slot + (slot - bar) / 2
        base = 0.0
        for j, (name, vals) in enumerate(stacks.items()):
            v = vals[i]
            if v <= 0:
                continue
            c = (colors or {}).get(name, color(j))
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{sy(base + v):.1f}" width="{bar:.1f}" '
                f'height="{sy(base) - sy(base + v):.1f}" fill="{c}">'
                f"<title>{escape(cat)} / {escape(name)}: {_fmt(v)}</title></rect>"
            )
            base += v
        label = cat if len(cat) <= 18 else cat[:17] + "…"
        parts.append(
            f'<text x="{x + bar / 2:.1f}" y="{height - bottom + 14}" text-anchor="middle" '
            f'font-size="11" fill="#444">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def timeline(
    rows: Sequence[str],
    bars: Sequence[tuple[str, float, float, str]],
    *,
    title: str,
    x_max: float,
    x_label: str = "seconds",
    width: int = 560,
    row_height: int = 22,
    colors: Mapping[str, str] | None = None,
) -> str:
    """A Gantt-like timeline: one row per name, bars ``(row, start, end, tooltip)``."""
    top, right, bottom, left = 10, 16, 34, 96
    height = top + bottom + row_height * max(1, len(rows))
    parts = _open(width, height, title)
    x_max = x_max if x_max > 0 else 1.0

    def sx(v: float) -> float:
        return left + v / x_max * (width - left - right)

    for t in nice_ticks(0.0, x_max, 6):
        if t <= x_max:
            parts.append(
                f'<line x1="{sx(t):.1f}" y1="{top}" x2="{sx(t):.1f}" y2="{height - bottom}" '
                'stroke="#eeeeee"/>'
                f'<text x="{sx(t):.1f}" y="{height - bottom + 14}" text-anchor="middle" '
                f'font-size="11" fill="#444">{_fmt(t)}</text>'
            )
    index = {name: i for i, name in enumerate(rows)}
    for i, name in enumerate(rows):
        y = top + i * row_height
        parts.append(
            f'<text x="{left - 6}" y="{y + row_height * 0.68:.1f}" text-anchor="end" '
            f'font-size="11" fill="#333">{escape(name)}</text>'
        )
    for row, start, end, tip in bars:
        if row not in index:
            continue
        r = index[row]
        c = (colors or {}).get(row, color(r))
        y = top + r * row_height + 3
        w = max(2.0, sx(end) - sx(start))
        parts.append(
            f'<rect class="bar" x="{sx(start):.1f}" y="{y}" width="{w:.1f}" '
            f'height="{row_height - 6}" fill="{c}" fill-opacity="0.55" stroke="{c}">'
            f"<title>{escape(tip)}</title></rect>"
        )
    parts.append(
        f'<text x="{(left + width - right) / 2:.0f}" y="{height - 4}" text-anchor="middle" '
        f'font-size="11" fill="#444">{escape(x_label)}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def legend(names: Sequence[str], colors: Mapping[str, str] | None = None) -> str:
    """An HTML legend (coloured squares and names) matching the charts' colours."""
    items = []
    for i, name in enumerate(names):
        c = (colors or {}).get(name, color(i))
        items.append(
            f'<span class="key"><span class="swatch" style="background:{c}"></span>'
            f"{escape(name)}</span>"
        )
    return f'<div class="legend">{"".join(items)}</div>'
