"""Where each setting comes from, and refusing the ones that do not exist.

:func:`check_known` is called by :func:`vigie.config.load_settings` before the settings are
built: an unknown key in ``vigie.toml`` or a misspelt ``VIGIE_*`` variable (in the environment
or ``.env``) is a :class:`~vigie.errors.ConfigError` naming the key and the closest valid one,
instead of a setting silently ignored. :func:`explain` lists every effective setting with the
layer that set it, for ``vigie config show``.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, BaseModel
from pydantic_settings import BaseSettings

from vigie.errors import ConfigError

CONFIG_FILE_NAME = "vigie.toml"
SECRET_FIELDS = frozenset({"labelstudio_token", "token", "study_db_password"})
# Secrets inside a [section] of vigie.toml, refused there too: section -> field names.
SECRET_SECTION_FIELDS: dict[str, frozenset[str]] = {"serve": frozenset({"token"})}
PREFIX = "VIGIE_"
# VIGIE_ variables that are not settings: read directly by the code or the test set-up
NOT_SETTINGS = frozenset({"VIGIE_CONFIG", "VIGIE_DEBUG", "VIGIE_OFFLINE"})
NOT_SETTINGS_PREFIXES = ("VIGIE_TEST_",)


@dataclass(frozen=True)
class Layer:
    """One layer's values: ``{(section or "", field): name in that layer}`` (the variable or the
    file key that gave it), with a label for messages."""

    label: str
    names: dict[tuple[str, str], str]


def _sections(settings_cls: type[BaseSettings]) -> dict[str, type[BaseModel]]:
    out = {}
    for name, field in settings_cls.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out[name] = ann
    return out


def _top_env_names(settings_cls: type[BaseSettings]) -> dict[str, str]:
    """Upper-case environment name -> top-level field, aliases included."""
    names = {}
    for name, field in settings_cls.model_fields.items():
        names[f"{PREFIX}{name}".upper()] = name
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            for choice in alias.choices:
                if isinstance(choice, str) and choice.upper() != name.upper():
                    names[choice.upper()] = name
    return names


def _closest(word: str, candidates: list[str]) -> str | None:
    match = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return match[0] if match else None


def _unknown(
    what: str, key: str, where: str, candidates: list[str], prefix: str = ""
) -> ConfigError:
    """The error for ``prefix + key``, suggesting the closest of ``candidates`` (same prefix)."""
    best = _closest(key, candidates)
    hint = (
        f"did you mean {prefix}{best}?"
        if best
        else f"valid {what}: {', '.join(sorted(candidates))}"
    )
    return ConfigError(f"unknown setting {prefix}{key} in {where}", hint=hint)


def env_layer(
    settings_cls: type[BaseSettings], environ: Mapping[str, str | None], label: str
) -> Layer:
    """The settings named by ``VIGIE_*`` (and seed alias) variables of ``environ``.

    Raises:
        ConfigError: a ``VIGIE_*`` variable names no setting.
    """
    sections = _sections(settings_cls)
    top = _top_env_names(settings_cls)
    valid = sorted(
        {*(n for n in top if n.startswith(PREFIX))}
        | {f"{PREFIX}{s}__{f}".upper() for s, model in sections.items() for f in model.model_fields}
    )
    names: dict[tuple[str, str], str] = {}
    for raw, value in environ.items():
        key = raw.upper()
        if value is None:
            continue
        if key in top:
            field = top[key]
            if field not in sections:
                names[("", field)] = raw
            continue
        if not key.startswith(PREFIX):
            continue
        if key in NOT_SETTINGS or key.startswith(NOT_SETTINGS_PREFIXES):
            continue
        section, sep, field = key[len(PREFIX) :].partition("__")
        model = sections.get(section.lower())
        if sep and model is not None and field.lower() in model.model_fields:
            names[(section.lower(), field.lower())] = raw
            continue
        raise _unknown("variables", raw, label, valid)
    return Layer(label, names)


def toml_layer(settings_cls: type[BaseSettings], data: Mapping[str, Any], path: Path) -> Layer:
    """The settings a ``vigie.toml`` table gives.

    Raises:
        ConfigError: a key (top-level or in a section) names no setting.
    """
    sections = _sections(settings_cls)
    top = [n for n in settings_cls.model_fields if n not in sections]
    names: dict[tuple[str, str], str] = {}
    for key, value in data.items():
        if key in sections:
            if not isinstance(value, dict):
                raise ConfigError(
                    f"[{key}] in {path} must be a table", hint=f"write it as [{key}] then keys"
                )
            fields = list(sections[key].model_fields)
            for sub in value:
                if sub not in fields:
                    raise _unknown(f"keys of [{key}]", sub, str(path), fields, prefix=f"{key}.")
                names[(key, sub)] = f"{key}.{sub}"
        elif key in top:
            names[("", key)] = key
        else:
            raise _unknown("keys", key, str(path), [*top, *sections])
    return Layer(str(path), names)


def dotenv_values_of(path: Path) -> dict[str, str | None]:
    """The variables of a ``.env`` file ({} when there is none)."""
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return dict(dotenv_values(path))


def check_known(settings_cls: type[BaseSettings], toml: Mapping[str, Any], toml_path: Path) -> None:
    """Refuse unknown keys in the file, the environment and ``.env`` (see the module doc)."""
    toml_layer(settings_cls, toml, toml_path)
    env_layer(settings_cls, os.environ, "the environment")
    env_layer(settings_cls, dotenv_values_of(Path(".env")), ".env")


def _leaves(data: Mapping[str, Any], sections: set[str]) -> Iterator[tuple[str, str, Any]]:
    for key, value in data.items():
        if key in sections and isinstance(value, dict):
            for sub, inner in value.items():
                yield key, sub, inner
        else:
            yield "", key, value


def explain(
    settings: BaseSettings,
    *,
    toml: Mapping[str, Any],
    toml_path: Path | None,
    flags: Mapping[str, Any],
) -> list[tuple[str, Any, str]]:
    """Every effective setting as ``(dotted name, value, where it came from)``, secrets masked.

    The layers are read again the way :func:`vigie.config.load_settings` reads them; the first
    that sets a value names it: a flag, a variable of the environment, of ``.env``, a key of the
    config file, else ``default``.
    """
    cls = type(settings)
    layers = [
        Layer("flag", {k: "flag" for k in _flag_keys(flags)}),
        env_layer(cls, os.environ, "environment"),
        env_layer(cls, dotenv_values_of(Path(".env")), ".env"),
    ]
    if toml_path is not None:
        layers.append(toml_layer(cls, toml, toml_path))
    data = settings.safe_dump()  # type: ignore[attr-defined]  # a vigie.config.Settings
    rows = []
    for section, field, value in _leaves(data, set(_sections(cls))):
        key = (section, field)
        source = "default"
        for layer in layers:
            if key in layer.names:
                name = layer.names[key]
                source = layer.label if layer.label == "flag" else f"{layer.label}: {name}"
                break
        rows.append((f"{section}.{field}" if section else field, value, source))
    return rows


def _flag_keys(flags: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for key, value in flags.items():
        if value is None:
            continue
        if isinstance(value, dict):
            for sub, inner in value.items():
                if inner is not None:
                    yield key, sub
        else:
            yield "", key


def config_file_path(config_file: Path | None = None) -> Path | None:
    """The config file in effect: ``config_file``, else ``VIGIE_CONFIG``, else ./vigie.toml when
    it exists (None when there is none).

    Raises:
        ConfigError: an explicitly named file does not exist.
    """
    if config_file is None:
        env_path = os.environ.get("VIGIE_CONFIG")
        path = Path(env_path) if env_path else Path(CONFIG_FILE_NAME)
        return path if path.exists() else None
    if not config_file.exists():
        raise ConfigError(f"config file not found: {config_file}", hint="check the --config path")
    return config_file


def read_config_file(path: Path | None) -> dict[str, Any]:
    """The TOML table of ``path`` ({} for None); secrets are refused.

    Raises:
        ConfigError: the file cannot be read or parsed, or holds a secret.
    """
    if path is None:
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            f"cannot read {path}: {exc}", hint="fix the TOML syntax or remove the file"
        ) from exc
    secrets = sorted(SECRET_FIELDS & data.keys())
    secrets += [
        f"{section}.{name}"
        for section, names in SECRET_SECTION_FIELDS.items()
        if isinstance(data.get(section), dict)
        for name in sorted(names & data[section].keys())
    ]
    if secrets:
        raise ConfigError(
            f"{path} contains a secret ({', '.join(secrets)})",
            hint="remove it from the file and set it in the environment or .env instead",
        )
    return data
