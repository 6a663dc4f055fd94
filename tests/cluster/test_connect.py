"""Joining a cluster and sizing the actor pool, without a cluster."""

from __future__ import annotations

import importlib.util

import pytest

from vigie.cluster import parse_address
from vigie.config import RaySettings, load_settings
from vigie.detect.on_ray import _actor_count
from vigie.errors import ConfigError, DependencyError


def test_ray_address_forms_are_parsed_and_bad_ones_refused() -> None:
    assert parse_address("auto") == ("auto", None, None)
    assert parse_address("10.0.0.5:6379") == ("10.0.0.5:6379", "10.0.0.5", 6379)
    assert parse_address("ray://head.lab:10001")[1:] == ("head.lab", 10001)
    for bad in ("head", "head:", ":6379", "head:70000", "ray://head:port"):
        with pytest.raises(ConfigError, match="is not a Ray address"):
            parse_address(bad)


def test_the_address_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIE_RAY__ADDRESS", "auto")
    assert load_settings().ray.address == "auto"


def test_ray_missing_says_which_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from vigie.cluster import connect

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a)
    )
    with pytest.raises(DependencyError) as err:
        connect("auto")
    assert "[ray]" in str(err.value.hint) and "pip install" in str(err.value.hint)


def test_detect_actors_one_per_gpu_share_or_per_cpu() -> None:
    assert _actor_count(RaySettings(), cpus=8, gpus=0) == (8, 0.0)
    assert _actor_count(RaySettings(), cpus=32, gpus=2) == (2, 1.0)
    assert _actor_count(RaySettings(num_gpus=0.5), cpus=32, gpus=2) == (4, 0.5)
    assert _actor_count(RaySettings(workers=3), cpus=8, gpus=0) == (3, 0.0)
