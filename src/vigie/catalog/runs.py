"""How a stage records its run: one row of ``runs`` per call of its core, whoever calls it.

Every stage core (``vigie.capture``, ``vigie.extract_frames``, ``vigie.detect``...) wraps its work
in :func:`stage_run`, so the Python API and the CLI leave the same trace: a ``runs`` row with the
command, the effective settings (secrets masked) and the stage's options, its counts and its end
status (done, failed or interrupted).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from vigie.catalog.store import Catalog, RunHandle


@contextmanager
def stage_run(
    command: str,
    settings: Any,
    catalog: Catalog | None = None,
    options: Mapping[str, Any] | None = None,
) -> Iterator[tuple[Catalog, RunHandle]]:
    """Record the run ``command`` around the ``with`` block; yield the catalog and the run.

    Args:
        command: the run's name, the CLI command (``"frames"``, ``"dataset build"``...).
        settings: the :class:`vigie.config.Settings` in effect (stored with secrets masked).
        catalog: the catalog to record into; default: the one ``settings`` names, opened here
            and closed at the end.
        options: the stage's own options and inputs, stored under ``"options"`` in the run's
            config (JSON-able values; others are stored as text).
    """
    own = catalog is None
    cat = catalog if catalog is not None else Catalog.from_settings(settings)
    try:
        config = dict(settings.safe_dump())
        if options is not None:
            config["options"] = dict(options)
        with cat.run(command, config) as run:
            yield cat, run
    finally:
        if own:
            cat.close()
