"""Join video files made by one encoder into one file, without decoding or encoding again.

The annotated video of a long recording tracked on a cluster is drawn in parts, one per
worker (:mod:`vigie.track.pipeline.parts`); :func:`concat_videos` joins the parts' packets
into one MP4 (a stream copy, as ``ffmpeg -f concat -c copy`` does): each part's timestamps are
shifted to start where the previous part ends. The parts must share codec, size and encoder
settings (:class:`vigie.media.VideoWriter` gives them that); each starts on a keyframe.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

from vigie.errors import MediaError


def concat_videos(parts: Sequence[Path], target: Path) -> Path:
    """Write ``target`` (``.part`` then renamed) from the video streams of ``parts``, in order.

    Raises:
        MediaError: a part cannot be read, or its stream differs from the first one's.
    """
    import av

    if not parts:
        raise MediaError(f"nothing to join into {target.name}")
    tmp = target.with_name(target.name + ".part")
    try:
        with av.open(str(parts[0])) as first:
            template = first.streams.video[0]
            size = (template.codec_context.width, template.codec_context.height)
            with av.open(str(tmp), "w", format="mp4", options={"movflags": "+faststart"}) as out:
                stream = out.add_stream_from_template(template)
                start = Fraction(0)  # seconds: where the next part begins
                last_dts: Fraction | None = None
                for path in parts:
                    start, last_dts = _copy(path, out, stream, size, start, last_dts)
    except MediaError:
        tmp.unlink(missing_ok=True)
        raise
    except (OSError, av.FFmpegError, IndexError) as exc:  # IndexError: a part without video
        tmp.unlink(missing_ok=True)
        raise MediaError(f"cannot join the parts of {target.name}: {exc}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, target)
    return target


def _copy(
    path: Path,
    out: Any,
    stream: Any,
    size: tuple[int, int],
    start: Fraction,
    last_dts: Fraction | None,
) -> tuple[Fraction, Fraction | None]:
    """Mux the packets of ``path`` from ``start`` seconds on; (its end, its last dts)."""
    import av

    with av.open(str(path)) as inp:
        src = inp.streams.video[0]
        if (src.codec_context.width, src.codec_context.height) != size:
            raise MediaError(f"{path.name} is not the size of the first part")
        tb = src.time_base
        assert tb is not None
        first_pts = src.start_time if src.start_time is not None else 0
        end = start
        for packet in inp.demux(src):
            if packet.dts is None or packet.pts is None:  # the demuxer's flush packet
                continue
            pts = start + (packet.pts - first_pts) * tb
            dts = start + (packet.dts - first_pts) * tb
            if last_dts is not None and dts <= last_dts:
                # the encoder's delay differs from the previous part's (B-frames): keep the
                # decode order strict without moving the picture, unless it cannot be
                dts = last_dts + tb
                if dts > pts:
                    start, pts = start + (dts - pts), dts
            packet.pts, packet.dts = round(pts / tb), round(dts / tb)
            last_dts = Fraction(packet.dts) * tb
            end = max(end, pts + (packet.duration or 0) * tb)
            packet.stream = stream
            out.mux(packet)
    return end, last_dts
