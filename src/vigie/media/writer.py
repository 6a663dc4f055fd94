"""Encode frames (RGB, or yuv420p as decoded) to an H.264 MP4 that browsers play (yuv420p, moov
first), in a thread."""

from __future__ import annotations

import queue
import threading
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vigie.errors import MediaError

if TYPE_CHECKING:
    import numpy as np

_END = object()
SINGLE_THREAD_PIXELS = 1280 * 720  # pictures encoded by one thread (larger ones: x264's choice)
# veryfast with the sub-pixel motion refinement of superfast (subme 1 instead of 2): measured on
# the 640x360 benchmark video, x264's CPU per frame -20%, the file +3.5%, luma PSNR -0.6 dB
X264_OPTIONS = {"preset": "veryfast", "crf": "23", "x264-params": "subme=1"}


class VideoWriter:
    """Encode RGB frames to an H.264 MP4 (yuv420p, +faststart) in a background thread.

    Frames are cropped (or padded) to even sizes, which yuv420p needs. Write to a ``.part``
    path and rename the finished file into place (the caller's job).

    Args:
        path: the file to write.
        rate: frames per second (a fraction: 30000/1001 for 29.97).
        width, height: the picture size of the frames given to :meth:`write`.
        maxsize: frames queued for the encoder before :meth:`write` blocks.
    """

    def __init__(
        self, path: Path, rate: Fraction, width: int, height: int, maxsize: int = 16
    ) -> None:
        self.path, self.rate = Path(path), rate
        self.width, self.height = width - width % 2, height - height % 2
        self.error: BaseException | None = None
        self._closed = False
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=maxsize)
        self._thread = threading.Thread(target=self._run, name="vigie-encode", daemon=True)
        self._thread.start()

    def write(self, image: np.ndarray) -> None:
        """Queue one frame; raises MediaError if encoding already failed.

        ``image`` is an HxWx3 uint8 RGB array, or a yuv420p picture as one (H * 3 / 2) x W
        array (:attr:`vigie.media.DecodedFrame.yuv`), encoded without a colour conversion
        when it has the writer's size.
        """
        if self.error is not None:
            raise MediaError(f"cannot encode {self.path.name}: {self.error}")
        self._queue.put(image)

    def close(self) -> None:
        """Finish the file (idempotent); raises MediaError if encoding failed."""
        if not self._closed:
            self._closed = True
            self._queue.put(_END)
            self._thread.join()
        if self.error is not None:
            raise MediaError(f"cannot encode {self.path.name}: {self.error}")

    def _run(self) -> None:
        import av
        import numpy as np

        try:
            with av.open(
                str(self.path), "w", format="mp4", options={"movflags": "+faststart"}
            ) as out:
                stream = out.add_stream("libx264", rate=self.rate, options=X264_OPTIONS)
                stream.width, stream.height = self.width, self.height
                stream.pix_fmt = "yuv420p"
                # up to 720p one thread encodes (and converts to yuv420p) far faster than the
                # detector's pace at the least CPU per frame: x264's own threads cost ~10% more
                # CPU there (measured at 640x360) while the detector already uses every core
                if self.width * self.height <= SINGLE_THREAD_PIXELS:
                    stream.codec_context.thread_count = 1
                while True:
                    img = self._queue.get()
                    if img is _END:
                        break
                    if img.ndim == 2:  # yuv420p (Y, U, V one after the other)
                        if img.shape == (self.height * 3 // 2, self.width):
                            frame = av.VideoFrame.from_ndarray(img, format="yuv420p")
                            for packet in stream.encode(frame):
                                out.mux(packet)
                            continue
                        img = av.VideoFrame.from_ndarray(img, format="yuv420p").to_ndarray(
                            format="rgb24"
                        )  # another size: cropped or padded as an RGB frame would be
                    img = img[: self.height, : self.width]
                    if img.shape[0] != self.height or img.shape[1] != self.width:
                        pad = np.zeros((self.height, self.width, 3), dtype=np.uint8)
                        pad[: img.shape[0], : img.shape[1]] = img
                        img = pad
                    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
                    for packet in stream.encode(frame):
                        out.mux(packet)
                for packet in stream.encode():
                    out.mux(packet)
        except BaseException as exc:  # reported to the caller by write()/close()
            self.error = exc
            while True:  # drain so the producer never blocks
                try:
                    if self._queue.get(timeout=0.5) is _END:
                        break
                except queue.Empty:
                    break
