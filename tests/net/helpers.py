"""A redirecting server on 127.0.0.2 ("the public internet" in these tests), and a resolver
whose answers the test scripts (a DNS server that rebinds a name between two lookups)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

PUBLIC = "127.0.0.2"  # plays a public address: the only one the patched policy allows


def only_public(monkeypatch: pytest.MonkeyPatch, public: str = PUBLIC) -> None:
    """Let the address policy allow ``public`` alone (every other address is private)."""
    from vigie.net import policy

    monkeypatch.setattr(policy, "address_allowed", lambda address, allow: address == public)


@contextmanager
def redirector(location: str) -> Iterator[str]:
    """A server on 127.0.0.2 answering every GET with ``302 Location: location``; its URL."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer((PUBLIC, 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{PUBLIC}:{server.server_address[1]}/start.jpg"
    finally:
        server.shutdown()
        server.server_close()


class Resolver:
    """``socket.getaddrinfo`` answering ``name`` with the next of ``answers`` (the last one
    repeats), every other host as the real resolver does; ``calls`` counts the lookups."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, name: str, *answers: str) -> None:
        self.name, self.answers, self.calls = name, list(answers), 0
        self._real = socket.getaddrinfo
        monkeypatch.setattr(socket, "getaddrinfo", self)

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if host != self.name:
            return self._real(host, port, *args, **kwargs)
        address = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port)))]
