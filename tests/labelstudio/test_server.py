"""Push, pull, tokens and idempotence against a real Label Studio server."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.fixtures.http import FaultServer, Reply
from tests.fixtures.labelstudio import FaultProxy, LabelStudioServer
from tests.fixtures.media import jpeg_bytes
from tests.labelstudio.helpers import annotate, api, make_images, tasks_of
from vigie.catalog import Catalog
from vigie.cli import app
from vigie.errors import AuthError, ConfigError
from vigie.labelstudio import LabelStudioClient, pull, push, setup_project

pytestmark = pytest.mark.labelstudio
runner = CliRunner()


def _push_accounts_for_every_image(r: Any) -> None:
    assert r.imported + r.skipped + r.failed + r.left_for_later == r.found


def _pull_accounts_for_every_task(r: Any) -> None:
    assert r.downloaded + r.present + r.failed == r.labelled
    assert r.labelled + r.unannotated + r.cancelled + len(r.malformed) == r.tasks


def _cli(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_setup_creates_a_project_then_reuses_it_by_title(ls_env: LabelStudioServer) -> None:
    first = _cli(
        "labelstudio",
        "setup",
        "--title",
        "Lyon traffic",
        "--labels",
        "Car,Pedestrian,Truck,Scooter,Motorbike,Bus,Bicycle,Motor Scooter",
    )
    assert first.exit_code == 0, first.output
    assert "created" in first.output
    again = _cli(
        "ls",
        "setup",
        "--title",
        "Lyon traffic",
        "--labels",
        "Car,Pedestrian,Truck,Scooter,Motorbike,Bus,Bicycle,Motor Scooter",
    )
    assert again.exit_code == 0 and "reused" in again.output
    same = [
        p
        for p in api(ls_env, "GET", "api/projects/", params={"page_size": 100})["results"]
        if p["title"] == "Lyon traffic"
    ]
    assert len(same) == 1
    by_id = _cli(
        "ls",
        "setup",
        "--project",
        str(same[0]["id"]),
        "--labels",
        "Car,Pedestrian,Truck,Scooter,Motorbike,Bus,Bicycle,Motor Scooter,Tram",
    )
    assert by_id.exit_code == 0 and "updated" in by_id.output
    assert "Tram" in api(ls_env, "GET", f"api/projects/{same[0]['id']}/")["label_config"]


def test_push_by_upload_then_repush_imports_nothing(
    ls_env: LabelStudioServer, ls_project: Callable[..., int], tmp_path: Path, make_jpeg: Any
) -> None:
    pid = ls_project()
    make_images(tmp_path / "imgs", make_jpeg, 5)
    make_jpeg(tmp_path / "imgs" / "sub" / "img000.jpg", 160, 120, seed=99)  # same name, other dir
    res = _cli(
        "-w",
        str(tmp_path / "ws"),
        "ls",
        "push",
        str(tmp_path / "imgs"),
        "--project",
        str(pid),
        "--batch",
        "4",
    )
    assert res.exit_code == 0, res.output
    tasks = tasks_of(ls_env, pid)
    assert len(tasks) == 6
    assert all(t["data"]["image"].startswith(f"/data/upload/{pid}/") for t in tasks)
    assert any(t["file_upload"].endswith("-sub__img000.jpg") for t in tasks)
    again = _cli(
        "-w", str(tmp_path / "ws"), "ls", "push", str(tmp_path / "imgs"), "--project", str(pid)
    )
    assert again.exit_code == 0, again.output
    assert len(tasks_of(ls_env, pid)) == 6


def test_push_max_limits_new_imports_per_run(
    ls_env: LabelStudioServer, ls_project: Callable[..., int], tmp_path: Path, make_jpeg: Any
) -> None:
    pid = ls_project()
    make_images(tmp_path / "imgs", make_jpeg, 5)
    for expected in (2, 4, 5):
        res = _cli(
            "-w",
            str(tmp_path / "ws"),
            "ls",
            "push",
            str(tmp_path / "imgs"),
            "--project",
            str(pid),
            "--max",
            "2",
        )
        assert res.exit_code == 0, res.output
        assert len(tasks_of(ls_env, pid)) == expected


def test_push_local_files_imports_references_served_by_the_server(
    labelstudio_server: LabelStudioServer,
    ls_project: Callable[..., int],
    workspace: Any,
    make_jpeg: Any,
    tmp_path: Path,
) -> None:
    pid = ls_project()
    folder = labelstudio_server.document_root / f"cam{pid}"
    paths = make_images(folder, make_jpeg, 3)
    with LabelStudioClient(labelstudio_server.url, labelstudio_server.token) as client:
        result = push(
            client,
            workspace.catalog,
            folder,
            pid,
            storage="local-files",
            document_root=labelstudio_server.document_root,
        )
        assert (result.imported, result.failed) == (3, 0)
        refs = sorted(t["data"]["image"] for t in tasks_of(labelstudio_server, pid))
        assert refs == [f"/data/local-files/?d=cam{pid}/img00{i}.jpg" for i in range(3)]
        for t in tasks_of(labelstudio_server, pid):
            annotate(labelstudio_server, t["id"], [("Car", 10, 10, 20, 20)])
        # no document root here: the images come through the server's /data/local-files/
        out = pull(tmp_path / "out", client=client, project_id=pid)
    assert (out.downloaded, out.failed) == (3, 0)
    for p in paths:
        assert (tmp_path / "out" / "images" / p.name).read_bytes() == p.read_bytes()


def test_push_local_files_outside_document_root_fails_before_any_request(
    fault_proxy: FaultProxy,
    ls_project: Callable[..., int],
    labelstudio_server: LabelStudioServer,
    workspace: Any,
    make_jpeg: Any,
    tmp_path: Path,
) -> None:
    make_images(tmp_path / "elsewhere", make_jpeg, 2)
    with (
        LabelStudioClient(fault_proxy.url, labelstudio_server.token) as client,
        pytest.raises(ConfigError, match="outside the Label Studio document root"),
    ):
        push(
            client,
            workspace.catalog,
            tmp_path / "elsewhere",
            1,
            storage="local-files",
            document_root=labelstudio_server.document_root,
        )
    assert fault_proxy.forwarded == []


def test_repush_after_5xx_on_a_committed_import_creates_no_duplicate(
    fault_proxy: FaultProxy,
    ls_project: Callable[..., int],
    labelstudio_server: LabelStudioServer,
    workspace: Any,
    make_jpeg: Any,
    tmp_path: Path,
) -> None:
    pid = ls_project()
    make_images(tmp_path / "imgs", make_jpeg, 6)
    fault_proxy.fail_after_forward("POST", f"/api/projects/{pid}/import", status=502, times=1)
    with LabelStudioClient(fault_proxy.url, labelstudio_server.token) as client:
        result = push(client, workspace.catalog, tmp_path / "imgs", pid, batch=4)
        _push_accounts_for_every_image(result)
        assert (result.imported, result.failed, result.reconciled) == (6, 0, 4)
        imports = [f for f in fault_proxy.forwarded if f[0] == "POST" and "/import" in f[1]]
        assert len(imports) == 2  # the failed-but-committed batch was not sent again
        assert len(tasks_of(labelstudio_server, pid)) == 6
        again = push(client, workspace.catalog, tmp_path / "imgs", pid, batch=4)
        _push_accounts_for_every_image(again)
    assert (again.imported, again.skipped) == (0, 6)
    assert len(tasks_of(labelstudio_server, pid)) == 6


def test_pull_from_api_writes_yolo_labels_and_skips_present_images(
    labelstudio_server: LabelStudioServer,
    ls_project: Callable[..., int],
    workspace: Any,
    make_jpeg: Any,
    tmp_path: Path,
) -> None:
    pid = ls_project(["Car", "Bus", "Pedestrian"])
    make_images(tmp_path / "imgs", make_jpeg, 4)
    with LabelStudioClient(labelstudio_server.url, labelstudio_server.token) as client:
        push(client, workspace.catalog, tmp_path / "imgs", pid)
        tasks = sorted(tasks_of(labelstudio_server, pid), key=lambda t: t["id"])
        annotate(
            labelstudio_server, tasks[0]["id"], [("Bus", 10, 20, 30, 40), ("Car", 0, 0, 10, 10)]
        )
        annotate(labelstudio_server, tasks[1]["id"], [])  # annotated, nothing in it
        annotate(labelstudio_server, tasks[2]["id"], [("Car", 5, 5, 5, 5)], cancelled=True)
        res = pull(tmp_path / "out", client=client, project_id=pid, catalog=workspace.catalog)
        _pull_accounts_for_every_task(res)
        assert not list((tmp_path / "out").rglob("*.part"))
        assert (res.labelled, res.downloaded, res.cancelled, res.unannotated) == (2, 2, 1, 1)
        labels = tmp_path / "out" / "labels"
        assert (labels / "img000.txt").read_text().splitlines() == [
            "1 0.250000 0.400000 0.300000 0.400000",
            "0 0.050000 0.050000 0.100000 0.100000",
        ]
        assert (labels / "img001.txt").read_text() == ""
        assert (tmp_path / "out" / "classes.txt").read_text().split() == [
            "Car",
            "Bus",
            "Pedestrian",
        ]
        assert (tmp_path / "out" / "images" / "img000.jpg").read_bytes() == (
            tmp_path / "imgs" / "img000.jpg"
        ).read_bytes()
        again = pull(tmp_path / "out", client=client, project_id=pid, snapshot=True)
        _pull_accounts_for_every_task(again)
    assert (again.downloaded, again.present) == (0, 2)
    assert workspace.catalog.items(key_prefix="labelstudio:")


@pytest.mark.parametrize("fmt", ["JSON", "JSON_MIN"])
def test_pull_from_real_export_file(
    ls_env: LabelStudioServer,
    ls_project: Callable[..., int],
    workspace: Any,
    make_jpeg: Any,
    tmp_path: Path,
    fmt: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LABEL_STUDIO_BASE_DATA_DIR", str(ls_env.data_dir))  # as on its machine
    pid = ls_project(["Car", "Bus", "Pedestrian"])
    make_images(tmp_path / "imgs", make_jpeg, 2)
    with LabelStudioClient(ls_env.url, ls_env.token) as client:
        push(client, workspace.catalog, tmp_path / "imgs", pid)
    for t in tasks_of(ls_env, pid):
        annotate(ls_env, t["id"], [("Pedestrian", 50, 50, 10, 20)])
    export = tmp_path / f"export-{fmt}.json"
    text = api(ls_env, "GET", f"api/projects/{pid}/export", params={"exportType": fmt})
    export.write_text(json.dumps(text))
    res = _cli(
        "-w",
        str(workspace.root),
        "ls",
        "pull",
        "--export",
        str(export),
        "--out",
        str(tmp_path / "out"),
        "--labels",
        "Car,Bus,Pedestrian",
    )
    assert res.exit_code == 0, res.output
    assert f"--media-root {ls_env.data_dir / 'media'}" in " ".join(res.output.split())
    assert sorted(p.name for p in (tmp_path / "out" / "images").iterdir()) == [
        "img000.jpg",
        "img001.jpg",
    ]
    assert (
        tmp_path / "out" / "labels" / "img001.txt"
    ).read_text() == "2 0.550000 0.600000 0.100000 0.200000\n"
    local = _cli(
        "ls",
        "pull",
        "--export",
        str(export),
        "--out",
        str(tmp_path / "from-media"),
        "--labels",
        "Car,Bus,Pedestrian",
        "--media-root",
        str(ls_env.data_dir / "media"),
    )
    assert local.exit_code == 0, local.output
    for name in ("img000.jpg", "img001.jpg"):
        assert (tmp_path / "from-media" / "images" / name).read_bytes() == (
            tmp_path / "out" / "images" / name
        ).read_bytes()
    no_dl = _cli(
        "ls",
        "pull",
        "--export",
        str(export),
        "--out",
        str(tmp_path / "labels-only"),
        "--no-download",
        "--labels",
        "Car,Bus,Pedestrian",
    )
    assert no_dl.exit_code == 0, no_dl.output
    assert not any((tmp_path / "labels-only" / "images").iterdir())
    assert len(list((tmp_path / "labels-only" / "labels").iterdir())) == 2


def test_pull_downloads_every_url_form(
    labelstudio_server: LabelStudioServer,
    ls_project: Callable[..., int],
    workspace: Any,
    make_jpeg: Any,
    tmp_path: Path,
    fault_server: FaultServer,
) -> None:
    pid = ls_project(["Car"])
    make_images(tmp_path / "imgs", make_jpeg, 1)
    local = make_jpeg(
        labelstudio_server.document_root / f"forms{pid}" / "local.jpg", 160, 120, seed=7
    )
    with LabelStudioClient(labelstudio_server.url, labelstudio_server.token) as client:
        push(client, workspace.catalog, tmp_path / "imgs", pid)
        push(
            client,
            workspace.catalog,
            local.parent,
            pid,
            storage="local-files",
            document_root=labelstudio_server.document_root,
        )
        upload = next(t for t in tasks_of(labelstudio_server, pid) if t["file_upload"])
        stored = upload["data"]["image"].removeprefix("/data/")  # upload/<pid>/<uuid>-img000.jpg
        foreign = fault_server.route(
            "/ext/far.jpg", Reply(body=jpeg_bytes(seed=3), headers={"Content-Type": "image/jpeg"})
        )
        refs = {
            "upload.jpg": upload["data"]["image"],
            "storage.jpg": f"/storage-data/uploaded/?filepath={stored}",
            "seed.jpg": stored,  # the seed's bare form, joined to /storage-data/uploaded/
            "local.jpg": f"/data/local-files/?d=forms{pid}/local.jpg",
            "absolute.jpg": labelstudio_server.url + upload["data"]["image"],
            "far.jpg": foreign,
        }
        items = [
            {
                "id": i + 1,
                "file_upload": name,
                "data": {"image": ref},
                "annotations": [{"id": i + 1, "result": []}],
            }
            for i, (name, ref) in enumerate(refs.items())
        ]
        export = tmp_path / "export.json"
        export.write_text(json.dumps(items))
        res = pull(
            tmp_path / "out", client=client, export_file=export, labels=["Car"], allow_private=True
        )
    assert (res.downloaded, res.failed) == (6, 0), res.failures
    assert (tmp_path / "out" / "images" / "local.jpg").read_bytes() == local.read_bytes()
    # the server's own media folder, read directly: no client, no request
    uploaded = [i for i in items if i["file_upload"] in ("upload.jpg", "storage.jpg", "seed.jpg")]
    export.write_text(json.dumps(uploaded))
    direct = pull(
        tmp_path / "direct",
        export_file=export,
        labels=["Car"],
        media_root=labelstudio_server.data_dir / "media",
    )
    assert (direct.downloaded, direct.failed) == (3, 0), direct.failures
    for name in ("upload.jpg", "storage.jpg", "seed.jpg"):
        assert (tmp_path / "direct" / "images" / name).read_bytes() == (
            tmp_path / "imgs" / "img000.jpg"
        ).read_bytes()
    far = [r for r in fault_server.requests if r.path == "/ext/far.jpg"]
    assert far and all("Authorization" not in r.headers for r in far)  # token stays home


def test_wrong_token_is_a_one_line_error(
    ls_env: LabelStudioServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIGIE_LABELSTUDIO_TOKEN", "0123456789abcdef-wrong-token")
    res = _cli("ls", "setup", "--title", "nope")
    assert res.exit_code == 1
    flat = " ".join(res.output.split())
    assert "error:" in flat and "refused the token (401)" in flat
    assert "Traceback" not in res.output and "wrong-token" not in res.output


def _forged_jwt(exp: float, token_type: str = "access") -> str:
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return ".".join(
        [
            part({"alg": "HS256", "typ": "JWT"}),
            part({"token_type": token_type, "exp": int(exp), "user_id": "1"}),
            "c2ln",
        ]
    )


def _sdk_tokens(client: LabelStudioClient) -> Any:
    """The SDK's token cache (only tests reach into it, to plant a stale access token)."""
    return client.sdk._client_wrapper._tokens_client


