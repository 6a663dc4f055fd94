"""The SDK client: where the server and token come from, token renewal, one-line errors."""

from __future__ import annotations

import base64
import json
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.fixtures.labelstudio import FaultProxy, LabelStudioServer
from tests.labelstudio.helpers import make_images, tasks_of
from vigie.cli import app
from vigie.config import load_settings
from vigie.errors import AuthError, ConfigError, NetworkError
from vigie.labelstudio import LabelStudioClient, connect
from vigie.labelstudio.client import DEFAULT_URL, is_personal_access_token
from vigie.labelstudio.pull import export_json

runner = CliRunner()


def _jwt(exp: float, token_type: str) -> str:
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return ".".join(
        [part({"alg": "HS256"}), part({"token_type": token_type, "exp": int(exp)}), "c2ln"]
    )


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def no_ls_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for key in ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY"):
        monkeypatch.delenv(key, raising=False)
    return monkeypatch


def test_client_takes_url_and_token_from_the_sdk_variables(no_ls_env: pytest.MonkeyPatch) -> None:
    no_ls_env.setenv("LABEL_STUDIO_URL", "http://ls.example:8080/")
    no_ls_env.setenv("LABEL_STUDIO_API_KEY", "0123456789abcdef")
    with LabelStudioClient() as client:
        assert client.url == "http://ls.example:8080"
        assert not client.uses_personal_access_token


def test_connect_prefers_vigie_url_then_label_studio_url_then_default(
    no_ls_env: pytest.MonkeyPatch,
) -> None:
    no_ls_env.setenv("LABEL_STUDIO_API_KEY", "0123456789abcdef")
    with connect(load_settings()) as client:
        assert client.url == DEFAULT_URL
    no_ls_env.setenv("LABEL_STUDIO_URL", "http://from-sdk-env:8080")
    with connect(load_settings()) as client:
        assert client.url == "http://from-sdk-env:8080"
    no_ls_env.setenv("VIGIE_LABELSTUDIO__URL", "http://from-vigie-env:8080")
    with connect(load_settings()) as client:
        assert client.url == "http://from-vigie-env:8080"
    with connect(load_settings(labelstudio={"url": "http://from-flag:8080"})) as client:
        assert client.url == "http://from-flag:8080"


def test_vigie_token_wins_over_label_studio_api_key(no_ls_env: pytest.MonkeyPatch) -> None:
    no_ls_env.setenv("LABEL_STUDIO_API_KEY", "sdk-variable-token")
    no_ls_env.setenv("VIGIE_LABELSTUDIO_TOKEN", "vigie-variable-token")
    token = load_settings().labelstudio_token
    assert token is not None and token.get_secret_value() == "vigie-variable-token"


