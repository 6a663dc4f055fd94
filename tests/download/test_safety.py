"""SSRF policy, URL schemes, names that cannot escape the target folder, Retry-After, backoff."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from vigie.download import (
    address_allowed,
    backoff,
    check_scheme,
    inside,
    name_from_url,
    parse_retry_after,
    safe_filename,
)
from vigie.errors import UnsafeURLError


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "192.168.0.1", "172.16.5.4", "169.254.169.254", "::1",
     "fe80::1", "::ffff:127.0.0.1", "0.0.0.0", "100.64.0.1", "224.0.0.1", "fc00::1", "garbage"],
)  # fmt: skip
def test_private_loopback_and_link_local_addresses_are_refused_by_default(address: str) -> None:
    assert not address_allowed(address, allow_private=False)


def test_public_addresses_are_allowed_and_private_ones_only_when_asked() -> None:
    assert address_allowed("93.184.216.34", allow_private=False)
    assert address_allowed("2606:4700::1111", allow_private=False)
    assert address_allowed("127.0.0.1", allow_private=True)
    assert not address_allowed("0.0.0.0", allow_private=True)


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://host/x.jpg", "gopher://h/", "javascript:alert(1)", "http:///x"],
)
def test_only_http_and_https_urls_are_fetched(url: str) -> None:
    with pytest.raises(UnsafeURLError):
        check_scheme(url)
    check_scheme("https://example.org/a.jpg")


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd", "/etc/passwd", "a/../../b.jpg", "..\\..\\win.jpg", "nul\x00byte.jpg",
     "é" * 300 + ".jpg", "..", ".", "", ".hidden.jpg", "a\nb.jpg"],
)  # fmt: skip
def test_safe_filename_stays_inside_the_target_folder(name: str, tmp_path: Path) -> None:
    safe = safe_filename(name)
    assert "/" not in safe and "\\" not in safe and "\x00" not in safe
    assert not safe.startswith(".")
    assert len(safe.encode("utf-8")) <= 200
    assert inside(tmp_path, safe).parent == tmp_path.resolve()


def test_inside_refuses_a_name_that_escapes(tmp_path: Path) -> None:
    for bad in ("../x.jpg", "/abs.jpg", "a/b.jpg", ".."):
        with pytest.raises(UnsafeURLError):
            inside(tmp_path, bad)


def test_name_from_url_uses_the_last_path_segment_decoded() -> None:
    assert name_from_url("https://h/a/b/photo%201.jpg?x=1#f") == "photo_1.jpg"
    assert name_from_url("https://h/a/..%2F..%2Fetc%2Fpasswd") == "passwd"
    assert name_from_url("https://h/").startswith("file-")


def test_retry_after_accepts_seconds_and_http_dates_and_ignores_garbage() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    soon, past = now + timedelta(seconds=30), now - timedelta(seconds=30)
    assert parse_retry_after(format_datetime(soon, usegmt=True), now=now) == 30.0
    assert parse_retry_after(format_datetime(past, usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("") is None


def test_backoff_grows_exponentially_with_jitter_under_a_cap() -> None:
    rng = random.Random(1)
    waits = [backoff(a, 0.5, 4.0, rng) for a in range(1, 10) for _ in range(20)]
    assert all(0 <= w <= 4.0 for w in waits)
    assert max(backoff(1, 0.5, 4.0, rng) for _ in range(50)) <= 0.5
    assert len({round(w, 6) for w in waits}) > 50  # jittered