def test_expired_access_token_is_refreshed_before_use(
    labelstudio_server: LabelStudioServer,
) -> None:
    with LabelStudioClient(labelstudio_server.url, labelstudio_server.pat) as client:
        assert client.uses_personal_access_token
        client.check()
        _sdk_tokens(client)._set_access_token(_forged_jwt(time.time() - 10))
        assert client.check() == "vigie@example.com"
        assert _sdk_tokens(client)._access_token_expiration.timestamp() > time.time()


def test_access_token_refused_with_401_is_refreshed_once(
    labelstudio_server: LabelStudioServer,
) -> None:
    with LabelStudioClient(labelstudio_server.url, labelstudio_server.pat) as client:
        # looks valid for an hour, but the server rejects its signature: 401, refresh, retry
        _sdk_tokens(client)._set_access_token(_forged_jwt(time.time() + 3600))
        assert client.check() == "vigie@example.com"


def test_expired_personal_access_token_is_a_clear_auth_error(
    labelstudio_server: LabelStudioServer,
) -> None:
    with pytest.raises(AuthError, match="refused"):
        LabelStudioClient(labelstudio_server.url, _forged_jwt(time.time() - 60, "refresh"))


def test_setup_project_is_idempotent_by_title_through_the_api(
    labelstudio_server: LabelStudioServer,
) -> None:
    with LabelStudioClient(labelstudio_server.url, labelstudio_server.pat) as client:
        a = setup_project(client, title="api-idem", labels=["Car", "Bus"])
        b = setup_project(client, title="api-idem", labels=["Car", "Bus"])
    assert a.created and not b.created and a.id == b.id


