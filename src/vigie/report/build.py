"""``write_report``: one static HTML folder (index.html + img/) from the catalog.

The page opens from disk with no server: charts are inline SVG, sample images are copied into
``img/`` beside the page with their boxes drawn, and nothing refers to an external URL.
"""

from __future__ import annotations

import io
import logging
import shutil
from collections.abc import Mapping
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from vigie.catalog import Catalog
from vigie.errors import MediaError
from vigie.files import write_atomic
from vigie.media import annotate
from vigie.report import data as d
from vigie.report import svg

log = logging.getLogger(__name__)

SIZE_COLORS = {"large": "#d62728", "medium": "#ff7f0e", "small": "#2ca02c", "negligible": "#9e9e9e"}
STATUS_COLORS = {
    "done": "#2ca02c",
    "duplicate": "#9e9e9e",
    "skipped": "#1f77b4",
    "failed": "#d62728",
    "pending": "#ff7f0e",
}
NO_DATA = '<p class="empty">no data yet</p>'

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#222;
background:#f6f7f9}
header{background:#1d3557;color:#fff;padding:18px 28px}
header h1{margin:0;font-size:24px} header p{margin:4px 0 0;opacity:.85}
nav{padding:8px 28px;background:#e9edf3;font-size:14px} nav a{margin-right:14px;color:#1d3557}
main{padding:8px 28px 40px}
section{background:#fff;border-radius:8px;padding:14px 20px;margin:18px 0;
box-shadow:0 1px 3px rgba(0,0,0,.08)}
h2{margin:4px 0 10px;font-size:19px;color:#1d3557} h3{font-size:15px;margin:14px 0 6px}
.grid{display:flex;flex-wrap:wrap;gap:18px} .card{flex:0 0 auto}
table{border-collapse:collapse;font-size:13px;margin:6px 0}
th,td{border-bottom:1px solid #e3e3e3;padding:4px 10px;text-align:right}
th:first-child,td:first-child{text-align:left} th{background:#f0f2f5}
.legend{font-size:12px;margin:4px 0 10px}.key{margin-right:12px;white-space:nowrap}
.swatch{display:inline-block;width:11px;height:11px;margin-right:4px;vertical-align:-1px;
border-radius:2px}
.empty{color:#888;font-style:italic}
.totals span{display:inline-block;margin-right:22px;font-size:14px}
.totals b{font-size:20px;color:#1d3557;margin-right:4px}
figure{margin:0;max-width:420px} figure img{max-width:420px;border:1px solid #ccc}
figcaption{font-size:12px;color:#555}
"""


def write_report(
    catalog: Catalog,
    out_dir: Path | str,
    *,
    title: str = "Vigie report",
    max_samples: int = 8,
    study_db_url: str | None = None,
) -> Path:
    """Write the static HTML report of ``catalog`` into ``out_dir``; return its index.html.

    Args:
        catalog: the catalog to report on.
        out_dir: the report folder (created; index.html and img/ inside are replaced).
        title: the page title.
        max_samples: how many annotated sample images to include.
        study_db_url: the study database, for platform names (else ``platform <id>``).

    Raises:
        MediaError: the report folder cannot be written.
    """
    out = Path(out_dir)
    platforms = d.study_platform_names(study_db_url) if study_db_url else {}
    try:
        out.mkdir(parents=True, exist_ok=True)
        img_dir = out / "img"
        if img_dir.exists():
            shutil.rmtree(img_dir)
        img_dir.mkdir()
    except OSError as exc:
        raise MediaError(
            f"cannot write the report folder {out}: {exc.strerror or exc}",
            hint="choose another --out folder",
        ) from None
    sections = [
        ("overview", "Overview", _overview(catalog)),
        ("cameras", "Objects over time per camera", _cameras(d.load_camera_series(catalog))),
        (
            "studies",
            "Objects per study and platform",
            _studies(d.load_study_objects(catalog, platforms)),
        ),
        ("tracks", "Track timelines per video", _tracks(d.load_video_tracks(catalog))),
        ("models", "Models: training curves and metrics", _models(d.load_models(catalog), out)),
        ("health", "Download and capture health", _health(d.load_health(catalog))),
        ("samples", "Sample annotated images", _samples(d.load_samples(catalog, max_samples), out)),
    ]
    nav = "".join(f'<a href="#{sid}">{escape(name)}</a>' for sid, name, _ in sections)
    body = "".join(
        f'<section id="{sid}"><h2>{escape(name)}</h2>{html}</section>'
        for sid, name, html in sections
    )
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{_CSS}</style></head><body>"
        f"<header><h1>{escape(title)}</h1><p>generated {now} from "
        f"{escape(_safe_url(catalog.url))}</p></header><nav>{nav}</nav><main>{body}</main>"
        "</body></html>\n"
    )
    index = out / "index.html"
    try:
        write_atomic(index, page)
    except OSError as exc:
        raise MediaError(f"cannot write {index}: {exc.strerror or exc}") from None
    log.info("report written to %s", index)
    return index


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "catalog"


def _table(headers: list[str], rows: list[list[object]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _overview(catalog: Catalog) -> str:
    totals = d.load_totals(catalog)
    if not totals or not any(v for k, v in totals.items() if k != "runs"):
        return NO_DATA
    labels = {"image": "images", "video": "videos", "frame": "frames", "runs": "runs"}
    spans = "".join(
        f"<span><b>{n:,}</b>{escape(labels.get(k, k))}</span>" for k, n in sorted(totals.items())
    )
    return f'<div class="totals">{spans}</div>'


def _time_format(points: list[datetime]) -> tuple[datetime, str, str]:
    t0 = min(points)
    span = (max(points) - t0).total_seconds()
    if span < 3600:
        return t0, "seconds", f"seconds after {t0:%Y-%m-%d %H:%M:%S}"
    if span < 3 * 86400:
        return t0, "hours", f"hours after {t0:%Y-%m-%d %H:%M}"
    return t0, "days", f"days after {t0:%Y-%m-%d}"


def _cameras(series: list[d.CameraSeries]) -> str:
    if not series:
        return NO_DATA
    parts = []
    for s in series:
        all_times = [t for pts in s.points.values() for t, _ in pts]
        if not s.model or not all_times:
            parts.append(
                f"<h3>{escape(s.camera)}</h3><p>{s.snapshots} kept snapshots, "
                f"{'no object detected' if s.model else 'no detection'} yet</p>"
            )
            continue
        parts.append(
            f"<h3>{escape(s.camera)}</h3><p>{s.snapshots} kept snapshots, detections by "
            f"model <code>{escape(s.model)}</code></p>"
        )
        t0, unit, label = _time_format(all_times)
        div = {"seconds": 1.0, "hours": 3600.0, "days": 86400.0}[unit]
        numeric = {
            cls: [((t - t0).total_seconds() / div, v) for t, v in pts]
            for cls, pts in s.points.items()
        }
        parts.append(
            svg.legend(list(numeric))
            + svg.line_chart(
                numeric,
                title=f"objects per class over time, {s.camera}",
                x_label=label,
                y_label="objects per snapshot",
            )
        )
    return "".join(parts)


def _studies(studies: list[d.StudyObjects]) -> str:
    if not studies:
        return NO_DATA
    sizes = [s for s in d.SIZE_ORDER if any(st.by_size.get(s) for st in studies)]
    cats = [f"{st.study_id} · {st.platform}" for st in studies]
    stacks = {size: [float(st.by_size.get(size, 0)) for st in studies] for size in sizes}
    chart = svg.legend(sizes, SIZE_COLORS) + svg.stacked_bars(
        cats,
        stacks,
        title="objects per study and platform by size category",
        y_label="objects",
        colors=SIZE_COLORS,
    )
    classes = sorted({c for st in studies for c in st.by_class})
    rows: list[list[object]] = [
        [
            st.study_id,
            st.platform,
            st.images,
            st.videos,
            *(st.by_size.get(s, 0) for s in d.SIZE_ORDER),
            *(st.by_class.get(c, 0) for c in classes),
        ]
        for st in studies
    ]
    headers = ["study", "platform", "images", "videos", *d.SIZE_ORDER, *classes]
    return chart + _table(headers, rows)


def _tracks(videos: list[d.VideoTracks]) -> str:
    if not videos:
        return NO_DATA
    parts = []
    for v in videos:
        classes = sorted({t[0] for t in v.tracks})
        bars = [
            (cls, start, end, f"{cls} #{tid}: {start:.1f}-{end:.1f} s, conf {conf:.2f}")
            for cls, start, end, tid, conf in v.tracks
        ]
        parts.append(
            f'<div class="card"><h3>{escape(v.name)}</h3><p>{len(v.tracks)} tracks, '
            f"{v.duration:.1f} s</p>"
            + svg.timeline(classes, bars, title=f"tracks of {v.name}", x_max=v.duration)
            + "</div>"
        )
    return f'<div class="grid">{"".join(parts)}</div>'


_LOSSES = ("train/box_loss", "train/cls_loss", "train/dfl_loss", "val/box_loss", "val/cls_loss")
_METRICS = ("metrics/precision(B)", "metrics/recall(B)", "metrics/mAP50(B)", "metrics/mAP50-95(B)")


def _models(models: list[d.ModelInfo], out: Path) -> str:
    if not models:
        return NO_DATA
    parts = []
    for m in models:
        parts.append(f"<h3>{escape(m.name)}</h3><p><code>{escape(m.weights)}</code></p>")
        losses = {k: v for k, v in m.curves.items() if k in _LOSSES and v}
        metrics = {k.split("/")[1]: v for k, v in m.curves.items() if k in _METRICS and v}
        charts = []
        for name, curves in (("losses", losses), ("validation metrics", metrics)):
            if curves:
                charts.append(
                    '<div class="card">'
                    + svg.legend(list(curves))
                    + svg.line_chart(
                        curves,
                        title=f"{name} of {m.name}",
                        x_label="epoch",
                        x_integer=True,
                        y_label=name,
                        width=440,
                    )
                    + "</div>"
                )
        parts.append(f'<div class="grid">{"".join(charts)}</div>' if charts else NO_DATA)
        parts.append(_metrics_table(m) + d.plot_figures(m, out / "img"))
    return "".join(parts)


def _metrics_table(m: d.ModelInfo) -> str:
    flat: list[list[object]] = []
    overall = m.metrics.get("all", m.metrics)
    if isinstance(overall, dict):
        for key, value in overall.items():
            if isinstance(value, int | float):
                flat.append([key, f"{value:.4g}"])
    per_class = m.metrics.get("per_class")
    params = ", ".join(
        f"{k}={v}" for k, v in m.params.items() if isinstance(v, str | int | float) and k != "data"
    )
    html = _table(["metric", "value"], flat) if flat else ""
    if isinstance(per_class, dict) and per_class:
        keys = sorted({k for v in per_class.values() if isinstance(v, dict) for k in v})
        rows: list[list[object]] = [
            [cls, *(_num(vals.get(k)) for k in keys)]
            for cls, vals in per_class.items()
            if isinstance(vals, dict)
        ]
        html += _table(["class", *keys], rows)
    if params:
        html += f"<p>parameters: {escape(params)}</p>"
    return html


def _num(v: object) -> str:
    return f"{v:.4g}" if isinstance(v, int | float) else ("" if v is None else str(v))


def _health(health: list[d.SourceHealth]) -> str:
    if not health:
        return NO_DATA
    statuses = [s for s in STATUS_COLORS if any(h.statuses.get(s) for h in health)]
    statuses += sorted({s for h in health for s in h.statuses} - set(statuses))
    cats = [f"{h.kind}:{h.name}" for h in health]
    chart = svg.legend(statuses, STATUS_COLORS) + svg.stacked_bars(
        cats,
        {s: [float(h.statuses.get(s, 0)) for h in health] for s in statuses},
        title="items per source by final status",
        y_label="items",
        colors=STATUS_COLORS,
    )
    rows: list[list[object]] = [
        [f"{h.kind}:{h.name}", *(h.statuses.get(s, 0) for s in statuses)] for h in health
    ]
    table = _table(["source", *statuses], rows)
    fail_rows: list[list[object]] = [
        [f"{h.kind}:{h.name}", reason, n]
        for h in health
        for reason, n in sorted(h.failures.items(), key=lambda kv: -kv[1])
    ]
    failures = (
        "<h3>Failures by reason</h3>" + _table(["source", "reason", "items"], fail_rows)
        if fail_rows
        else "<p>no failures</p>"
    )
    return chart + table + failures


def _samples(samples: list[d.SampleImage], out: Path) -> str:
    figures = []
    classes = sorted({b[0] for s in samples for b in s.boxes})
    colors = {c: svg.color(i) for i, c in enumerate(classes)}  # one colour per class everywhere
    for i, sample in enumerate(samples):
        name = f"sample_{i:02d}.jpg"
        try:
            draw_boxes(sample, out / "img" / name, colors)
        except MediaError as exc:
            log.warning("report: sample %s skipped: %s", sample.path, exc)
            continue
        figures.append(
            f'<figure class="card"><img src="img/{name}" alt="{escape(sample.caption)}">'
            f"<figcaption>{escape(sample.caption)}</figcaption></figure>"
        )
    return f'<div class="grid">{"".join(figures)}</div>' if figures else NO_DATA


def draw_boxes(
    sample: d.SampleImage,
    dest: Path,
    colors: Mapping[str, str] | None = None,
    max_side: int = 640,
) -> Path:
    """Copy ``sample`` to ``dest`` as a JPEG with its boxes and labels drawn.

    ``colors`` maps class names to colours (default: the palette in class-name order).

    Raises:
        MediaError: the image cannot be read.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(sample.path) as src:
            img = src.convert("RGB")
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise MediaError(f"cannot read {sample.path}: {exc}") from None
    scale = min(1.0, max_side / max(img.size))
    if scale < 1.0:
        img = img.resize((round(img.width * scale), round(img.height * scale)))
    if scale > 0.0 and max(img.size) < 480:  # small pictures: enlarge so labels stay readable
        scale2 = 480 / max(img.size)
        img = img.resize(
            (round(img.width * scale2), round(img.height * scale2)), Image.Resampling.NEAREST
        )
        scale *= scale2
    classes = sorted({b[0] for b in sample.boxes})
    annotate(
        img,
        [(x1 * scale, y1 * scale, x2 * scale, y2 * scale) for _, _, x1, y1, x2, y2 in sample.boxes],
        labels=[f"{cls} {conf:.2f}" for cls, conf, *_ in sample.boxes],
        colors=[(colors or {}).get(b[0]) or svg.color(classes.index(b[0])) for b in sample.boxes],
        thickness=2,
    )
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=88)
    return write_atomic(dest, buf.getvalue())
