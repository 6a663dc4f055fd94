"""Reliability promise 19: a served workspace stays private.

Read-only; only files the catalog knows and that resolve inside the workspace (no ``..``, no
encoded traversal, no symlink out); loopback unless a token is set; the token on every request.
"""

from __future__ import annotations

import hashlib
import http.client
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from typer.testing import CliRunner

from tests.fixtures.common import Workspace
from tests.fixtures.media import jpeg_bytes
from tests.serve.conftest import running
from vigie.catalog import Catalog
from vigie.catalog.tracks import replace_tracks
from vigie.cli import app
from vigie.config import load_settings
from vigie.errors import CatalogError, ConfigError
from vigie.serve import Dashboard, ServeOptions
from vigie.serve.security import inside_workspace, is_loopback

SECRET = b"TOP-SECRET-OUTSIDE-THE-WORKSPACE"


def raw_get(base: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """GET ``path`` exactly as written (no client-side normalisation of ``..`` or ``%``)."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        res = conn.getresponse()
        return res.status, res.read()
    finally:
        conn.close()


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A file beside the workspace (outside it) that must never be served."""
    path = tmp_path / "secret.jpg"
    path.write_bytes(SECRET)
    return path


@pytest.mark.parametrize(
    "path",
    [
        "/static/../../../../../secret.jpg",
        "/static/../app.py",
        "/static/%2e%2e/app.py",
        "/static/%2e%2e%2fapp.py",
        "/static/%2E%2E%2F%2E%2E%2F%2E%2E%2Fsecret.jpg",
        "/static/%252e%252e%252fapp.py",
        "/static/%252e%252e/%252e%252e/secret.jpg",
        "/static/..%5capp.py",
        "/static/..\\app.py",
        "/static/./app.css",
        "/static/app.css%00.py",
        "/media/..%2f..%2fsecret.jpg",
        "/media/1/..%2f..%2f..%2fsecret.jpg",
        "/media/%2e%2e%2fvigie.db",
        "/detections/1/%2e%2e/%2e%2e/secret.jpg",
    ],
)
def test_traversal_in_the_url_is_refused(dashboard: Dashboard, secret: Path, path: str) -> None:
    status, body = raw_get(dashboard.url, path)
    assert status in (400, 404), (path, status)
    assert SECRET not in body and b"def create_app" not in body and b"SQLite format" not in body


def test_static_files_are_served(dashboard: Dashboard) -> None:
    status, body = raw_get(dashboard.url, "/static/app.css")
    assert status == 200 and b"font-family" in body


def _item(ws: Workspace, key: str, path: str) -> int:
    return ws.catalog.upsert_item(key=key, kind="image", path=path, status="done")


def test_only_catalog_files_inside_the_workspace_are_served(
    filled: Workspace, secret: Path
) -> None:
    ws = filled
    inside = ws.root / "captures" / "ok.jpg"
    inside.parent.mkdir(parents=True, exist_ok=True)
    inside.write_bytes(jpeg_bytes(64, 48, seed=3))
    escape_link = ws.root / "captures" / "escape.jpg"
    escape_link.symlink_to(secret)
    inner_link = ws.root / "captures" / "inner.jpg"
    inner_link.symlink_to(inside)
    folder = ws.root / "captures"
    ids = {
        "inside": _item(ws, "t:inside", str(inside)),
        "inner link": _item(ws, "t:inner", str(inner_link)),
        "absolute outside": _item(ws, "t:outside", str(secret)),
        "symlink out": _item(ws, "t:link", str(escape_link)),
        "dotdot": _item(ws, "t:dotdot", f"{ws.root}/captures/../../{secret.name}"),
        "relative dotdot": _item(ws, "t:reldotdot", f"../{secret.name}"),
        "folder": _item(ws, "t:folder", str(folder)),
        "missing": _item(ws, "t:missing", str(ws.root / "nope.jpg")),
    }
    with running(ws.root) as dash:
        got = {name: raw_get(dash.url, f"/media/{i}") for name, i in ids.items()}
        thumb = raw_get(dash.url, f"/media/{ids['symlink out']}?w=160")
        unknown = raw_get(dash.url, "/media/999999")
    assert got["inside"][0] == 200 and got["inside"][1] == inside.read_bytes()
    assert got["inner link"][0] == 200  # a link that stays inside the workspace is fine
    for name in (
        "absolute outside",
        "symlink out",
        "dotdot",
        "relative dotdot",
        "folder",
        "missing",
    ):
        status, body = got[name]
        assert status == 404 and SECRET not in body, name
    assert thumb[0] == 404 and SECRET not in thumb[1]
    assert unknown[0] == 404


def test_an_annotated_video_outside_the_workspace_is_refused(
    filled: Workspace, secret: Path
) -> None:
    vid = filled.catalog.item("study:53:video:53_v1_3.mp4")
    assert vid is not None
    replace_tracks(
        filled.catalog, vid.id, [], model_name="evil", tracker="vigie", run_id=None,
        video={"signature": "x", "status": "done", "outputs": {"video": str(secret)}},
    )  # fmt: skip
    with running(filled.root) as dash:
        status, body = raw_get(dash.url, f"/media/{vid.id}/annotated?model=evil&tracker=vigie")
        one = httpx.get(dash.url + f"api/videos/{vid.id}", params={"model": "evil"}).json()
    assert status == 404 and SECRET not in body
    assert one["model"] == "evil" and one["annotated"].startswith(f"/media/{vid.id}/annotated")
    assert one["others"] == [{"model": "demo-model", "tracker": "vigie"}]


def test_inside_workspace_resolves_symlinks_before_checking(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    (root / "a").mkdir(parents=True)
    (root / "a" / "f.jpg").write_bytes(b"x")
    (tmp_path / "out.jpg").write_bytes(b"y")
    (root / "a" / "loop").symlink_to(root / "a" / "loop")
    (root / "up").symlink_to(tmp_path)
    assert inside_workspace(root, str(root / "a" / "f.jpg")) == (root / "a" / "f.jpg")
    assert inside_workspace(root, "a/f.jpg") == (root / "a" / "f.jpg")
    assert inside_workspace(root, str(root / "up" / "out.jpg")) is None
    assert inside_workspace(root, str(root / "a" / "loop")) is None
    assert inside_workspace(root, None) is None
    assert inside_workspace(root, "") is None


def test_requests_that_would_write_are_refused(dashboard: Dashboard) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        res = httpx.request(method, dashboard.url + "api/cameras")
        assert res.status_code == 405, method
        assert res.headers["allow"] == "GET, HEAD"


def test_serving_every_page_leaves_the_catalog_file_unchanged(filled: Workspace) -> None:
    filled.catalog.close()  # the writer is done: its WAL is checkpointed into vigie.db
    db = filled.root / "vigie.db"
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    with running(filled.root) as dash:
        for path in ("cameras", "counts", "detections", "videos", "downloads", "models",
                     "api/cameras", "api/detections", "api/counts", "api/models"):  # fmt: skip
            assert httpx.get(dash.url + path).status_code == 200, path
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    # a WAL reader may create the -wal/-shm pair SQLite needs, but writes no page into it
    wal = filled.root / "vigie.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0


def test_the_read_only_catalog_cannot_write(filled: Workspace) -> None:
    reader = Catalog.read_only(filled.settings.resolved_catalog_url)
    try:
        with pytest.raises(CatalogError, match=r"readonly|read-only|read only"):
            reader.source("camera", "intruder")
        assert reader.item("camera:CAM1:0") is not None  # while it reads what is there
    finally:
        reader.close()


def test_a_missing_catalog_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="no catalog at"):
        Catalog.read_only(f"sqlite:///{tmp_path / 'nothing' / 'vigie.db'}")
    assert not (tmp_path / "nothing").exists()  # reading never creates anything


def test_loopback_dashboard_answers_only_loopback_host_names(dashboard: Dashboard) -> None:
    port = dashboard.port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost"):
        assert raw_get(dashboard.url, "/api/cameras", {"Host": host})[0] == 200, host
    for host in ("evil.example", f"evil.example:{port}", f"192.168.1.10:{port}"):
        assert raw_get(dashboard.url, "/api/cameras", {"Host": host})[0] == 400, host


def test_every_request_needs_the_token_when_one_is_set(filled: Workspace) -> None:
    token = "a-long-random-token-0123456789"
    with running(filled.root, token=token) as dash:
        base = dash.url
        for path in ("cameras", "api/cameras", "static/app.css", "media/1", "api"):
            res = httpx.get(base + path)
            assert res.status_code == 401, path
            assert res.headers["www-authenticate"].startswith("Bearer")
        assert httpx.get(base + "api/cameras", headers={"Authorization": "Bearer nope"}).status_code == 401  # fmt: skip
        assert httpx.get(base + "api/cameras", params={"token": token + "x"}).status_code == 401
        good = httpx.get(base + "api/cameras", headers={"Authorization": f"Bearer {token}"})
        assert good.status_code == 200 and good.json()["cameras"][0]["name"] == "CAM1"
        # a browser: ?token= once, then the cookie it sets (which is not the token itself)
        first = httpx.get(base + "cameras", params={"token": token})
        assert first.status_code == 200
        cookie = first.cookies.get("vigie_session")
        assert cookie and token not in cookie
        assert "HttpOnly" in first.headers["set-cookie"]
        again = httpx.get(base + "static/app.css", cookies={"vigie_session": cookie})
        assert again.status_code == 200
        forged = httpx.get(base + "cameras", cookies={"vigie_session": token})
        assert forged.status_code == 401
        # with a token the Host header is not restricted (it may run behind a proxy name)
        assert raw_get(base, "/api", {"Host": "dash.example", "Authorization": f"Bearer {token}"})[0] == 200  # fmt: skip


def test_a_non_loopback_host_without_a_token_does_not_start(filled: Workspace) -> None:
    url = filled.settings.resolved_catalog_url
    for host in ("0.0.0.0", "192.168.1.10", "::", "example.org"):
        with pytest.raises(ConfigError, match="without a token"):
            Dashboard(ServeOptions(url, filled.root, host=host, port=0))
    with pytest.raises(ConfigError, match="empty"):
        Dashboard(ServeOptions(url, filled.root, host="0.0.0.0", port=0, token=" "))


def test_cli_serve_refuses_a_public_host_without_a_token(filled: Workspace) -> None:
    res = CliRunner().invoke(app, ["serve", "-w", str(filled.root), "--host", "0.0.0.0"])
    assert res.exit_code == 1
    assert "refusing to serve on 0.0.0.0 without a token" in res.output
    assert "VIGIE_SERVE__TOKEN" in res.output and "Traceback" not in res.output


def test_loopback_names_are_recognised() -> None:
    for host in ("127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "LOCALHOST"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "::", "192.168.1.2", "10.0.0.1", "example.org", ""):
        assert not is_loopback(host), host


def test_the_token_comes_from_the_environment_never_from_vigie_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIGIE_SERVE__TOKEN", "from-the-env")
    cfg = load_settings()
    assert cfg.serve.token is not None and cfg.serve.token.get_secret_value() == "from-the-env"
    assert "from-the-env" not in str(cfg.safe_dump())
    assert ServeOptions.from_settings(cfg).token == "from-the-env"
    toml = tmp_path / "vigie.toml"
    toml.write_text('[serve]\nport = 9000\ntoken = "in-the-file"\n')
    with pytest.raises(ConfigError, match=r"secret \(serve.token\)"):
        load_settings(toml)
    toml.write_text("[serve]\nport = 9000\nhost = '127.0.0.1'\n")
    assert load_settings(toml).serve.port == 9000
