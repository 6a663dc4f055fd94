"""``train()``: fine-tune (or train from scratch) an ultralytics YOLO model, validate, register.

The seed (``yolo.py``) trains, validates and prints the metrics with start/end/duration; Vigie
does the same, offline-safe, and records the model in the catalog's registry so detection can
name it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from vigie.catalog import Catalog, stage_run
from vigie.catalog.models import register_model
from vigie.config import Settings, load_settings, stage_options
from vigie.errors import ConfigError, DatasetError, ModelError, require
from vigie.models import resolve_model, ultralytics_offline

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClassMetrics:
    """Validation metrics of one class (or of all classes together)."""

    name: str
    precision: float
    recall: float
    map50: float
    map50_95: float
    images: int | None = None
    instances: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "precision": self.precision,
            "recall": self.recall,
            "mAP50": self.map50,
            "mAP50-95": self.map50_95,
            "images": self.images,
            "instances": self.instances,
        }


@dataclass
class TrainResult:
    """What a training run produced."""

    name: str
    weights: Path  # best.pt
    last: Path
    run_dir: Path
    overall: ClassMetrics
    per_class: list[ClassMetrics]
    classes: dict[int, str]
    started_at: datetime
    ended_at: datetime
    params: dict[str, Any] = field(default_factory=dict)
    model_id: int | None = None
    plots: dict[str, Path] = field(default_factory=dict)  # with plots: results, confusion_matrix...

    @property
    def duration(self) -> float:
        return (self.ended_at - self.started_at).total_seconds()

    def metrics_dict(self) -> dict[str, Any]:
        return {
            "all": self.overall.as_dict(),
            "per_class": {m.name: m.as_dict() for m in self.per_class},
        }


def _now() -> datetime:
    return datetime.now().astimezone()


# arguments Vigie sets itself: an --arg for them would fight the registry's view of the run
_RESERVED = {
    "data": "--data",
    "name": "--name",
    "project": "--project",
    "model": "--model",
    "resume": "--resume",
}
# what ultralytics draws with plots=True that the report shows (the training batches are not)
PLOT_PATTERNS = (
    "results.png",
    "confusion_matrix.png",
    "confusion_matrix_normalized.png",
    "*PR_curve.png",
    "*F1_curve.png",
    "*P_curve.png",
    "*R_curve.png",
)


def _check_overrides(overrides: Mapping[str, Any]) -> dict[str, Any]:
    for key, flag in _RESERVED.items():
        if key in overrides:
            raise ConfigError(f"--arg {key}=... is set by Vigie", hint=f"use {flag} instead")
    return dict(overrides)


def find_plots(run_dir: Path) -> dict[str, Path]:
    """The plots ultralytics wrote into ``run_dir`` (``{file stem: path}``, sorted by name)."""
    found = {p.stem: p.resolve() for pattern in PLOT_PATTERNS for p in run_dir.glob(pattern)}
    return dict(sorted(found.items()))


_DATA_HINT = "give the data.yaml written by `vigie dataset build`"


def _check_data(data: Path) -> Path:
    """``data`` resolved, once it is a readable YAML mapping with train, val and class names."""
    import yaml

    if not data.is_file():
        raise DatasetError(f"dataset file not found: {data}", hint=_DATA_HINT)
    try:
        doc = yaml.safe_load(data.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatasetError(f"{data} is not a valid YAML file: {first}", hint=_DATA_HINT) from None
    if not isinstance(doc, dict):
        raise DatasetError(f"{data} is not a dataset YAML (not a mapping)", hint=_DATA_HINT)
    missing = [k for k in ("train", "val") if not doc.get(k)]
    if not doc.get("names") and not doc.get("nc"):
        missing.append("names")
    if missing:
        raise DatasetError(f"{data} has no {', '.join(missing)}", hint=_DATA_HINT)
    root = Path(str(doc.get("path") or data.parent))
    if not root.is_absolute():  # ultralytics reads a relative path from the working folder
        root = Path.cwd() / root
    if root.is_dir():
        for key in ("train", "val"):
            entries = doc[key] if isinstance(doc[key], list) else [doc[key]]
            gone = [str(e) for e in entries if not (root / str(e)).exists()]
            if gone:
                raise DatasetError(
                    f"{data}: the {key} images are missing ({', '.join(gone)} under {root})",
                    hint="check the path: of data.yaml, or rebuild it with `vigie dataset build`",
                )
    return data.resolve()


def _resume_checkpoint(project: Path, name: str) -> Path:
    last = project / name / "weights" / "last.pt"
    if not last.is_file():
        raise ModelError(
            f"nothing to resume: {last} does not exist",
            hint="start the training without --resume (same --name and --project)",
        )
    import torch

    ckpt = torch.load(last, map_location="cpu", weights_only=False)
    if not isinstance(ckpt, dict) or ckpt.get("optimizer") is None or ckpt.get("epoch", -1) < 0:
        raise ModelError(
            f"the training '{name}' already finished; there is nothing to resume",
            hint="train again without --resume, or with more --epochs under a new --name",
        )
    return last


def validate(
    weights: Path, data: Path, *, imgsz: int, batch: int, device: str | None
) -> tuple[ClassMetrics, list[ClassMetrics], dict[int, str]]:
    """Validate ``weights`` on the dataset's val split: overall and per-class metrics."""
    with ultralytics_offline():
        from ultralytics import YOLO

        model = YOLO(str(weights))
        metrics: Any = model.val(
            data=str(data),
            imgsz=imgsz,
            batch=batch,
            device=device,
            plots=False,
            verbose=False,
            workers=0,
        )
    names = {int(k): str(v) for k, v in model.names.items()}
    mp, mr, map50, map_ = (float(x) for x in metrics.box.mean_results())
    per_image = getattr(metrics, "nt_per_image", None)
    per_class_count = getattr(metrics, "nt_per_class", None)
    overall = ClassMetrics(
        "all",
        mp,
        mr,
        map50,
        map_,
        instances=int(per_class_count.sum()) if per_class_count is not None else None,
    )
    per_class = []
    for i, c in enumerate(metrics.box.ap_class_index):
        p, r, ap50, ap = (float(x) for x in metrics.box.class_result(i))
        per_class.append(
            ClassMetrics(
                names.get(int(c), str(c)),
                p,
                r,
                ap50,
                ap,
                images=int(per_image[c]) if per_image is not None else None,
                instances=int(per_class_count[c]) if per_class_count is not None else None,
            )
        )
    return overall, per_class, names