def test_no_token_anywhere_is_an_auth_error_with_a_hint(no_ls_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(AuthError, match="no Label Studio token") as err:
        LabelStudioClient("http://127.0.0.1:8080")
    assert err.value.hint and "LABEL_STUDIO_API_KEY" in err.value.hint


def test_a_url_that_is_not_http_is_a_config_error(no_ls_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="invalid Label Studio URL"):
        LabelStudioClient("ftp://somewhere", "0123456789abcdef")


def test_personal_access_tokens_are_told_from_legacy_tokens() -> None:
    assert is_personal_access_token(_jwt(time.time() + 3600, "refresh"))
    assert not is_personal_access_token("0123456789abcdef0123456789abcdef01234567")


def test_unreachable_server_is_one_network_error_naming_the_variable(
    no_ls_env: pytest.MonkeyPatch,
) -> None:
    with (
        LabelStudioClient(f"http://127.0.0.1:{_closed_port()}", "0123456789abcdef") as client,
        pytest.raises(NetworkError, match="cannot reach Label Studio") as err,
    ):
        client.check()
    assert err.value.hint and "LABEL_STUDIO_URL" in err.value.hint


@pytest.mark.labelstudio
def test_sdk_variables_alone_drive_the_cli(
    labelstudio_server: LabelStudioServer, no_ls_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    no_ls_env.setenv("LABEL_STUDIO_URL", labelstudio_server.url)
    no_ls_env.setenv("LABEL_STUDIO_API_KEY", labelstudio_server.pat)
    res = runner.invoke(
        app,
        ["-w", str(tmp_path), "ls", "setup", "--title", "from-sdk-env", "--labels", "Car"],
        catch_exceptions=False,
    )
    assert res.exit_code == 0, res.output
    assert "created" in res.output


@pytest.mark.labelstudio
def test_unreachable_server_in_the_cli_is_one_line(
    ls_env: LabelStudioServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIGIE_LABELSTUDIO__URL", f"http://127.0.0.1:{_closed_port()}")
    res = runner.invoke(app, ["ls", "setup", "--title", "nowhere"], catch_exceptions=False)
    assert res.exit_code == 1
    flat = " ".join(res.output.split())
    assert "cannot reach Label Studio" in flat and "Traceback" not in res.output


@pytest.mark.labelstudio
def test_forbidden_answer_is_a_permission_error_with_a_hint(
    fault_proxy: FaultProxy, labelstudio_server: LabelStudioServer, ls_project: Callable[..., int]
) -> None:
    pid = ls_project()
    fault_proxy.fail_after_forward("GET", f"/api/projects/{pid}", status=403)
    with (
        LabelStudioClient(fault_proxy.url, labelstudio_server.token) as client,
        pytest.raises(AuthError, match=r"denied permission \(403\)") as err,
    ):
        client.project(pid)
    assert err.value.hint and "permission" in err.value.hint
    assert labelstudio_server.token not in err.value.message


@pytest.mark.labelstudio
def test_forbidden_in_the_cli_is_one_line(
    fault_proxy: FaultProxy,
    ls_env: LabelStudioServer,
    ls_project: Callable[..., int],
    monkeypatch: pytest.MonkeyPatch,
    make_jpeg: Any,
    tmp_path: Path,
) -> None:
    pid = ls_project()
    make_images(tmp_path / "imgs", make_jpeg, 1)
    fault_proxy.fail_after_forward("GET", f"/api/projects/{pid}", status=403)
    monkeypatch.setenv("VIGIE_LABELSTUDIO__URL", fault_proxy.url)
    args = ["-w", str(tmp_path / "ws"), "ls", "push", str(tmp_path / "imgs"), "--project", str(pid)]
    res = runner.invoke(app, args, catch_exceptions=False)
    assert res.exit_code == 1
    flat = " ".join(res.output.split())
    assert "denied permission (403)" in flat and "Traceback" not in res.output
    assert tasks_of(ls_env, pid) == []


@pytest.mark.labelstudio
def test_upload_with_a_refused_access_token_renews_it_and_imports_once(
    labelstudio_server: LabelStudioServer, ls_project: Callable[..., int], make_jpeg: Any
) -> None:
    pid = ls_project()
    (image,) = make_images(labelstudio_server.data_dir / f"up{pid}", make_jpeg, 1)
    with LabelStudioClient(labelstudio_server.url, labelstudio_server.pat) as client:
        client.check()
        # an access token that looks valid for an hour but that the server refuses (401)
        client.sdk._client_wrapper._tokens_client._set_access_token(
            _jwt(time.time() + 3600, "access")
        )
        with image.open("rb") as fh:
            ids = client.upload_files(pid, [(image.name, fh)])
    assert len(ids) == 1
    assert [t["id"] for t in tasks_of(labelstudio_server, pid)] == ids


@pytest.mark.labelstudio
def test_task_pager_reads_every_page_and_the_export_every_task(
    labelstudio_server: LabelStudioServer, ls_project: Callable[..., int]
) -> None:
    pid = ls_project()
    refs = [f"/data/local-files/?d=pager/{i}.jpg" for i in range(5)]
    with LabelStudioClient(labelstudio_server.url, labelstudio_server.token) as client:
        ids = client.import_tasks(pid, [{"data": {"image": ref}} for ref in refs])
        tasks = list(client.tasks(pid, page_size=2))
        export = json.loads(export_json(client, pid))
    assert sorted(t["id"] for t in tasks) == sorted(ids)
    assert sorted(t["data"]["image"] for t in tasks) == refs
    assert sorted(t["id"] for t in export) == sorted(ids)
