"""The pure parts of stream capture: kind detection, FFmpeg options, the MJPEG parser."""

from __future__ import annotations

import pytest

from tests.capture.helpers import frames
from vigie.capture.kinds import kind_from_content_type, url_kind
from vigie.capture.mjpeg import MjpegError, MjpegParser, boundary_of
from vigie.capture.stream import PROTOCOLS, av_options, classify_av_error
from vigie.errors import ConfigError


@pytest.mark.parametrize(
    ("url", "kind", "expected"),
    [
        ("rtsp://192.168.1.30:554/stream1", "auto", "rtsp"),
        ("RTSPS://cam.example/live", "auto", "rtsp"),
        ("rtsp://cam/live", "rtsp", "rtsp"),
        ("https://cdn.example/cam/index.m3u8?token=x", "auto", "hls"),
        ("http://cam/LIVE.M3U8", "auto", "hls"),
        ("http://cam/snapshot.jpg", "auto", "auto"),  # the Content-Type decides
        ("http://cam/video.cgi", "mjpeg", "mjpeg"),
        ("http://cam/playlist", "hls", "hls"),
        ("http://cam/index.m3u8", "snapshot", "snapshot"),
    ],
)
def test_url_kind_detects_streams_from_scheme_path_and_flag(
    url: str, kind: str, expected: str
) -> None:
    assert url_kind(url, kind) == expected


@pytest.mark.parametrize(
    ("url", "kind", "message"),
    [
        ("ftp://cam/x.jpg", "auto", "not a camera URL"),
        ("file:///etc/passwd", "hls", "not a camera URL"),
        ("rtsp://cam/live", "mjpeg", "cannot read an RTSP URL"),
        ("http://cam/x.jpg", "rtsp", "needs an rtsp:// URL"),
        ("http://cam/x.jpg", "webrtc", "unknown capture kind"),
    ],
)
def test_url_kind_refuses_what_it_cannot_capture(url: str, kind: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        url_kind(url, kind)


def test_content_type_sniffing_finds_mjpeg_and_hls_only() -> None:
    assert kind_from_content_type("multipart/x-mixed-replace; boundary=frame") == "mjpeg"
    assert kind_from_content_type("application/vnd.apple.mpegurl") == "hls"
    assert kind_from_content_type("Application/X-MpegURL; charset=utf-8") == "hls"
    assert kind_from_content_type("image/jpeg") is None
    assert kind_from_content_type(None) is None


def test_av_options_read_rtsp_over_tcp_with_timeouts_and_no_file_protocol() -> None:
    rtsp = av_options("rtsp", 2.5)
    assert rtsp["rtsp_transport"] == "tcp"
    assert rtsp["timeout"] == rtsp["rw_timeout"] == "2500000"  # microseconds
    assert rtsp["protocol_whitelist"] == "rtsp,rtsps,tcp,tls"
    assert rtsp["analyzeduration"] == "1000000"  # no 5 s wait on a live stream
    hls = av_options("hls", 10)
    assert hls["rw_timeout"] == "10000000" and hls["live_start_index"] == "-1"
    assert "rtsp_transport" not in hls
    for kind in PROTOCOLS:
        allowed = av_options(kind, 1)["protocol_whitelist"].split(",")
        assert "file" not in allowed and "udp" not in allowed


def test_ffmpeg_errors_become_catalog_reasons() -> None:
    import av

    refused = av.error.ConnectionRefusedError(111, "Connection refused")
    assert classify_av_error(refused)[0] == "connection_error"
    missing = av.error.HTTPNotFoundError(0, "Server returned 404 Not Found")
    assert classify_av_error(missing)[0] == "http_404"
    assert classify_av_error(av.error.InvalidDataError(0, "bad"))[0] == "corrupt"
    assert classify_av_error(RuntimeError("odd"))[0] == "stream_error"


def test_boundary_is_read_from_the_content_type_quoted_or_not() -> None:
    assert boundary_of("multipart/x-mixed-replace; boundary=myframe") == "myframe"
    assert boundary_of('multipart/x-mixed-replace;boundary="--my frame"') == "--my frame"
    assert boundary_of("multipart/x-mixed-replace") is None


def _multipart(parts: list[bytes], boundary: str, with_length: bool) -> bytes:
    out = b"preamble a camera may send\r\n"
    for body in parts:
        head = f"--{boundary}\r\nContent-Type: image/jpeg\r\n"
        if with_length:
            head += f"Content-Length: {len(body)}\r\n"
        out += head.encode() + b"\r\n" + body + b"\r\n"
    return out


@pytest.mark.parametrize("with_length", [True, False])
@pytest.mark.parametrize("chunk", [1, 7, 4096, 10**7])
def test_mjpeg_parser_cuts_parts_whatever_the_chunking(with_length: bool, chunk: int) -> None:
    bodies = [frames(s, (64, 48)) for s in range(3)]
    data = _multipart(bodies, "frame", with_length)
    parser = MjpegParser("frame", max_bytes=1 << 20)
    got = []
    for i in range(0, len(data), chunk):
        newest = parser.feed(data[i : i + chunk])
        if newest is not None:
            got.append(newest)
    # without Content-Length a part ends at the next delimiter: the last one waits for it
    expected = bodies if with_length else bodies[:-1]
    assert parser.frames == len(expected)
    assert got[-1] == expected[-1]
    if chunk == 1:
        assert got == expected


def test_mjpeg_parser_accepts_a_boundary_given_with_its_dashes() -> None:
    body = frames(5, (64, 48))
    parser = MjpegParser("--frame", max_bytes=1 << 20)
    assert parser.feed(_multipart([body, body], "frame", True)) == body
    assert parser.frames == 2


def test_mjpeg_parser_without_boundary_cuts_at_jpeg_markers() -> None:
    a, b = frames(1, (64, 48)), frames(2, (64, 48))
    parser = MjpegParser(None, max_bytes=1 << 20)
    assert parser.feed(b"junk" + a[:100]) is None
    assert parser.feed(a[100:] + b"\r\n" + b) == b
    assert parser.frames == 2


def test_mjpeg_parser_refuses_a_part_over_the_size_limit() -> None:
    parser = MjpegParser("frame", max_bytes=1000)
    with pytest.raises(MjpegError, match="2000 bytes"):
        parser.feed(b"--frame\r\nContent-Length: 2000\r\n\r\n")
    endless = MjpegParser("frame", max_bytes=1000)
    with pytest.raises(MjpegError) as exc:
        endless.feed(b"--frame\r\n\r\n" + b"x" * 30_000)  # no length, no next delimiter
    assert exc.value.error_class == "too_large"
