"""Resolving ``--model``: a weights file, a registry name, or a model YAML; never a silent download.

Ultralytics fetches ``yolo11n.pt`` from GitHub when the file is missing. Offline that either hangs
on DNS or fails deep inside torch; here a missing weights file is a :class:`ModelError` at once,
unless the name is an official Ultralytics asset and the network answers within a few seconds.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from vigie.errors import ModelError
from vigie.models.ultra import ultralytics_offline

if TYPE_CHECKING:
    from vigie.catalog import Catalog

log = logging.getLogger(__name__)

YAML_SUFFIXES = (".yaml", ".yml")
WEIGHT_SUFFIXES = (".pt", ".pth")


@dataclass(frozen=True)
class ResolvedModel:
    """Where a ``--model`` value points.

    kind: "weights" (a .pt file on disk), "yaml" (an architecture, trained from scratch) or
    "download" (an official Ultralytics weights name, fetched because the network is up).
    """

    kind: Literal["weights", "yaml", "download"]
    source: str  # what to hand to ultralytics.YOLO(...)
    registry_name: str | None = None

    @property
    def path(self) -> Path | None:
        return Path(self.source) if self.kind == "weights" else None

    @property
    def label(self) -> str:
        """A short name for catalog rows: the registry name, else the file name."""
        return self.registry_name or Path(self.source).name


def _builtin_yaml(name: str) -> bool:
    """True when ultralytics ships the architecture ``name`` (e.g. yolo11n.yaml -> yolo11.yaml)."""
    import importlib.util

    spec = importlib.util.find_spec("ultralytics")
    if spec is None or spec.origin is None:
        return False
    cfg = Path(spec.origin).parent / "cfg" / "models"
    stem = Path(name).stem
    unscaled = re.sub(r"(\d+)([nslmx])(.+)?$", r"\1\3", stem)
    candidates = {f"{stem}.yaml", f"{unscaled}.yaml"}
    return any(p.name in candidates for p in cfg.rglob("*.yaml"))


def network_available(timeout: float = 3.0) -> bool:
    """True when github.com answers a TCP connection within ``timeout`` seconds.

    DNS resolution has no timeout of its own, so the probe runs in a daemon thread.
    ``YOLO_OFFLINE=1`` or ``VIGIE_OFFLINE=1`` short-circuit to False.
    """
    if os.environ.get("YOLO_OFFLINE", "").lower() in ("1", "true") or os.environ.get(
        "VIGIE_OFFLINE", ""
    ).lower() in ("1", "true"):
        return False
    result: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection(("github.com", 443), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    return bool(result and result[0])


def _official_asset(name: str) -> bool:
    try:
        with ultralytics_offline():
            from ultralytics.utils.downloads import GITHUB_ASSETS_NAMES
    except ImportError:  # pragma: no cover - ultralytics is checked by the callers
        return False
    return name in GITHUB_ASSETS_NAMES


def resolve_model(model: str | Path, catalog: Catalog | None = None) -> ResolvedModel:
    """Resolve a ``--model`` value.

    Order: an existing file (a .yaml is an architecture, anything else weights), a name in the
    catalog's model registry, an architecture YAML shipped with ultralytics (``yolo11n.yaml``),
    a weights file in ultralytics' weights folder, and last an official weights name to download
    when (and only when) the network answers.

    Raises:
        ModelError: nothing matches, or a registered model's weights are gone.
    """
    text = str(model)
    path = Path(text).expanduser()
    if path.is_file():
        kind: Literal["weights", "yaml"] = (
            "yaml" if path.suffix.lower() in YAML_SUFFIXES else "weights"
        )
        return ResolvedModel(kind, str(path.resolve()))
    if catalog is not None:
        from vigie.catalog.models import get_model

        row = get_model(catalog, text)
        if row is not None:
            weights = Path(row.weights)
            if not weights.is_file():
                raise ModelError(
                    f"model '{text}' is registered but its weights are missing: {weights}",
                    hint="retrain it with `vigie train --name ...` or pass a weights path",
                )
            return ResolvedModel("weights", str(weights), registry_name=text)
    if path.suffix.lower() in YAML_SUFFIXES:
        if _builtin_yaml(path.name):
            return ResolvedModel("yaml", path.name)
        raise ModelError(
            f"model YAML not found: {text}",
            hint="give an existing file or an ultralytics architecture such as yolo11n.yaml",
        )
    if path.suffix.lower() in WEIGHT_SUFFIXES and path.parent == Path("."):
        weights_dir = _ultralytics_weights_dir()
        if weights_dir is not None and (weights_dir / path.name).is_file():
            return ResolvedModel("weights", str(weights_dir / path.name))
        if _official_asset(path.name) and network_available():
            log.info("downloading %s from the Ultralytics releases", path.name)
            return ResolvedModel("download", path.name)
    raise ModelError(
        f"model not found: {text} (not a file, not a registered model name, not a model YAML)",
        hint="pass a weights path, a name registered by `vigie train --name`, or a YAML such "
        "as yolo11n.yaml to train from scratch; weights are only downloaded when online",
    )


def _ultralytics_weights_dir() -> Path | None:
    try:
        with ultralytics_offline():
            from ultralytics.utils import SETTINGS
    except ImportError:  # pragma: no cover
        return None
    value = SETTINGS.get("weights_dir")
    return Path(value) if value else None


def trained_weights(model: str | Path, catalog: Catalog | None, use: str) -> ResolvedModel:
    """:func:`resolve_model`, refusing an architecture YAML (nothing trained yet).

    Raises:
        ModelError: not found, or an untrained architecture.
    """
    resolved = resolve_model(model, catalog)
    if resolved.kind == "yaml":
        raise ModelError(
            f"{model} is an architecture without trained weights",
            hint=f"{use} with a trained .pt or a registered model name",
        )
    return resolved


def download_weights(name: str) -> ResolvedModel:
    """Let ultralytics fetch an official weights name (only called when online).

    Raises:
        ModelError: the download fails.
    """
    with ultralytics_offline():
        from ultralytics.utils.downloads import attempt_download_asset

        try:
            path = Path(attempt_download_asset(name)).resolve()
        except Exception as exc:
            raise ModelError(f"cannot download {name}: {exc}") from None
    if not path.is_file():
        raise ModelError(f"cannot download {name}", hint="pass a local weights file")
    return ResolvedModel("weights", str(path))
