"""Where a model runs: ``--device cpu | cuda | cuda:N | mps | auto``, resolved once.

Every command that runs a model (detect, track, train, export, ``ls push --predictions``) takes
``--device`` and resolves it here. Asking for a GPU the backend cannot use is not a silent CPU
run: a WARNING names what to install, then the model runs on the CPU.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["DEVICE_HELP", "Device", "parse_device", "resolve_device"]

log = logging.getLogger(__name__)

DEVICE_HELP = "cpu, cuda, cuda:N, mps or auto (the best one the backend can use)"
Backend = Literal["torch", "onnx"]
TORCH_CUDA_HINT = (
    "install a CUDA build of torch (https://pytorch.org/get-started/locally/) and an NVIDIA driver"
)
ONNX_CUDA_HINT = "pip install onnxruntime-gpu (in place of onnxruntime) and the CUDA libraries"
MPS_HINT = "MPS needs Apple silicon and a torch build with MPS (macOS 12.3+)"

_DEVICE = re.compile(r"cpu|auto|mps|cuda(?::(\d+(?:,\d+)*))?|(\d+(?:,\d+)*)")


@dataclass(frozen=True)
class Device:
    """A resolved device: ``kind`` cpu, cuda or mps, and the CUDA ``index``.

    ``more`` holds further CUDA indices of a multi-GPU training (``cuda:0,1``).
    """

    kind: Literal["cpu", "cuda", "mps"]
    index: int = 0
    more: tuple[int, ...] = ()

    @property
    def torch(self) -> str:
        """The device argument of ultralytics / torch: ``cpu``, ``0``, ``0,1``, ``mps``."""
        if self.kind != "cuda":
            return self.kind
        return ",".join(str(i) for i in (self.index, *self.more))

    @property
    def onnx_providers(self) -> list[str | tuple[str, dict[str, int]]]:
        """ONNX Runtime execution providers, best first (the CUDA one with its device id)."""
        if self.kind == "cuda":
            return [("CUDAExecutionProvider", {"device_id": self.index}), "CPUExecutionProvider"]
        return ["CPUExecutionProvider"]

    def __str__(self) -> str:
        return f"cuda:{self.torch}" if self.kind == "cuda" else self.kind


def parse_device(text: str | None) -> str:
    """The normal form of a ``--device`` value: ``cpu``, ``auto``, ``mps``, ``cuda:N``.

    None is ``auto``; a bare number ``N`` (ultralytics' spelling) is ``cuda:N``; several GPUs
    for training are ``cuda:0,1`` (or ``0,1``).

    Raises:
        ValueError: ``text`` is not one of those forms.
    """
    value = "auto" if text is None else text.strip().lower()
    m = _DEVICE.fullmatch(value)
    if m is None:
        raise ValueError(f"{text!r} is not a device: use {DEVICE_HELP}")
    index = m.group(1) or m.group(2)
    if value.startswith("cuda") or m.group(2) is not None:
        return "cuda:" + ",".join(str(int(i)) for i in (index or "0").split(","))
    return value


def resolve_device(requested: str | None, backend: Backend) -> Device:
    """The device to run on for ``backend`` (torch or onnx), given ``--device`` ``requested``.

    ``auto`` (or None) takes a GPU when the backend can use one, else the CPU, quietly. An
    explicit ``cuda``/``cuda:N``/``mps`` the backend cannot use logs a WARNING naming what to
    install, then runs on the CPU.

    Raises:
        ValueError: ``requested`` is not a device (see :func:`parse_device`).
    """
    wanted = parse_device(requested)
    if wanted == "cpu":
        return Device("cpu")
    if backend == "onnx":
        return _resolve_onnx(wanted)
    return _resolve_torch(wanted)


def _resolve_onnx(wanted: str) -> Device:
    cuda = "CUDAExecutionProvider" in onnx_providers()
    if wanted == "auto":
        return Device("cuda") if cuda else Device("cpu")
    if wanted == "mps":
        log.warning("ONNX Runtime does not run on mps here: running on the CPU (%s)", MPS_HINT)
        return Device("cpu")
    if not cuda:
        log.warning(
            "--device %s asked, but ONNX Runtime has no CUDAExecutionProvider: running on "
            "the CPU; to use the GPU: %s",
            wanted,
            ONNX_CUDA_HINT,
        )
        return Device("cpu")
    return Device("cuda", _indices(wanted)[0])  # one session runs on one GPU


def _resolve_torch(wanted: str) -> Device:
    cuda_count, mps = torch_gpus()
    if wanted == "auto":
        if cuda_count:
            return Device("cuda")
        return Device("mps") if mps else Device("cpu")
    if wanted == "mps":
        if mps:
            return Device("mps")
        log.warning(
            "--device mps asked, but torch cannot use it: running on the CPU (%s)", MPS_HINT
        )
        return Device("cpu")
    indices = _indices(wanted)
    if max(indices) >= cuda_count:
        seen = f"sees {cuda_count} CUDA device(s)" if cuda_count else "has no CUDA"
        log.warning(
            "--device %s asked, but torch %s: running on the CPU; to use the GPU: %s",
            wanted,
            seen,
            TORCH_CUDA_HINT,
        )
        return Device("cpu")
    return Device("cuda", indices[0], tuple(indices[1:]))


def _indices(wanted: str) -> list[int]:
    """The CUDA indices of a normal form ``cuda:0`` or ``cuda:0,1``."""
    return [int(i) for i in wanted.split(":")[1].split(",")]


def onnx_providers() -> list[str]:
    """ONNX Runtime's available execution providers ([] when it is not installed)."""
    try:
        import onnxruntime as ort
    except ImportError:
        return []
    return list(ort.get_available_providers())


def torch_gpus() -> tuple[int, bool]:
    """(CUDA devices torch can use, whether MPS is available); (0, False) without torch."""
    try:
        import torch
    except ImportError:
        return 0, False
    cuda = torch.cuda.device_count() if torch.cuda.is_available() else 0
    mps_backend = getattr(torch.backends, "mps", None)
    return cuda, bool(mps_backend is not None and mps_backend.is_available())
