"""Who is asking: the one place that decides which address a request comes from.

The socket's peer, or, when the peer is one of `server.trusted_proxies`, the address its
X-Forwarded-For names: the last hop that is not a trusted proxy itself (a client can write
anything at the front of that header; only the hops our own proxies appended count). The
share limits, the form-token binding, /metrics and the access log all ask here, and
uvicorn's own proxy-header handling is off (it trusted 127.0.0.1 by default: issue 11).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from feedsvc.sharing.keys import parse_ip

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

LOOPBACK = ("127.0.0.0/8", "::1/128")


def networks(texts: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(t, strict=False) for t in texts)


class Clients:
    def __init__(self, trusted_proxies: Iterable[str] = ()) -> None:
        self._proxies = networks(trusted_proxies)

    def address(self, scope: dict[str, Any]) -> str:
        """The client's address as text ('' when the server knows no peer)."""
        client = scope.get("client")
        peer = client[0] if client else ""
        if not self._proxies or not self._trusted(peer):
            return peer
        forwarded = b""
        for name, value in scope["headers"]:
            if name == b"x-forwarded-for":
                # Several X-Forwarded-For fields are one list (RFC 9110 5.3).
                forwarded = forwarded + b"," + value if forwarded else value
        for hop in reversed(forwarded.decode("latin-1").split(",")):
            hop = hop.strip()
            if not hop:
                continue
            ip = parse_ip(hop)
            if ip is None:
                return peer  # a hop we cannot read: trust nothing further out
            if not any(ip in net for net in self._proxies):
                return str(ip)
        return peer

    def _trusted(self, address: str) -> bool:
        return allowed(address, self._proxies)


def allowed(address: str, nets: tuple[Network, ...]) -> bool:
    ip = parse_ip(address)
    return ip is not None and any(ip in net for net in nets)
