"""The input of a download is read lazily, in chunks: the parent never holds the whole job list."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.download.helpers import fast_settings, media_files
from tests.fixtures.common import Workspace
from tests.fixtures.http import FaultServer, Reply
from tests.fixtures.media import jpeg_bytes
from vigie.download import download
from vigie.download.jobs import Entry, Job, JobSource, read_url_list, study_key
from vigie.types import ItemStatus, MediaKind

N = 1_000
CHUNK = 20


@pytest.mark.parametrize("processes", [1, 2])
def test_the_job_source_is_consumed_a_few_chunks_ahead_of_the_results(
    fault_server: FaultServer,
    workspace: Workspace,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    processes: int,
) -> None:
    import vigie.download.core as core

    url = fault_server.route("/same.jpg", Reply(body=jpeg_bytes(48, 36)))
    pulled = 0

    def entries() -> Iterator[Entry]:  # a "manifest" of N items that exists only as a generator
        nonlocal pulled
        for i in range(N):
            pulled += 1
            name = f"53_P{i}_1.jpg"
            yield Job(study_key(53, name), url, name, MediaKind.IMAGE, study_id=53), False

    source = JobSource(entries, N, label="53", study_id=53, source_kind="study", source_name="53")
    monkeypatch.setattr(core, "_jobs", lambda *_args: source)
    monkeypatch.setattr(core, "CHUNK_SIZE", CHUNK)
    reported = 0
    ahead: list[int] = []  # items pulled from the source and not reported yet, at each report

    def on_item(_item: object) -> None:
        nonlocal reported
        ahead.append(pulled - reported)
        reported += 1

    settings = fast_settings(workspace.root, concurrency=16, per_host=16, processes=processes)
    out = tmp_path / "out"
    result = download(
        study=53, out=out, settings=settings, catalog=workspace.catalog, on_item=on_item,
        purpose="media_analysis",
    )  # fmt: skip
    assert (result.total, result.done, result.failed) == (N, N, 0)
    assert len(media_files(out / "images_53")) == N
    # the first chunks only before the first result, and never more than a few chunks held:
    # the one being read, 2 per worker waiting in the queue, and per worker the chunks its
    # slots and its unsent batch (32 items) span
    bound = (2 + 4 * processes) * CHUNK + settings.download.concurrency + 32 * processes
    assert ahead[0] <= bound < N
    assert max(ahead) <= bound


def test_names_and_duplicates_are_resolved_across_chunks(
    fault_server: FaultServer,
    workspace: Workspace,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import vigie.download.core as core

    monkeypatch.setattr(core, "CHUNK_SIZE", 3)
    a = fault_server.route("/a/x.jpg", Reply(body=jpeg_bytes(48, 36, seed=1)))
    b = fault_server.route("/b/x.jpg", Reply(body=jpeg_bytes(48, 36, seed=2)))
    fillers = [fault_server.route(f"/f/{i}.jpg", Reply(body=jpeg_bytes(48, 36))) for i in range(7)]
    urls = tmp_path / "urls.txt"
    urls.write_text("\n".join([a, *fillers[:4], b, *fillers[4:], a]) + "\n")

    # read lazily: the same jobs in the same order, however they are chunked
    source = read_url_list(urls, tmp_path / "out")
    entries = list(source.entries())
    assert source.total == len(entries) == 10
    names = [job.filename for job, _ in entries]
    assert names[0] == "x.jpg" and names[5].startswith("x-") and names[9] == "x.jpg"
    assert [dup for _, dup in entries] == [False] * 9 + [True]

    result = download(
        urls=urls, out=tmp_path / "out", settings=fast_settings(workspace.root, processes=1),
        catalog=workspace.catalog, keep_items=True,
    )  # fmt: skip
    assert (result.total, result.done, result.skipped) == (10, 9, 1)
    skipped = [i for i in result.items if i.status is ItemStatus.SKIPPED]
    assert [(i.url, i.filename, i.error_class) for i in skipped] == [(a, "x.jpg", "duplicate")]
    fetched = {n for n in media_files(tmp_path / "out") if n.endswith(".jpg")}
    assert fetched == {"x.jpg", names[5]} | {f"{i}.jpg" for i in range(7)}


def test_seen_answers_like_a_set_of_the_strings_while_it_grows() -> None:
    from vigie.download.safety import Seen

    seen, plain = Seen(), set[str]()
    for i in range(5_000):  # grows its table several times
        value = f"https://cdn.example/{i % 3_000}/x.jpg"
        assert (value in seen) == (value in plain)
        seen.add(value)
        plain.add(value)
    assert len(seen) == len(plain) == 3_000
    assert "https://cdn.example/2999/x.jpg" in seen and "https://cdn.example/3000/x.jpg" not in seen
    assert 42 not in seen