def train(
    data: Path | str,
    *,
    model: str | Path | None = None,
    name: str,
    epochs: int | None = None,
    imgsz: int | None = None,
    batch: int | None = None,
    device: str | None = None,
    project: Path | str | None = None,
    resume: bool = False,
    workers: int = 2,
    patience: int = 100,
    plots: bool | None = None,
    overrides: Mapping[str, Any] | None = None,
    settings: Settings | None = None,
    catalog: Catalog | None = None,
    callbacks: Mapping[str, Callable[[Any], None]] | None = None,
) -> TrainResult:
    """Fine-tune a YOLO model on a YOLO dataset, validate its best weights and register them.

    Args:
        data: the dataset's data.yaml.
        model: base weights (.pt), a registered model name, or an architecture YAML
            (``yolo11n.yaml``: from scratch). Missing weights are an error unless online.
        name: the run's folder under ``project`` and the name in the model registry.
        epochs, imgsz, batch, device, workers, patience: ultralytics training arguments.
        project: folder of training runs.
        resume: continue the interrupted run ``project/name`` from its last.pt.
        plots: keep ultralytics' plots (results.png, confusion matrix, PR/F1/P/R curves) in the
            run folder and record them with the model (off: nothing is drawn).
        overrides: any other ultralytics training argument (lr0, mosaic, nbs...); they win over
            the arguments above (``plots`` included), except data, name, project, model, resume.
        settings: the settings (default :func:`vigie.config.load_settings`); ``model``,
            ``epochs``, ``imgsz``, ``batch``, ``device``, ``project`` and ``plots`` left at
            ``None`` come from ``settings.train`` (a relative ``project`` lies in the workspace).
        catalog: registers the model and records the run (``train``); default: the one of
            ``settings``.
        callbacks: ultralytics callbacks by event name (e.g. ``on_fit_epoch_end``).

    Returns:
        weights, per-class metrics, timing and the registry id.

    Raises:
        DatasetError: data.yaml missing or unusable; ModelError: model missing, training failed,
        nothing to resume; ConfigError: an override of an argument Vigie sets itself.
    """
    require("ultralytics", "yolo")
    cfg = settings or load_settings()
    t = stage_options(
        cfg.train,
        model=None if model is None else str(model),
        epochs=epochs,
        imgsz=imgsz,
        batch=batch,
        device=device,
        project=project,
        plots=plots,
    )
    model, epochs, imgsz, batch, device = t.model, t.epochs, t.imgsz, t.batch, t.device
    plots = t.plots
    extra = _check_overrides(overrides or {})
    data_path = _check_data(Path(data))
    project_dir = cfg.output_path(t.project).resolve()
    params: dict[str, Any] = {
        "model": str(model),
        "epochs": epochs,
        "imgsz": imgsz,
        "batch": batch,
        "device": device,
        "workers": workers,
        "patience": patience,
        "resume": resume,
        "plots": plots,
        **extra,
    }
    run_options = {"data": str(data_path), "name": name, **params}
    with stage_run("train", cfg, catalog, run_options) as (cat, run):
        if resume:
            source = str(_resume_checkpoint(project_dir, name))
        else:
            source = resolve_model(model, cat).source
        result = _train(source, data_path, name, project_dir, params, resume, callbacks)
        result.model_id = register_model(
            cat,
            name,
            result.weights,
            dataset=data_path,
            classes=result.classes,
            metrics=result.metrics_dict(),
            params={**params, "duration_s": round(result.duration, 1)},
            run_id=run.id,
            plots=result.plots,
        )
        run.counts.extra = {"epochs": epochs}
    return result


