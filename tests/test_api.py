"""The public Python API: every documented name resolves, stages stay callable when imported."""

from __future__ import annotations

import importlib

import pytest

import vigie


@pytest.mark.parametrize("name", sorted(vigie._API))
def test_every_public_name_resolves_to_a_callable(name: str) -> None:
    assert callable(getattr(vigie, name))


@pytest.mark.parametrize("stage", ["capture", "download", "train", "detect", "track"])
def test_stage_package_import_does_not_shadow_the_function(stage: str) -> None:
    module = importlib.import_module(f"vigie.{stage}")
    func = getattr(module, stage)
    assert callable(getattr(vigie, stage))
    assert getattr(vigie, stage).__call__.__doc__ == func.__doc__


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError):
        _ = vigie.no_such_function  # type: ignore[attr-defined]
