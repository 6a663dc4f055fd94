"""Keeps ``vigie.<stage>(...)`` callable once the ``vigie.<stage>`` package is imported.

The public API names ``capture``, ``download``, ``train``, ``detect`` and ``track`` are also the
names of stage packages; importing a package sets it as an attribute of ``vigie``, shadowing the
lazily-loaded function. Each such package calls :func:`make_stage_callable` so that calling the
package calls its main function.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import Any


def make_stage_callable(module_name: str, func: Callable[..., Any]) -> None:
    """Make the module ``module_name`` callable as ``func``."""

    class _StageModule(types.ModuleType):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            return func(*args, **kwargs)

    _StageModule.__call__.__doc__ = func.__doc__
    sys.modules[module_name].__class__ = _StageModule
