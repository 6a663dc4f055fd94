"""vigie.devices: --device values, and a GPU the backend cannot use is a warning, not silence."""

from __future__ import annotations

import logging

import pytest

from vigie import devices
from vigie.devices import Device, parse_device, resolve_device


@pytest.mark.parametrize(
    ("text", "normal"),
    [(None, "auto"), ("auto", "auto"), ("CPU", "cpu"), ("cuda", "cuda:0"), ("cuda:1", "cuda:1"),
     ("0", "cuda:0"), ("2", "cuda:2"), ("mps", "mps"), ("0,1", "cuda:0,1"),
     ("cuda:1,2", "cuda:1,2")],
)  # fmt: skip
def test_parse_device_normalises_every_spelling(text: str | None, normal: str) -> None:
    assert parse_device(text) == normal


@pytest.mark.parametrize("text", ["gpu", "cuda:", "cuda:x", "tpu", "", "0,", "cuda:0;1"])
def test_parse_device_refuses_unknown_devices(text: str) -> None:
    with pytest.raises(ValueError, match="cpu, cuda, cuda:N, mps or auto"):
        parse_device(text)


def _gpus(monkeypatch: pytest.MonkeyPatch, cuda: int = 0, mps: bool = False,
          ort: tuple[str, ...] = ("CPUExecutionProvider",)) -> None:  # fmt: skip
    monkeypatch.setattr(devices, "torch_gpus", lambda: (cuda, mps))
    monkeypatch.setattr(devices, "onnx_providers", lambda: list(ort))


def test_cpu_is_cpu_without_looking_at_the_hardware(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom() -> None:
        raise AssertionError("looked")

    monkeypatch.setattr(devices, "torch_gpus", boom)
    monkeypatch.setattr(devices, "onnx_providers", boom)
    assert resolve_device("cpu", "torch") == Device("cpu")
    assert resolve_device("cpu", "onnx") == Device("cpu")


def test_auto_takes_the_gpu_when_there_is_one(monkeypatch: pytest.MonkeyPatch) -> None:
    _gpus(monkeypatch, cuda=1, ort=("CUDAExecutionProvider", "CPUExecutionProvider"))
    assert resolve_device("auto", "torch").torch == "0"
    assert resolve_device(None, "onnx").kind == "cuda"


def test_auto_without_a_gpu_is_a_quiet_cpu(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _gpus(monkeypatch)
    with caplog.at_level(logging.WARNING, logger="vigie.devices"):
        assert resolve_device("auto", "torch") == Device("cpu")
        assert resolve_device("auto", "onnx") == Device("cpu")
    assert caplog.records == []


def test_auto_uses_mps_on_apple_silicon(monkeypatch: pytest.MonkeyPatch) -> None:
    _gpus(monkeypatch, mps=True)
    assert resolve_device("auto", "torch").torch == "mps"


def test_cuda_asked_of_a_cpu_torch_warns_naming_the_cuda_torch(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _gpus(monkeypatch)
    with caplog.at_level(logging.WARNING, logger="vigie.devices"):
        assert resolve_device("cuda", "torch") == Device("cpu")
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert "CUDA build of torch" in record.getMessage()
    assert "running on the CPU" in record.getMessage()


def test_cuda_asked_of_onnxruntime_without_cuda_names_onnxruntime_gpu(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _gpus(monkeypatch, cuda=1)  # torch sees a GPU, but the ONNX backend cannot use it
    with caplog.at_level(logging.WARNING, logger="vigie.devices"):
        assert resolve_device("cuda:0", "onnx") == Device("cpu")
    assert "pip install onnxruntime-gpu" in caplog.text


def test_cuda_index_beyond_the_gpus_warns(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _gpus(monkeypatch, cuda=1)
    with caplog.at_level(logging.WARNING, logger="vigie.devices"):
        assert resolve_device("cuda:3", "torch") == Device("cpu")
    assert "sees 1 CUDA device" in caplog.text


def test_a_usable_gpu_is_kept_with_its_index(monkeypatch: pytest.MonkeyPatch) -> None:
    _gpus(monkeypatch, cuda=2, ort=("CUDAExecutionProvider", "CPUExecutionProvider"))
    dev = resolve_device("cuda:1", "torch")
    assert (dev.torch, str(dev)) == ("1", "cuda:1")
    onnx = resolve_device("cuda:1", "onnx")
    assert onnx.onnx_providers[0] == ("CUDAExecutionProvider", {"device_id": 1})


def test_mps_asked_without_mps_warns(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _gpus(monkeypatch)
    with caplog.at_level(logging.WARNING, logger="vigie.devices"):
        assert resolve_device("mps", "torch") == Device("cpu")
        assert resolve_device("mps", "onnx") == Device("cpu")
    assert len(caplog.records) == 2


def test_hardware_probes_answer_on_this_machine() -> None:
    cuda, mps = devices.torch_gpus()
    assert cuda >= 0 and isinstance(mps, bool)
    assert isinstance(devices.onnx_providers(), list)


def test_several_gpus_for_training_keep_every_index(monkeypatch: pytest.MonkeyPatch) -> None:
    _gpus(monkeypatch, cuda=2, ort=("CUDAExecutionProvider", "CPUExecutionProvider"))
    dev = resolve_device("0,1", "torch")
    assert (dev.torch, str(dev)) == ("0,1", "cuda:0,1")
    assert resolve_device("cuda:1,0", "onnx") == Device("cuda", 1)  # one session, one GPU


def test_one_missing_gpu_of_several_warns(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _gpus(monkeypatch, cuda=2)
    with caplog.at_level(logging.WARNING, logger="vigie.devices"):
        assert resolve_device("cuda:0,2", "torch") == Device("cpu")
    assert "sees 2 CUDA device" in caplog.text
