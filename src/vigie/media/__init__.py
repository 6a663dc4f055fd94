"""The one place that knows media: every stage opens, lists, checks and draws through it.

- which files are media: :data:`IMAGE_SUFFIXES`, :data:`VIDEO_SUFFIXES`, :func:`kind_of`,
  and the one listing rule, :func:`list_media`;
- videos: :func:`open_video` (local files only), :func:`probe` (one :class:`VideoInfo`, from
  the frames' presentation timestamps, the stream's start time honoured), targeted decoding
  (:func:`iter_target_frames`), a threaded :class:`FrameReader` and an H.264 :class:`VideoWriter`;
- images: :func:`check_image`, :func:`decode_image` (allow-listed formats, bomb limit on);
- downloads: :func:`validate_media` (magic number, then a real decode);
- :func:`sha256_file`, and :func:`annotate` (boxes, labels, track ids, counting line; on an
  array in place: :func:`draw_on`).

PyAV, NumPy, Pillow and OpenCV are imported inside the functions that use them.
"""

from vigie.media.decode import DecodeStats, iter_target_frames
from vigie.media.draw import annotate, class_color, draw_on, track_color
from vigie.media.hashing import sha256_bytes, sha256_file
from vigie.media.image import (
    IMAGE_FORMATS,
    IMAGE_OPENERS,
    InvalidMediaError,
    check_image,
    decode_image,
    upright,
)
from vigie.media.probe import FrameIndex, info_as_dict, probe, scan, scan_container
from vigie.media.reader import DecodedFrame, FrameReader
from vigie.media.registry import (
    IMAGE_SUFFIXES,
    MEDIA_SUFFIXES,
    VIDEO_SUFFIXES,
    kind_of,
    list_media,
)
from vigie.media.validate import MediaInfo, is_image_body, validate_media
from vigie.media.video import VideoInfo, normalise_rotation, open_video
from vigie.media.writer import VideoWriter

__all__ = [
    "IMAGE_FORMATS",
    "IMAGE_OPENERS",
    "IMAGE_SUFFIXES",
    "MEDIA_SUFFIXES",
    "VIDEO_SUFFIXES",
    "DecodeStats",
    "DecodedFrame",
    "FrameIndex",
    "FrameReader",
    "InvalidMediaError",
    "MediaInfo",
    "VideoInfo",
    "VideoWriter",
    "annotate",
    "check_image",
    "class_color",
    "decode_image",
    "draw_on",
    "info_as_dict",
    "is_image_body",
    "iter_target_frames",
    "kind_of",
    "list_media",
    "normalise_rotation",
    "open_video",
    "probe",
    "scan",
    "scan_container",
    "sha256_bytes",
    "sha256_file",
    "track_color",
    "upright",
    "validate_media",
]
