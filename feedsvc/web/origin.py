"""Where a request comes from, as browsers say it (issue 11): the site's own origin, and
why a share post is refused as coming from another site."""

from __future__ import annotations

from urllib.parse import urlsplit

from feedsvc.i18n import N_, Message
from feedsvc.web.asgi import Scope, header


def site_origin(base_url: str) -> str:
    """scheme://host[:port] of the site, as a browser writes it in Origin (RFC 6454):
    lower case, no default port."""
    parts = urlsplit(base_url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is None or (scheme, port) in (("http", 80), ("https", 443)):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def cross_site(scope: Scope, site: str) -> Message | None:
    """Why a share post is refused as coming from another site, or None.

    Browsers say where a request comes from: `Origin` on every POST, and
    `Sec-Fetch-Site`. A page elsewhere must not make its visitors' browsers send
    shares, each from the visitor's own address (issue 11). A request without either
    header is not from a browser page (curl, a mail client, the operator) and is left
    to the token and the limits."""
    origin = header(scope, b"origin")
    fetch_site = header(scope, b"sec-fetch-site").lower()
    if origin == "null" and fetch_site == "same-origin":
        origin = ""  # a page of ours under a strict referrer policy (Fetch 3.2.5)
    if origin and origin.rstrip("/").lower() != site:
        return N_(
            "shares are accepted only from pages of %(site)s, not from %(origin)s",
            site=site,
            origin=origin[:100],
        )
    if fetch_site == "cross-site":
        return N_(
            "shares are accepted only from pages of %(site)s, not from another site",
            site=site,
        )
    return None
