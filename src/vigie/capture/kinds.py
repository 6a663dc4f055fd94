"""What a camera URL serves: a snapshot, or a live stream (HLS, RTSP, MJPEG over HTTP).

The kind comes from ``--kind`` when given, else from the URL (``rtsp://``/``rtsps://`` is RTSP, a
path ending ``.m3u8`` is HLS), else from the answer's Content-Type (``multipart/x-mixed-replace``
is MJPEG, an ``mpegurl`` type is HLS): a snapshot request that finds a stream raises
:class:`StreamFound` and the camera switches to that stream.
"""

from __future__ import annotations

from typing import Literal, cast
from urllib.parse import urlsplit

from vigie.errors import ConfigError

Kind = Literal["auto", "snapshot", "hls", "rtsp", "mjpeg"]
KINDS: tuple[Kind, ...] = ("auto", "snapshot", "hls", "rtsp", "mjpeg")
STREAM_KINDS = frozenset({"hls", "rtsp", "mjpeg"})
HTTP_SCHEMES = ("http", "https")
RTSP_SCHEMES = ("rtsp", "rtsps")

_HLS_TYPES = frozenset(
    {"application/vnd.apple.mpegurl", "application/x-mpegurl", "audio/mpegurl", "audio/x-mpegurl"}
)


class StreamFound(Exception):
    """A snapshot request was answered with a live stream of ``kind``."""

    def __init__(self, kind: Kind, content_type: str) -> None:
        super().__init__(f"the URL serves a {kind} stream ({content_type})")
        self.kind = kind
        self.content_type = content_type


def kind_from_content_type(content_type: str | None) -> Kind | None:
    """``"mjpeg"`` or ``"hls"`` when a Content-Type announces a stream, else None."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type == "multipart/x-mixed-replace":
        return "mjpeg"
    if media_type in _HLS_TYPES:
        return "hls"
    return None


def url_kind(url: str, kind: str = "auto") -> Kind:
    """The kind of ``url``: ``kind`` when forced (checked against the scheme), else ``"rtsp"``
    for ``rtsp(s)://``, ``"hls"`` for a ``.m3u8`` path, else ``"auto"`` (an http(s) URL whose
    Content-Type decides at the first poll).

    Raises:
        ConfigError: an unknown kind, a scheme Vigie cannot capture, or a kind the scheme cannot
            serve (``--kind rtsp`` on an http URL).
    """
    if kind not in KINDS:
        raise ConfigError(f"unknown capture kind {kind!r}", hint=f"use one of {', '.join(KINDS)}")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in HTTP_SCHEMES + RTSP_SCHEMES:
        raise ConfigError(
            f"not a camera URL: {url}",
            hint="give an http(s) snapshot, HLS (.m3u8) or MJPEG URL, or an rtsp:// stream",
        )
    if scheme in RTSP_SCHEMES:
        if kind not in ("auto", "rtsp"):
            raise ConfigError(f"--kind {kind} cannot read an RTSP URL: {url}", hint="--kind rtsp")
        return "rtsp"
    if kind == "rtsp":
        raise ConfigError(f"--kind rtsp needs an rtsp:// URL, not {url}")
    if kind != "auto":
        return cast(Kind, kind)
    return "hls" if parts.path.lower().endswith(".m3u8") else "auto"
