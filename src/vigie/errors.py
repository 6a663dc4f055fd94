"""Exceptions for per-run failures.

Per-item failures (one bad URL, one corrupt JPEG) are data: a status and an error in the catalog
and a failure log. A whole run that cannot go on raises one of these; the CLI turns it into a
single line ``error: <message>`` followed by ``hint: <what to do>`` and exit code 1.
"""

from __future__ import annotations

import os
from pathlib import Path


class VigieError(Exception):
    """Base class of every error Vigie raises on purpose.

    Args:
        message: what went wrong, in one line.
        hint: what the user can do about it (optional, one line).
    """

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class ConfigError(VigieError):
    """Bad configuration: a wrong flag, a malformed vigie.toml, a missing setting."""


class DependencyError(VigieError):
    """An optional dependency is missing; the hint names the extra to install."""


class CatalogError(VigieError):
    """The catalog database cannot be opened, migrated or written."""


class SourceError(VigieError):
    """A source (camera, study database, URL list, manifest, export file) is unusable."""


class NetworkError(SourceError):
    """A remote server cannot be reached or keeps refusing us."""


class UnsafeURLError(NetworkError):
    """A URL was refused: bad scheme, or it resolves to a private/loopback address."""


class MediaError(VigieError):
    """A media file cannot be decoded, probed or written."""


class DatabaseError(SourceError):
    """The study database cannot be read or written."""


class LabelStudioError(VigieError):
    """Label Studio refused a request or answered something we cannot use."""


class AuthError(LabelStudioError):
    """A token is missing, wrong or expired beyond refresh."""


class ModelError(VigieError):
    """A model cannot be found, loaded, trained or exported."""


class DatasetError(VigieError):
    """A dataset (YOLO folders, data.yaml, export) is malformed."""


DISTRIBUTION = "vigie-cv"  # the name on the package index (`import vigie`, the `vigie` command)


def pip_hint(extra: str) -> str:
    """The command that installs ``extra``: ``pip install 'vigie-cv[extra]'``."""
    return f"pip install '{DISTRIBUTION}[{extra}]'"


def require(module: str, extra: str) -> None:
    """Raise DependencyError unless ``module`` can be imported.

    Args:
        module: the import name (e.g. ``"ultralytics"``).
        extra: the pip extra that provides it (e.g. ``"yolo"``).
    """
    import importlib.util

    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a missing parent package, a module set to None
        found = False
    if not found:
        raise DependencyError(
            f"this command needs '{module}', from the [{extra}] extra",
            hint=f"install it with: {pip_hint(extra)}",
        )


# SQLAlchemy URL driver -> (import name, extra); the driver SQLAlchemy picks when the URL names none
_DB_DRIVERS = {"pymysql": ("pymysql", "mysql")}
_DEFAULT_DRIVER = {"mysql": "mysqldb", "mariadb": "mysqldb"}


def require_driver(url: str) -> None:
    """Raise DependencyError when the database URL's driver is an extra that is not installed.

    ``mysql+pymysql://...`` needs PyMySQL (the ``[mysql]`` extra); a bare ``mysql://`` means
    SQLAlchemy's default MySQLdb, so when that is absent the hint names ``mysql+pymysql://``.
    Other URLs (SQLite, a driver Vigie does not provide) are left to SQLAlchemy.
    """
    scheme = str(url).split("://", 1)[0].lower() if "://" in str(url) else ""
    backend, _, driver = scheme.partition("+")
    driver = driver or _DEFAULT_DRIVER.get(backend, "")
    if driver in _DB_DRIVERS:
        require(*_DB_DRIVERS[driver])
    elif driver == "mysqldb":
        import importlib.util

        if importlib.util.find_spec("MySQLdb") is None:
            raise DependencyError(
                f"{backend}:// needs a MySQL driver",
                hint=f"write {backend}+pymysql://... and install it with: {pip_hint('mysql')}",
            )


def output_dir(path: str | os.PathLike[str], flag: str = "--out") -> Path:
    """Create the output folder ``path`` (and its parents) or raise a clear ConfigError.

    Args:
        path: the folder to create (it may exist).
        flag: the option the user gave it with, named in the message.

    Raises:
        ConfigError: ``path`` (or a parent) is a file, or the folder cannot be created.
    """
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(
            f"{flag} {folder} is a file, not a folder", hint=f"give {flag} a folder path"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the {flag} folder {folder}: {exc.strerror or exc}",
            hint=f"give {flag} a folder you can write to",
        ) from None
    return folder
