"""The guarded client: the policy holds on the address actually connected to, at every hop."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.fixtures.http import FaultServer, Reply
from tests.fixtures.media import jpeg_bytes
from tests.net.helpers import Resolver, only_public, redirector
from vigie.errors import UnsafeURLError
from vigie.labelstudio.fetch import FetchError, ImageFetcher
from vigie.net import (
    ANY_ADDRESS,
    AddressPolicy,
    BlockedAddressError,
    BodyError,
    aread_capped,
    async_client,
    read_capped,
    sync_client,
)

JPEG = jpeg_bytes()
HOPS = [
    "http://127.0.0.1:{port}/target.jpg",
    "http://[::1]:{port}/target.jpg",
    "http://169.254.169.254/latest/meta-data/",
    "file:///etc/passwd",
]


async def aget(url: str, policy: AddressPolicy, **kwargs: object) -> httpx.Response:
    async with async_client(policy, **kwargs) as client:  # type: ignore[arg-type]
        return await client.get(url)


def test_loopback_is_refused_unless_allowed(fault_server: FaultServer) -> None:
    url = fault_server.route("/a.jpg", Reply(body=JPEG))
    with sync_client() as client, pytest.raises(BlockedAddressError, match="refused address"):
        client.get(url)
    with pytest.raises(BlockedAddressError):
        asyncio.run(aget(url, AddressPolicy()))
    assert fault_server.hits("/a.jpg") == 0
    with sync_client(AddressPolicy(allow_private=True)) as client:
        assert client.get(url).content == JPEG
    assert asyncio.run(aget(url, ANY_ADDRESS)).content == JPEG


def test_a_name_is_resolved_once_and_its_checked_address_is_connected(
    fault_server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    only_public(monkeypatch, "127.0.0.1")  # here the fault server plays the public host
    fault_server.route("/a.jpg", Reply(body=JPEG))
    url = f"http://rebind.test:{fault_server.port}/a.jpg"
    lookups = Resolver(monkeypatch, "rebind.test", "127.0.0.1", "10.11.12.13")
    with sync_client() as client:
        assert client.get(url).content == JPEG
    assert lookups.calls == 1  # no second lookup that could have answered 10.11.12.13
    lookups.calls = 0
    assert asyncio.run(aget(url, AddressPolicy())).content == JPEG
    assert lookups.calls == 1


def test_a_name_rebound_to_a_private_address_is_refused(
    fault_server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """First lookup: a public address (where nothing answers); any later one: the private
    server. The fetcher retries, looks the name up again, and must refuse that answer."""
    only_public(monkeypatch, "127.0.0.3")
    fault_server.route("/a.jpg", Reply(body=JPEG))
    url = f"http://rebind.test:{fault_server.port}/a.jpg"
    lookups = Resolver(monkeypatch, "rebind.test", "127.0.0.3", "127.0.0.1")
    fetcher = ImageFetcher(None, "http://labelstudio.invalid", retries=2)
    monkeypatch.setattr("vigie.net.retry.time.sleep", lambda s: None)
    with pytest.raises(UnsafeURLError, match="refused address"):
        fetcher.fetch(url)
    fetcher.close()
    assert lookups.calls == 2  # one lookup per connection, each answer checked
    lookups.calls = 0
    with pytest.raises(httpx.ConnectError):  # the download client: 127.0.0.3 refuses...
        asyncio.run(aget(url, AddressPolicy()))
    with pytest.raises(BlockedAddressError):  # ...and the rebound answer is refused
        asyncio.run(aget(url, AddressPolicy()))
    assert fault_server.hits("/a.jpg") == 0


@pytest.mark.parametrize("hop", HOPS)
def test_every_redirect_hop_is_checked(
    hop: str, fault_server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    only_public(monkeypatch)
    fault_server.route("/target.jpg", Reply(body=JPEG))
    location = hop.format(port=fault_server.port)
    with redirector(location) as start:
        fetcher = ImageFetcher(None, "http://labelstudio.invalid")
        with pytest.raises(UnsafeURLError):
            fetcher.fetch(start)
        fetcher.close()
        with pytest.raises((BlockedAddressError, httpx.UnsupportedProtocol)):
            asyncio.run(aget(start, AddressPolicy(), follow_redirects=True))
    assert fault_server.hits("/target.jpg") == 0


def test_a_redirect_to_an_allowed_host_is_followed(
    fault_server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fault_server.route("/target.jpg", Reply(body=JPEG))
    with redirector(fault_server.url("/target.jpg")) as start:
        fetcher = ImageFetcher(None, "http://labelstudio.invalid", allow_private=True)
        assert fetcher.fetch(start) == JPEG
        fetcher.close()


def test_bodies_are_capped_while_streaming(fault_server: FaultServer) -> None:
    policy = AddressPolicy(allow_private=True)
    big = fault_server.route("/big", Reply(body=b"x" * 5000))
    endless = fault_server.route("/endless", Reply(fault="endless"))
    short = fault_server.route("/short", Reply(fault="short", body=b"y" * 100))
    slow = fault_server.route("/slow", Reply(fault="slow", body=b"z" * 200, byte_interval=0.05))
    cases = [(big, "too_large"), (endless, "too_large")]
    with sync_client(policy, read_timeout=5) as client:
        for url, error_class in [*cases, (slow, "timeout")]:
            with client.stream("GET", url) as resp, pytest.raises(BodyError) as info:
                read_capped(resp, max_bytes=4096, deadline=0.5)
            assert info.value.error_class == error_class, url
        with client.stream("GET", short) as resp, pytest.raises(httpx.RemoteProtocolError):
            read_capped(resp, max_bytes=4096)  # fewer bytes than announced: a retryable error

    async def capped(url: str) -> bytes:
        async with async_client(policy) as client, client.stream("GET", url) as resp:
            return await aread_capped(resp, max_bytes=4096)

    for url, error_class in cases:
        with pytest.raises(BodyError) as info:
            asyncio.run(capped(url))
        assert info.value.error_class == error_class, url
    fault_server.stop()


def test_only_http_and_https_are_fetched() -> None:
    fetcher = ImageFetcher(None, None)
    with pytest.raises(FetchError, match="unsupported reference scheme"):
        fetcher.fetch("gopher://example.org/a.jpg")
    fetcher.close()