def test_cli_push_local_files_with_document_root(
    ls_env: LabelStudioServer, ls_project: Callable[..., int], make_jpeg: Any, tmp_path: Path
) -> None:
    pid = ls_project()
    folder = ls_env.document_root / f"cli{pid}"
    make_images(folder, make_jpeg, 2)
    res = _cli(
        "-w",
        str(tmp_path / "ws"),
        "ls",
        "push",
        str(folder),
        "--project",
        str(pid),
        "--storage",
        "local-files",
        "--document-root",
        str(ls_env.document_root),
    )
    assert res.exit_code == 0, res.output
    refs = sorted(t["data"]["image"] for t in tasks_of(ls_env, pid))
    assert refs == [f"/data/local-files/?d=cli{pid}/img00{i}.jpg" for i in range(2)]
    make_images(tmp_path / "elsewhere", make_jpeg, 1)
    outside = _cli(
        "ls",
        "push",
        str(tmp_path / "elsewhere"),
        "--project",
        str(pid),
        "--storage",
        "local-files",
        "--document-root",
        str(ls_env.document_root),
    )
    assert outside.exit_code == 1
    assert "outside the Label Studio document root" in " ".join(outside.output.split())


def test_image_download_refreshes_a_refused_access_token_once(
    labelstudio_server: LabelStudioServer,
    ls_project: Callable[..., int],
    workspace: Any,
    make_jpeg: Any,
    tmp_path: Path,
) -> None:
    from vigie.labelstudio.fetch import ImageFetcher

    pid = ls_project()
    (path,) = make_images(tmp_path / "imgs", make_jpeg, 1)
    with LabelStudioClient(labelstudio_server.url, labelstudio_server.pat) as client:
        push(client, workspace.catalog, tmp_path / "imgs", pid)
        ref = tasks_of(labelstudio_server, pid)[0]["data"]["image"]
        _sdk_tokens(client)._set_access_token(_forged_jwt(time.time() + 3600))
        fetcher = ImageFetcher(client, client.url)
        assert fetcher.fetch(ref) == path.read_bytes()
        fetcher.close()
    with LabelStudioClient(labelstudio_server.url, "0123456789abcdef-wrong") as bad:
        fetcher = ImageFetcher(bad, bad.url)
        with pytest.raises(AuthError, match="401"):
            fetcher.fetch(ref)
        fetcher.close()


def test_push_with_a_fresh_catalog_adopts_tasks_already_on_the_server(
    labelstudio_server: LabelStudioServer,
    ls_project: Callable[..., int],
    make_jpeg: Any,
    tmp_path: Path,
) -> None:
    pid = ls_project()
    make_images(tmp_path / "imgs", make_jpeg, 3)
    cat_a, cat_b = Catalog(f"sqlite:///{tmp_path}/a.db"), Catalog(f"sqlite:///{tmp_path}/b.db")
    with LabelStudioClient(labelstudio_server.url, labelstudio_server.token) as client:
        first = push(client, cat_a, tmp_path / "imgs", pid)
        make_images(tmp_path / "imgs", make_jpeg, 4)  # one more image since
        # e.g. the run was killed after the import, before its bookkeeping: catalog b knows nothing
        second = push(client, cat_b, tmp_path / "imgs", pid)
    cat_a.close()
    cat_b.close()
    assert first.imported == 3
    assert (second.imported, second.skipped, second.reconciled) == (1, 3, 3)
    _push_accounts_for_every_image(second)
    assert len(tasks_of(labelstudio_server, pid)) == 4
