"""A live stream read continuously in the background; each schedule tick takes its latest frame.

A reader (a thread for PyAV, an asyncio task for MJPEG) keeps only the newest frame. When the
stream drops, ends or cannot be opened, the reader records why, waits (exponential backoff with
jitter, capped at ``reopen_max``) and opens it again, forever: a stream never stops the loop. A
tick waits up to ``timeout`` seconds for a frame while the stream opens or is about to be
reopened; a tick that finds the stream down for longer is a failed poll with the reason it dropped.
"""

from __future__ import annotations

import asyncio
import io
import logging
import random
import threading
import time
from typing import Any

from vigie.capture.fetch import Fetched, FetchFailed
from vigie.capture.state import CameraStats
from vigie.config import CaptureSettings
from vigie.download import backoff

log = logging.getLogger(__name__)

JPEG_QUALITY = 90
POLL_INTERVAL = 0.02  # how often a waiting tick looks for the first frame of an opening stream


def encode_jpeg(image: Any, quality: int = JPEG_QUALITY) -> bytes:
    """A Pillow image as JPEG bytes (what a snapshot camera would have sent)."""
    buf = io.BytesIO()
    image.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


class LiveSource:
    """Shared state of a stream reader: the latest frame, or why there is none.

    Subclasses run the reader (:meth:`start`, :meth:`aclose`) and turn a frame into JPEG bytes
    (:meth:`to_jpeg`); readers call :meth:`opening`, :meth:`publish` and :meth:`dropped`.
    """

    kind = "stream"

    def __init__(self, url: str, cap: CaptureSettings, stats: CameraStats) -> None:
        self.url = url
        self.cap = cap
        self.stats = stats
        self.closing = threading.Event()
        self._lock = threading.Lock()
        self._latest: Any = None
        self._error: tuple[str, str] | None = None  # None while opening or up
        self._reopen_at = 0.0  # time.monotonic() of the next reopen while down
        self._failures = 0  # drops since the last frame (sets the backoff)
        self._opens = 0
        self._rng = random.Random()

    # -- called by the reader -------------------------------------------------------------------
    def opening(self) -> None:
        """A (re)open starts: ticks wait for its first frame instead of failing."""
        with self._lock:
            self._error = None
            self._opens += 1
            if self._opens > 1:
                self.stats.reopens += 1

    def publish(self, frame: Any) -> None:
        """Keep ``frame`` as the latest (the previous one is released)."""
        with self._lock:
            self._latest = frame
            self._error = None
            self._failures = 0

    def dropped(self, error_class: str, message: str) -> float:
        """Record why the stream is down; return how long to wait before reopening it."""
        with self._lock:
            self._failures += 1
            delay = max(
                self.cap.reopen_min / 2,
                backoff(self._failures, self.cap.reopen_min, self.cap.reopen_max, self._rng),
            )
            self._latest = None
            self._error = (error_class, message)
            self._reopen_at = time.monotonic() + delay
        if not self.closing.is_set():
            log.warning(
                "camera %s: %s stream down (%s: %s); reopening in %.1f s",
                self.stats.name,
                self.kind,
                error_class,
                message,
                delay,
            )
        return delay

    # -- called by the schedule ---------------------------------------------------------------
    async def grab(self) -> Fetched:
        """The latest frame as JPEG bytes.

        Raises:
            FetchFailed: the stream is down (with the reason it dropped), or no frame came within
                ``timeout`` seconds of an opening.
        """
        deadline = time.monotonic() + self.cap.timeout
        while True:
            with self._lock:
                frame, error, reopen_at = self._latest, self._error, self._reopen_at
            if frame is not None:
                data = await asyncio.to_thread(self.to_jpeg, frame)
                return Fetched(200, data)
            now = time.monotonic()
            if error is not None and (reopen_at >= deadline or now >= deadline):
                raise FetchFailed(*error)
            if now >= deadline:
                raise FetchFailed(
                    "timeout", f"no frame from the stream within {self.cap.timeout:g} s"
                )
            await asyncio.sleep(POLL_INTERVAL)

    def to_jpeg(self, frame: Any) -> bytes:
        raise NotImplementedError

    def start(self) -> None:
        raise NotImplementedError

    async def aclose(self) -> None:
        self.closing.set()
