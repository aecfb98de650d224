"""Outbound HTTP for the channels: a guarded session, a bounded POST, and what an answer means.

The guard keeps webhooks and hub pings on the public internet (Standard Webhooks, "Server
side request forgery (SSRF)"): a configured URL must not reach the cloud metadata service
or an internal admin port. It checks twice. Before the request, `check_target` resolves the
host and refuses a non-public address with an error a person can act on. Then, since the
name is resolved again when connecting (and DNS can answer differently the second time:
DNS rebinding), the connection itself checks the address its socket reached, before a
byte is sent.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import importlib.metadata
import ipaddress
import re
import socket
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.util import Timeout

from feedsvc.channels import DeliveryFailed, PermanentFailure, TransientFailure
from feedsvc.clock import Clock, SystemClock
from feedsvc.config import OutboxSettings

try:
    USER_AGENT = f"feedsvc/{importlib.metadata.version('feedsvc')}"
except importlib.metadata.PackageNotFoundError:  # run from a checkout, not installed
    USER_AGENT = "feedsvc"
MAX_REPLY_BYTES = 64 * 1024  # of a response body: it only ever explains a failure
SNIPPET_CHARS = 200  # of a response body quoted in an error

Resolver = Callable[[str, int], Iterable[str]]

_DEVELOPMENT = "set outbox.allow_private_targets for development"
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the IPv4 address is the last 32 bits
_KINDS = (
    ("is_unspecified", "an unspecified"),
    ("is_loopback", "a loopback"),
    ("is_link_local", "a link-local"),  # 169.254.169.254, the cloud metadata service
    ("is_multicast", "a multicast"),
    ("is_private", "a private"),
    ("is_reserved", "a reserved"),
    ("is_site_local", "a site-local"),  # fec0::/10: deprecated, still not the internet
)


class TargetForbidden(PermanentFailure):
    """The target is not a public https address: the SSRF guard refused it."""


def address_problem(address: str) -> str | None:
    """Why nothing is sent to `address` ("a private address"), or None if it is public."""
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv6 address that carries an IPv4 one reaches that one: judge it instead.
        ip = ip.ipv4_mapped or ip.sixtofour or _nat64_ipv4(ip) or ip
    for attribute, kind in _KINDS:
        if getattr(ip, attribute, False):
            return f"{kind} address"
    if not ip.is_global:
        return "not a public address"  # e.g. 100.64.0.0/10, shared by carrier-grade NAT
    return None


def _nat64_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF) if ip in _NAT64 else None


def resolve_host(host: str, port: int) -> list[str]:
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def check_target(url: str, *, allow_private: bool, resolve: Resolver = resolve_host) -> None:
    """Refuse, before connecting, a URL that is not https or whose host is not public."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetForbidden(f"{url} is not an absolute http(s) URL")
    try:
        port = parts.port or 443
    except ValueError:
        raise TargetForbidden(f"{url} has no valid port") from None
    if allow_private:
        return
    # Standard Webhooks, "Enforcing HTTPS": the payload is signed, not encrypted.
    if parts.scheme != "https":
        raise TargetForbidden(f"{url} is not https; {_DEVELOPMENT}")
    host = parts.hostname
    try:
        addresses: Iterable[str] = [str(ipaddress.ip_address(host))]
    except ValueError:  # a name, not an address literal
        try:
            addresses = list(resolve(host, port))
        except (OSError, UnicodeError) as e:
            raise TransientFailure(f"{url}: cannot resolve {host}: {_os_reason(e)}") from None
    if not addresses:
        raise TransientFailure(f"{url}: {host} resolves to no address")
    for address in addresses:
        problem = address_problem(address)
        if problem:
            raise TargetForbidden(f"{url} resolves to {address}, {problem}; {_DEVELOPMENT}")


class _PeerCheckedHTTPConnection(HTTPConnection):
    """Refuses a socket connected to a non-public address before anything is sent on it:
    the address checked is the one connected to, so a second, different DNS answer
    (rebinding) is caught too."""

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        address = sock.getpeername()[0]
        problem = address_problem(address)
        if problem:
            sock.close()
            # Not an OSError, so urllib3 neither retries it nor wraps it, and requests
            # lets it through to the channel as it is.
            raise TargetForbidden(f"connected to {address}, {problem}; {_DEVELOPMENT}")
        return sock


class _PeerCheckedHTTPSConnection(_PeerCheckedHTTPConnection, HTTPSConnection):
    pass


class _PeerCheckedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _PeerCheckedHTTPConnection


class _PeerCheckedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _PeerCheckedHTTPSConnection


