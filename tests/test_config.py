"""Config layers: defaults < vigie.toml < environment/.env < CLI flags; secrets stay secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigie.config import load_settings
from vigie.errors import ConfigError


def test_defaults_apply_without_any_file_or_env() -> None:
    cfg = load_settings()
    assert cfg.capture.every == 60.0
    assert cfg.capture.count == 50
    assert cfg.capture.hash == "ahash"
    assert cfg.capture.threshold == 0
    assert cfg.links.twitter_platform_id == 3


def test_toml_overrides_defaults(tmp_path: Path) -> None:
    (Path.cwd() / "vigie.toml").write_text("[capture]\nevery = 30\n[detect]\nconf = 0.4\n")
    cfg = load_settings()
    assert cfg.capture.every == 30
    assert cfg.detect.conf == 0.4


def test_environment_overrides_toml(monkeypatch: pytest.MonkeyPatch) -> None:
    (Path.cwd() / "vigie.toml").write_text("[capture]\nevery = 30\ncount = 7\n")
    monkeypatch.setenv("VIGIE_CAPTURE__EVERY", "15")
    cfg = load_settings()
    assert cfg.capture.every == 15
    assert cfg.capture.count == 7  # untouched keys of the section keep the file's value


def test_dotenv_is_read_and_env_wins_over_it(monkeypatch: pytest.MonkeyPatch) -> None:
    (Path.cwd() / ".env").write_text("VIGIE_CAPTURE__COUNT=9\nIMAGE_URL=http://cam/a.jpg\n")
    assert load_settings().capture.count == 9
    monkeypatch.setenv("VIGIE_CAPTURE__COUNT", "11")
    cfg = load_settings()
    assert cfg.capture.count == 11
    assert cfg.image_url == "http://cam/a.jpg"


def test_cli_flags_override_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    (Path.cwd() / "vigie.toml").write_text("[capture]\nevery = 30\n")
    monkeypatch.setenv("VIGIE_CAPTURE__EVERY", "15")
    cfg = load_settings(capture={"every": 2.5, "count": None})
    assert cfg.capture.every == 2.5
    assert cfg.capture.count == 50  # None means "flag not given"


def test_seed_variable_names_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKEN", "abc123")
    monkeypatch.setenv("IMAGE_URL", "http://127.0.0.1/cam.jpg")
    cfg = load_settings()
    assert cfg.labelstudio_token is not None
    assert cfg.labelstudio_token.get_secret_value() == "abc123"
    assert cfg.image_url == "http://127.0.0.1/cam.jpg"


def test_secrets_never_appear_in_dumps_or_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIE_LABELSTUDIO_TOKEN", "s3cr3t-token")
    cfg = load_settings()
    assert "s3cr3t-token" not in repr(cfg)
    assert "s3cr3t-token" not in str(cfg.safe_dump())
    assert cfg.safe_dump()["labelstudio_token"] == "***"


def test_secret_in_toml_is_refused() -> None:
    (Path.cwd() / "vigie.toml").write_text('labelstudio_token = "oops"\n')
    with pytest.raises(ConfigError, match="secret"):
        load_settings()


def test_malformed_toml_gives_config_error() -> None:
    (Path.cwd() / "vigie.toml").write_text("[capture\nevery = \n")
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings()


def test_invalid_value_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIE_CAPTURE__EVERY", "-1")
    with pytest.raises(ConfigError, match=r"capture\.every"):
        load_settings()


def test_explicit_config_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "missing.toml")


def test_default_catalog_is_sqlite_in_workspace(tmp_path: Path) -> None:
    cfg = load_settings(workspace=tmp_path)
    assert cfg.resolved_catalog_url == f"sqlite:///{(tmp_path / 'vigie.db').resolve()}"


def test_misspelt_key_in_toml_names_the_closest_valid_one() -> None:
    (Path.cwd() / "vigie.toml").write_text("[capture]\nevry = 30\n")
    with pytest.raises(ConfigError, match=r"capture\.evry") as info:
        load_settings()
    assert info.value.hint == "did you mean capture.every?"


def test_unknown_section_in_toml_is_refused() -> None:
    (Path.cwd() / "vigie.toml").write_text("[captur]\nevery = 30\n")
    with pytest.raises(ConfigError, match="captur") as info:
        load_settings()
    assert info.value.hint == "did you mean capture?"


def test_misspelt_environment_variable_names_the_closest_valid_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VIGIE_DOWNLOAD__RETRYS", "2")
    with pytest.raises(ConfigError, match="VIGIE_DOWNLOAD__RETRYS") as info:
        load_settings()
    assert info.value.hint == "did you mean VIGIE_DOWNLOAD__RETRIES?"


def test_misspelt_variable_in_dotenv_is_refused() -> None:
    (Path.cwd() / ".env").write_text("VIGIE_CAPTURE__EVRY=9\nIMAGE_URL=http://cam/a.jpg\n")
    with pytest.raises(ConfigError, match=r"VIGIE_CAPTURE__EVRY in \.env"):
        load_settings()


def test_variables_that_are_not_settings_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIE_OFFLINE", "1")
    monkeypatch.setenv("VIGIE_TEST_ANYTHING", "x")
    monkeypatch.setenv("VIGIE_STUDY_DB_URL", "sqlite://")
    assert load_settings().study_db_url == "sqlite://"


def test_config_show_names_the_source_of_each_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from typer.testing import CliRunner

    from vigie.cli.app import app

    (Path.cwd() / "vigie.toml").write_text("[capture]\nevery = 30\n")
    monkeypatch.setenv("VIGIE_DOWNLOAD__RETRIES", "2")
    monkeypatch.setenv("VIGIE_LABELSTUDIO_TOKEN", "s3cr3t")
    result = CliRunner().invoke(app, ["-w", "ws", "config", "show", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["setting"]: r for r in map(json.loads, result.output.splitlines())}
    assert rows["capture.every"] == {
        "setting": "capture.every",
        "value": 30.0,
        "source": "vigie.toml: capture.every",
    }
    assert rows["download.retries"]["source"] == "environment: VIGIE_DOWNLOAD__RETRIES"
    assert rows["capture.count"]["source"] == "default"
    assert rows["workspace"] == {"setting": "workspace", "value": "ws", "source": "flag"}
    assert rows["labelstudio_token"]["value"] == "***"
    assert "s3cr3t" not in result.output
