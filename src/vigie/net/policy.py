"""Where a request may go: URL schemes, and the address policy (reliability promise 7).

The policy is checked by the guarded client (:mod:`vigie.net.transport`) on every address a
host name resolves to, before connecting, and on the peer address after connecting: the
address actually connected to, at every redirect hop, with no second resolution in between.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from vigie.errors import UnsafeURLError

ALLOWED_SCHEMES = frozenset({"http", "https"})
PRIVATE_HINT = "use --allow-private-networks for LAN or loopback servers"


class BlockedAddressError(UnsafeURLError):
    """The host resolved only to addresses the policy refuses (or the peer was one)."""


def check_scheme(url: str) -> None:
    """Refuse anything but http(s) URLs with a host.

    Raises:
        UnsafeURLError: another scheme (file:, ftp:, gopher:...) or no host.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise UnsafeURLError(f"refused URL scheme {parts.scheme or '<none>'!r}: {url[:200]}")
    if not parts.hostname:
        raise UnsafeURLError(f"URL without host: {url[:200]}")


def address_allowed(address: str, allow_private: bool) -> bool:
    """Whether an IP address may be connected to.

    Loopback, private, link-local (169.254.169.254 included), shared, multicast, reserved and
    unspecified addresses are refused unless ``allow_private``; IPv4-mapped IPv6 addresses are
    judged as the IPv4 address they carry.
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_unspecified or ip.is_multicast:
        return False
    if allow_private:
        return True
    return ip.is_global and not (ip.is_private or ip.is_loopback or ip.is_link_local)


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses a client may connect to.

    The default refuses loopback, private, link-local and reserved addresses (downloads of
    URLs from strangers); ``allow_private`` lets LAN and loopback servers through (tests, an
    intranet); ``any_address`` checks nothing (camera capture: cameras live on LANs).
    """

    allow_private: bool = False
    any_address: bool = False

    def allows(self, address: str) -> bool:
        return self.any_address or address_allowed(address, self.allow_private)

    def refused(self, host: str, addresses: list[str]) -> BlockedAddressError:
        shown = ", ".join(addresses[:3]) or "no address"
        return BlockedAddressError(
            f"{host} resolves to a refused address ({shown})", hint=PRIVATE_HINT
        )


PUBLIC_ONLY = AddressPolicy()
ANY_ADDRESS = AddressPolicy(any_address=True)
