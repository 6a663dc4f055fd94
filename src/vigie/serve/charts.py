"""The dashboard's charts: inline SVG drawn by the static report's chart functions
(``vigie.report.svg``), fed with the data of ``vigie.serve.queries``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from vigie.report import (
    SIZE_COLORS,
    SIZE_ORDER,
    STATUS_COLORS,
    color,
    legend,
    line_chart,
    stacked_bars,
    timeline,
)

POLL_COLORS = {
    "kept": STATUS_COLORS["done"],
    "duplicate": STATUS_COLORS["duplicate"],
    "failed": STATUS_COLORS["failed"],
}


def when(value: str | None) -> datetime | None:
    """An ISO date of the queries back to a datetime (UTC)."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def polls_per_hour(name: str, hours: Sequence[Mapping[str, Any]]) -> str:
    """Kept / duplicate / failed polls of one camera per hour, as stacked bars ('' if none)."""
    if not any(h["done"] or h["duplicate"] or h["failed"] for h in hours):
        return ""
    labels = [f"{when(h['hour']):%H}" for h in hours]
    stacks = {
        "kept": [float(h["done"]) for h in hours],
        "duplicate": [float(h["duplicate"]) for h in hours],
        "failed": [float(h["failed"]) for h in hours],
    }
    return legend(list(stacks), POLL_COLORS) + stacked_bars(
        labels,
        stacks,
        title=f"polls per hour (UTC), {name}",
        y_label="polls",
        height=200,
        colors=POLL_COLORS,
    )


def _date_format(span: float) -> tuple[str, str]:
    """strftime of the tick labels and the words of the axis, for a time span in seconds."""
    if span <= 3600:
        return "%H:%M:%S", "time (UTC)"
    if span <= 2 * 86400:
        return "%H:%M", "time (UTC)"
    if span <= 90 * 86400:
        return "%m-%d %H:%M", "date and time (UTC)"
    return "%Y-%m-%d", "date (UTC)"


def objects_over_time(entry: Mapping[str, Any], colors: Mapping[str, str]) -> str:
    """Objects per class per snapshot over time for one camera, with real dates on the x axis."""
    series = {
        cls: [(when(t).timestamp(), float(v)) for t, v in pts]  # type: ignore[union-attr]
        for cls, pts in entry["series"].items()
        if pts
    }
    if not series:
        return ""
    xs = [x for pts in series.values() for x, _ in pts]
    pattern, words = _date_format(max(xs) - min(xs))
    day = datetime.fromtimestamp(min(xs), UTC)
    label = f"{words}, from {day:%Y-%m-%d %H:%M}" if pattern.startswith("%H") else words

    def fmt(x: float) -> str:
        return datetime.fromtimestamp(x, UTC).strftime(pattern)

    return legend(list(series), colors) + line_chart(
        series,
        title=f"objects per class over time, {entry['camera']}",
        x_label=label,
        y_label="objects per snapshot",
        width=720,
        height=260,
        x_format=fmt,
        colors=colors,
    )


def objects_per_study(studies: Sequence[Mapping[str, Any]]) -> str:
    """Objects per study and platform by size category, as stacked bars ('' if none)."""
    sizes = [s for s in SIZE_ORDER if any(st["by_size"].get(s) for st in studies)]
    if not sizes:
        return ""
    cats = [f"{st['study_id']} · {st['platform']}" for st in studies]
    stacks = {size: [float(st["by_size"].get(size, 0)) for st in studies] for size in sizes}
    return legend(sizes, SIZE_COLORS) + stacked_bars(
        cats,
        stacks,
        title="objects per study and platform by size category",
        y_label="objects",
        colors=SIZE_COLORS,
    )


def track_timeline(video: Mapping[str, Any], colors: Mapping[str, str]) -> str:
    """One row and bar per track (coloured by class), in the order of ``video['track_rows']``."""
    rows = video["track_rows"]
    if not rows:
        return ""
    names = [f"{r['class']} #{r['track_id']}" for r in rows]
    bars = [
        (
            name,
            float(r["first_time"]),
            float(r["last_time"]),
            f"{name}: {r['first_time']:.2f}-{r['last_time']:.2f} s (frames {r['first_frame']}-"
            f"{r['last_frame']}); click to jump to its first frame",
        )
        for name, r in zip(names, rows, strict=True)
    ]
    end = max(float(video.get("duration") or 0.0), *(b[2] for b in bars))
    return timeline(
        names,
        bars,
        title=f"tracks of {video['name']}",
        x_max=end,
        width=720,
        row_height=22 if len(rows) <= 30 else 14,
        colors={n: colors.get(r["class"], "#888") for n, r in zip(names, rows, strict=True)},
    )


def items_by_status(by_kind: Mapping[str, Mapping[str, int]]) -> str:
    """A study's items per kind (image, video) split by status."""
    kinds = sorted(by_kind)
    statuses = [s for s in STATUS_COLORS if any(by_kind[k].get(s) for k in kinds)]
    statuses += sorted({s for k in kinds for s in by_kind[k]} - set(statuses))
    if not statuses:
        return ""
    stacks = {s: [float(by_kind[k].get(s, 0)) for k in kinds] for s in statuses}
    return legend(statuses, STATUS_COLORS) + stacked_bars(
        kinds, stacks, title="items by kind and status", y_label="items", colors=STATUS_COLORS
    )


def training_curves(model: Mapping[str, Any]) -> list[str]:
    """One line chart per group of ``results.csv`` columns: losses, metrics, learning rates."""
    groups: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for column, points in sorted(model["curves"].items()):
        if not points:
            continue
        prefix, _, name = column.partition("/")
        group = {"train": "losses", "val": "losses", "metrics": "validation metrics"}.get(
            prefix, "learning rate" if prefix == "lr" else ""
        )
        if group:
            key = column if group == "losses" else name.removesuffix("(B)")
            groups.setdefault(group, {})[key] = [(float(x), float(y)) for x, y in points]
    order = ("losses", "validation metrics", "learning rate")
    return [
        legend(list(curves))
        + line_chart(
            curves,
            title=f"{group} of {model['name']}",
            x_label="epoch",
            x_integer=True,
            y_label=group,
            width=440,
        )
        for group, curves in sorted(groups.items(), key=lambda g: order.index(g[0]))
    ]


def class_colors(classes: Sequence[str]) -> dict[str, str]:
    """One colour per class, the same on every page (the palette in class-name order)."""
    return {c: color(i) for i, c in enumerate(sorted(set(classes)))}