class PeerCheckedAdapter(HTTPAdapter):
    """A requests adapter whose connections only ever reach public addresses."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _PeerCheckedHTTPConnectionPool,
            "https": _PeerCheckedHTTPSConnectionPool,
        }


def http_session(allow_private: bool) -> requests.Session:
    session = requests.Session()
    # No proxy, .netrc or CA bundle from the environment: a proxy would make the peer
    # address meaningless, and credentials have no business going to a receiver.
    session.trust_env = False
    session.headers["User-Agent"] = USER_AGENT
    if not allow_private:
        adapter = PeerCheckedAdapter()
        session.mount("https://", adapter)
        session.mount("http://", adapter)
    return session


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]  # case-insensitive
    body: bytes  # the first MAX_REPLY_BYTES at most


def post(
    session: requests.Session,
    url: str,
    *,
    body: bytes,
    headers: Mapping[str, str],
    timeout: float,
    allow_private: bool,
    resolve: Resolver = resolve_host,
) -> Reply:
    """POST `body` to `url`; the whole attempt, resolving and reading included, is bounded
    by `timeout` seconds. No redirect is followed. Failing to get an answer raises."""
    deadline = time.monotonic() + timeout
    check_target(url, allow_private=allow_private, resolve=resolve)
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TransientFailure(f"{url}: no answer within {timeout:g} s (resolving took it all)")
    try:
        # Timeout(total=...): connecting and waiting for the status line share one budget.
        response = session.post(
            url,
            data=body,
            headers={**headers, "Accept-Encoding": "identity"},
            timeout=Timeout(total=remaining),
            stream=True,
            allow_redirects=False,
        )
    except TargetForbidden as e:
        raise TargetForbidden(f"{url} {e}") from None
    except requests.Timeout:
        raise TransientFailure(f"{url}: no answer within {timeout:g} s") from None
    except (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema) as e:
        raise PermanentFailure(f"{url}: {e}") from None
    except requests.RequestException as e:
        raise TransientFailure(f"{url}: {_connection_problem(e)}") from None
    try:
        content = _read_capped(response, deadline)
    finally:
        response.close()  # a body read to its end has already given the connection back
    return Reply(response.status_code, response.headers, content)


def _read_capped(response: requests.Response, deadline: float) -> bytes:
    content = bytearray()
    try:
        while len(content) < MAX_REPLY_BYTES:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            connection = response.raw.connection
            if connection is not None and connection.sock is not None:
                connection.sock.settimeout(remaining)  # no single read outlives the deadline
            chunk = response.raw.read1(MAX_REPLY_BYTES - len(content), decode_content=False)
            if not chunk:
                break
            content += chunk
    except (Urllib3Error, OSError):
        pass  # a body cut short or too slow: the status has been answered all the same
    return bytes(content)


def failure_for(reply: Reply, now: dt.datetime) -> DeliveryFailed | None:
    """What an answer means (Standard Webhooks, "Delivery success and failure"): None for
    2xx. A redirect is a transient failure: not followed (the target is what was checked
    and configured), yet often a receiver's passing mistake, and the endpoint is disabled
    anyway if it persists; the message names the Location so a person can fix the URL."""
    status = reply.status
    if 200 <= status < 300:
        return None
    if 300 <= status < 400:
        location = sanitise(reply.headers.get("Location", "none"))
        return TransientFailure(
            f"{describe(reply)}: redirects are not followed (Location: {location})"
        )
    if status in (429, 503):
        retry_after = parse_retry_after(reply.headers.get("Retry-After"), now)
        return TransientFailure(describe(reply), retry_after=retry_after)
    if status == 408 or status >= 500 or status < 200:
        return TransientFailure(describe(reply))
    return PermanentFailure(describe(reply))


def describe(reply: Reply) -> str:
    """'HTTP 500 Internal Server Error: <the start of the body>', safe to log."""
    try:
        phrase = f" {HTTPStatus(reply.status).phrase}"
    except ValueError:
        phrase = ""
    snippet = sanitise(reply.body.decode("utf-8", "replace"))
    return f"HTTP {reply.status}{phrase}" + (f": {snippet}" if snippet else "")


def sanitise(text: str, limit: int = SNIPPET_CHARS) -> str:
    """`text` on one line, control and format characters (bidi overrides too) blanked."""
    text = text[: limit * 4]
    text = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def parse_retry_after(value: str | None, now: dt.datetime) -> float | None:
    """Seconds to wait per a Retry-After header (RFC 9110 section 10.2.3: delta-seconds or
    an HTTP-date); None when absent or unreadable; never negative."""
    if value is None:
        return None
    value = value.strip()
    if re.fullmatch(r"-?\d{1,10}", value):
        return float(max(0, int(value)))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000": UTC, as HTTP dates always are
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


def _connection_problem(e: requests.RequestException) -> str:
    # requests wraps urllib3's errors in a MaxRetryError: the innermost reason says more.
    reason: BaseException = e
    for _ in range(8):
        inner = getattr(reason, "reason", None) or reason.__cause__ or reason.__context__
        if not isinstance(inner, BaseException):
            break
        reason = inner
    if isinstance(reason, OSError) and reason.strerror:
        return f"cannot connect: {reason.strerror}"
    return f"cannot connect: {sanitise(str(reason))}"


def _os_reason(e: BaseException) -> str:
    return e.strerror if isinstance(e, OSError) and e.strerror else str(e)


class HttpChannel:
    """What the webhook and WebSub channels share: the outbox section (timeouts, private
    targets), one guarded session for their sends (closed at the end of a batch), the clock
    and the resolver."""

    def __init__(
        self,
        outbox: OutboxSettings,
        session: requests.Session | None = None,
        *,
        clock: Clock | None = None,
        resolve: Resolver = resolve_host,
    ) -> None:
        self._outbox = outbox
        self._session = session or http_session(outbox.allow_private_targets)
        self._clock = clock or SystemClock()
        self._resolve = resolve

    def close(self) -> None:
        self._session.close()
