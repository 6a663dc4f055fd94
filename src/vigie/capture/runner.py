"""The polling machinery behind :func:`vigie.capture.capture`: one asyncio task per camera."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from vigie.capture.fetch import FetchFailed
from vigie.capture.frame import Frame, FrameRejected, inspect_frame
from vigie.capture.kinds import url_kind
from vigie.capture.registry import Camera
from vigie.capture.schedule import Grid
from vigie.capture.sources import FrameSource, open_source
from vigie.capture.state import CameraState, CameraStats, last_kept_frame
from vigie.catalog import Catalog
from vigie.config import CaptureSettings
from vigie.dedup import hamming, int_to_hex
from vigie.errors import output_dir
from vigie.files import sweep_parts, write_atomic
from vigie.media import IMAGE_FORMATS
from vigie.net import ANY_ADDRESS, async_client
from vigie.types import ItemStatus, MediaItem, MediaKind, RunCounts

log = logging.getLogger(__name__)

# a run until stopped (count=0) returns only its latest kept frames: the list must not grow with
# the run's length (every one is in the catalog and on disk)
FRAMES_IN_RESULT = 1000


class Runner:
    def __init__(
        self,
        cap: CaptureSettings,
        catalog: Catalog,
        run_id: int,
        on_poll: Callable[[CameraStats, str], None] | None,
    ) -> None:
        self.cap = cap
        self.catalog = catalog
        self.run_id = run_id
        self.on_poll = on_poll
        self.frames: deque[MediaItem] = deque(maxlen=None if cap.count else FRAMES_IN_RESULT)
        self.states: list[CameraState] = []

    def counts(self) -> RunCounts:
        stats = [s.stats for s in self.states]
        return RunCounts(
            done=sum(s.kept for s in stats),
            duplicates=sum(s.duplicates for s in stats),
            failed=sum(s.failed for s in stats),
            extra={"polls": sum(s.polls for s in stats)},
        )

    # -- set-up ------------------------------------------------------------------------------
    def prepare(self, cam: Camera) -> CameraState:
        root = output_dir(self.cap.out)
        folder = root / cam.name if self.cap.camera_folders else root  # False: the seed's images/
        folder.mkdir(parents=True, exist_ok=True)
        sweep_parts(folder)
        meta = {
            k: v for k, v in cam.as_dict().items() if v is not None and k not in ("name", "url")
        }
        source_id = self.catalog.source("camera", cam.name, cam.url, meta or None)
        state = CameraState(
            cam, folder, source_id, CameraStats(cam.name, cam.url, folder.resolve())
        )
        state.kind = url_kind(cam.url, self.cap.kind)
        if state.kind != "auto":
            state.stats.kind = state.kind
        last = last_kept_frame(folder)
        if last is not None:
            try:
                frame = inspect_frame(last.read_bytes(), self.cap.max_pixels)
            except (OSError, FrameRejected) as exc:
                log.warning("camera %s: cannot read the last frame %s (%s)", cam.name, last, exc)
            else:
                state.last_sha, state.last_hashes, state.last_name = (
                    frame.sha256,
                    frame.hashes,
                    last.name,
                )
                state.stats.last_frame = last.resolve()
                log.info("camera %s: continuing after %s", cam.name, last.name)
        self.states.append(state)
        return state

    # -- the loop ----------------------------------------------------------------------------
    async def run_all(self, states: list[CameraState], external: threading.Event | None) -> bool:
        """Run every camera until its count is reached or a stop; True when stopped."""
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        installed: dict[signal.Signals, Any] = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                previous = signal.getsignal(sig)
                try:
                    loop.add_signal_handler(sig, self._on_signal, stop, sig)
                    installed[sig] = previous
                except (ValueError, RuntimeError, NotImplementedError):
                    pass
        watcher = asyncio.create_task(self._watch(external, stop)) if external else None
        try:
            # cameras live on LANs: capture connects to any address (its own policy)
            async with async_client(
                ANY_ADDRESS,
                connections=max(10, 2 * len(states)),
                connect_timeout=self.cap.timeout,
                read_timeout=self.cap.timeout,
                follow_redirects=True,
                headers={"User-Agent": "vigie-capture"},
            ) as client:
                tasks = [asyncio.create_task(self._camera(client, s, stop)) for s in states]
                stopper = asyncio.create_task(stop.wait())
                await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
                while not stop.is_set() and not all(t.done() for t in tasks):
                    await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
                if stop.is_set():
                    pending = [t for t in tasks if not t.done()]
                    if pending:
                        await asyncio.wait(pending, timeout=self.cap.stop_grace)
                stopper.cancel()
                for t in tasks:
                    t.cancel()
                results = await asyncio.gather(*tasks, stopper, return_exceptions=True)
                for res in results[:-1]:
                    if isinstance(res, BaseException) and not isinstance(
                        res, asyncio.CancelledError
                    ):
                        raise res
        finally:
            if watcher:
                watcher.cancel()
            for sig, previous in installed.items():
                loop.remove_signal_handler(sig)
                signal.signal(sig, previous)  # give the caller its own handlers back
        return stop.is_set()

    @staticmethod
    def _on_signal(stop: asyncio.Event, sig: signal.Signals) -> None:
        if not stop.is_set():
            log.warning("%s received: stopping after the current frames", sig.name)
        stop.set()

    @staticmethod
    async def _watch(external: threading.Event, stop: asyncio.Event) -> None:
        while not external.is_set():
            await asyncio.sleep(0.05)
        stop.set()

    async def _camera(
        self, client: httpx.AsyncClient, st: CameraState, stop: asyncio.Event
    ) -> None:
        source = open_source(st.kind, client, st, self.cap)
        try:
            await self._polls(source, st, stop)
        finally:
            await source.aclose()

    async def _polls(self, source: FrameSource, st: CameraState, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        grid = Grid(loop.time(), self.cap.every)
        count = self.cap.count
        while not stop.is_set() and (count == 0 or st.stats.polls < count):
            delay = grid.due() - loop.time()
            if delay > 0:
                try:
                    await asyncio.wait_for(stop.wait(), delay)
                    break
                except TimeoutError:
                    pass
            if st.not_before > loop.time():
                grid.skip_until(st.not_before)
                continue
            st.stats.polls += 1
            outcome = await self._poll(source, st)
            if self.on_poll is not None:
                self.on_poll(st.stats, outcome)
            grid.advance(loop.time())
            st.stats.missed_ticks = grid.missed

    # -- one poll ----------------------------------------------------------------------------
    def _filename(self, st: CameraState, when: datetime) -> str:
        local = when.astimezone() if self.cap.timezone == "local" else when
        stamp = local.strftime("%Y%m%d%H%M%S")
        st.seq = st.seq + 1 if stamp == st.last_stamp else 0
        st.last_stamp = stamp
        while True:
            stem = stamp if st.seq == 0 else f"{stamp}_{st.seq}"
            if not any(
                (st.folder / f"{stem}{ext}").exists() for ext in set(IMAGE_FORMATS.values())
            ):
                return stem
            st.seq += 1

    async def _poll(self, source: FrameSource, st: CameraState) -> str:
        when = datetime.now(UTC)
        stem = self._filename(st, when)
        cap = self.cap
        try:
            fetched = await source.grab()
            if fetched.body is None:  # 304 Not Modified
                return self._duplicate(st, f"{stem}.jpg", when, None, "not_modified", 0)
            frame = await asyncio.to_thread(inspect_frame, fetched.body, cap.max_pixels)
        except FetchFailed as exc:
            if exc.retry_after is not None:
                st.not_before = asyncio.get_running_loop().time() + exc.retry_after
            return self._failed(st, f"{stem}.jpg", when, exc.error_class, exc.message)
        except FrameRejected as exc:
            return self._failed(st, f"{stem}.jpg", when, exc.error_class, exc.message)
        st.etag, st.last_modified = fetched.etag, fetched.last_modified
        filename = f"{stem}{frame.suffix}"
        if frame.sha256 == st.last_sha:
            return self._duplicate(st, filename, when, frame, "identical_bytes", 0)
        if st.last_hashes is not None:
            distance = hamming(frame.hashes[cap.hash], st.last_hashes[cap.hash])
            if distance <= cap.threshold:
                return self._duplicate(st, filename, when, frame, "same_picture", distance)
        return self._keep(st, filename, when, frame)

    def _row(
        self,
        st: CameraState,
        filename: str,
        when: datetime,
        status: ItemStatus,
        frame: Frame | None = None,
        path: Path | None = None,
        error_class: str | None = None,
        error: str | None = None,
        meta: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        hashes = frame.hashes if frame else {}
        return {
            "key": f"camera:{st.camera.name}:{filename}",
            "source_id": st.source_id,
            "kind": MediaKind.IMAGE.value,
            "url": st.camera.url,
            "path": str(path) if path else None,
            "filename": filename,
            "sha256": frame.sha256 if frame else None,
            "ahash": int_to_hex(hashes["ahash"]) if frame else None,
            "phash": int_to_hex(hashes["phash"]) if frame else None,
            "dhash": int_to_hex(hashes["dhash"]) if frame else None,
            "size_bytes": len(frame.data) if frame else None,
            "width": frame.width if frame else None,
            "height": frame.height if frame else None,
            "captured_at": when,
            "status": status.value,
            "error_class": error_class,
            "error": error,
            "attempts": 1,
            "run_id": self.run_id,
            "meta": meta,
        }

    def _failed(self, st: CameraState, filename: str, when: datetime, cls: str, msg: str) -> str:
        st.stats.failed += 1
        st.stats.failures[cls] += 1
        log.warning("camera %s: poll failed (%s): %s", st.camera.name, cls, msg)
        row = self._row(st, filename, when, ItemStatus.FAILED, error_class=cls, error=msg[:2000])
        self.catalog.upsert_items([row])
        return "failed"

    def _duplicate(
        self,
        st: CameraState,
        filename: str,
        when: datetime,
        frame: Frame | None,
        reason: str,
        distance: int,
    ) -> str:
        st.stats.duplicates += 1
        log.info("camera %s: same picture as %s (%s)", st.camera.name, st.last_name, reason)
        meta = {"reason": reason, "duplicate_of": st.last_name, "distance": distance}
        self.catalog.upsert_items(
            [self._row(st, filename, when, ItemStatus.DUPLICATE, frame=frame, meta=meta)]
        )
        return "duplicate"

    def _keep(self, st: CameraState, filename: str, when: datetime, frame: Frame) -> str:
        path = st.folder / filename
        try:
            write_atomic(path, frame.data, durable=True)
        except OSError as exc:
            return self._failed(st, filename, when, "write_error", f"cannot write {path}: {exc}")
        resolved = path.resolve()
        self.catalog.upsert_items(
            [self._row(st, filename, when, ItemStatus.DONE, frame=frame, path=resolved)]
        )
        st.last_sha, st.last_hashes, st.last_name = frame.sha256, frame.hashes, filename
        st.stats.kept += 1
        st.stats.last_frame = resolved
        log.info("camera %s: kept %s", st.camera.name, filename)
        self.frames.append(
            MediaItem(
                path=resolved,
                kind=MediaKind.IMAGE,
                sha256=frame.sha256,
                size_bytes=len(frame.data),
                width=frame.width,
                height=frame.height,
                url=st.camera.url,
                source=st.camera.name,
                captured_at=when,
                hashes={k: int_to_hex(v) for k, v in frame.hashes.items()},
            )
        )
        return "done"