def _train(
    source: str,
    data: Path,
    name: str,
    project: Path,
    params: dict[str, Any],
    resume: bool,
    callbacks: Mapping[str, Callable[[Any], None]] | None,
) -> TrainResult:
    started = _now()
    t0 = time.monotonic()
    log.info("training %s from %s on %s", name, source, data)
    known = {"model", "resume"}
    args = {k: v for k, v in params.items() if k not in known}
    with ultralytics_offline():
        from ultralytics import YOLO

        try:
            yolo = YOLO(source)
        except Exception as exc:
            detail = " ".join(str(exc).split())
            if "not a loadable checkpoint" in detail or type(exc).__name__ == "UnpicklingError":
                detail = "not a loadable checkpoint (the file is empty, truncated or not a model)"
            raise ModelError(
                f"cannot load the model {source}: {detail}",
                hint="pass a .pt from `vigie train`, a registered name, or a YAML like yolo11n.yaml",
            ) from None
        try:
            for event, fn in (callbacks or {}).items():
                yolo.add_callback(event, fn)
            # one dict, so an --arg (plots=True, exist_ok...) replaces Vigie's value instead of
            # colliding with it as a duplicate keyword
            yolo.train(
                **{"exist_ok": True, **args},
                data=str(data),
                project=str(project),
                name=name,
                resume=resume,
            )
        except (KeyboardInterrupt, ModelError):
            raise
        except FileNotFoundError as exc:
            raise DatasetError(f"training cannot read the dataset: {exc}") from None
        except Exception as exc:
            raise ModelError(
                f"training failed: {exc.__class__.__name__}: {' '.join(str(exc).split())}",
                hint="check the dataset (vigie dataset check) and the --device",
            ) from None
    weights_dir = project / name / "weights"
    best, last = weights_dir / "best.pt", weights_dir / "last.pt"
    if not best.is_file():
        best = last
    if not best.is_file():
        raise ModelError(f"training wrote no weights under {weights_dir}")
    overall, per_class, names = validate(
        best, data, imgsz=params["imgsz"], batch=params["batch"], device=params["device"]
    )
    ended = _now()
    log.info("trained %s in %.1f s", name, time.monotonic() - t0)
    return TrainResult(
        name=name,
        weights=best.resolve(),
        last=last.resolve(),
        run_dir=(project / name).resolve(),
        overall=overall,
        per_class=per_class,
        classes=names,
        started_at=started,
        ended_at=ended,
        params=dict(params),
        plots=find_plots(project / name) if params.get("plots") else {},
    )
