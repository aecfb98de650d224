"""A document ready to serve (`Ready`): its bytes, gzip, strong ETags, Last-Modified and the
response headers of its four answers, computed once; and why a path has none (`Missing`).
The DocumentCache (cache.py) makes and keeps them; web/ sends them."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
from dataclasses import dataclass, field
from email.utils import format_datetime

from feedsvc.publishing.packing import SMALL, gzipped
from feedsvc.publishing.pages import security_headers
from feedsvc.publishing.site import Document

_GZIP_MIN = 256  # bytes; below this gzip costs more than it saves
# A feed and its browser page share a URL (issue 12 item 3): caches must key on the header
# that picks one (RFC 9110 12.5.5), beside the coding.
_VARY_FEED = b"Sec-Fetch-Dest"
# The browser page is the site's page, with its usual protections; it is never stored by a
# shared cache (private), and a browser asks again before showing it (no-cache), so it is
# never shown for a feed that has moved on.
_PAGE_CACHE_CONTROL = b"private, no-cache"
_PAGE_SECURITY = security_headers(b"'none'")  # a feed's browser page has no form


class Missing(enum.Enum):
    """Why there is no document at a path; web/ says it in HTTP (404, 410)."""

    NOT_FOUND = "not found"  # never was, or never public
    GONE = "gone"  # a release withdrawn: it was public, and is no more


ResponseHeaders = tuple[tuple[bytes, bytes], ...]  # one answer's response headers, in order


@dataclass(frozen=True, slots=True)
class Ready:
    """One document with everything HTTP needs, computed when it is rendered."""

    path: str
    media_type: str
    body: bytes
    gzip: bytes | None
    etag: str  # strong, quoted; the gzip variant appends '-gz' inside the quotes
    last_modified: str | None  # IMF-fixdate
    modified: float | None  # POSIX seconds, for If-Modified-Since
    max_age: int
    links: tuple[tuple[str, str], ...] = ()  # (url, rel) for the Link header
    # A feed: the page a browser navigating to it gets instead (Sec-Fetch-Dest: document).
    browser: Ready | None = None
    for_browser: bool = False  # this is such a page
    # The response headers of each answer, built once from the fields above (so never
    # given, and rebuilt by dataclasses.replace). Named, not indexed (issue 13 item 3);
    # attributes of a slotted class cost the hot path no more than tuple indexing did.
    ok_headers: ResponseHeaders = field(init=False, repr=False, compare=False)  # 200
    ok_gzip_headers: ResponseHeaders = field(init=False, repr=False, compare=False)  # 200, gzip
    not_modified_headers: ResponseHeaders = field(init=False, repr=False, compare=False)  # 304
    not_modified_gzip_headers: ResponseHeaders = field(init=False, repr=False, compare=False)
    # The ETags those answers carry, as sent: what a client repeats in If-None-Match.
    # Without a gzip variant both are the identity ETag, as both 304s are the same.
    etag_bytes: bytes = field(init=False, repr=False, compare=False)
    gzip_etag_bytes: bytes = field(init=False, repr=False, compare=False)

    @property
    def gzip_etag(self) -> str:
        return self.etag[:-1] + '-gz"'

    @property
    def size(self) -> int:
        """Bytes held in memory, the browser page included."""
        own = len(self.body) + len(self.gzip or b"")
        return own + (0 if self.browser is None else self.browser.size)

    def __post_init__(self) -> None:
        ok, ok_gzip, not_modified, not_modified_gzip = self._build_headers()
        set_ = object.__setattr__  # frozen: set once, here
        set_(self, "ok_headers", ok)
        set_(self, "ok_gzip_headers", ok_gzip)
        set_(self, "not_modified_headers", not_modified)
        set_(self, "not_modified_gzip_headers", not_modified_gzip)
        set_(self, "etag_bytes", self.etag.encode())
        set_(self, "gzip_etag_bytes", (self.etag if self.gzip is None else self.gzip_etag).encode())

    def _build_headers(
        self,
    ) -> tuple[ResponseHeaders, ResponseHeaders, ResponseHeaders, ResponseHeaders]:
        """(200, 200 gzip, 304, 304 gzip); without gzip, the gzip answers are the others."""
        vary = [b"Accept-Encoding"] if self.gzip is not None else []
        if self.browser is not None or self.for_browser:
            vary.append(_VARY_FEED)
        if self.for_browser:
            cache_control = _PAGE_CACHE_CONTROL
        else:
            cache_control = b"public, max-age=%d" % self.max_age

        def common(etag: str) -> list[tuple[bytes, bytes]]:
            out = [(b"etag", etag.encode()), (b"cache-control", cache_control)]
            if vary:
                out.append((b"vary", b", ".join(vary)))
            if self.last_modified is not None:
                out.append((b"last-modified", self.last_modified.encode()))
            if self.links:
                link = ", ".join(f'<{url}>; rel="{rel}"' for url, rel in self.links)
                out.append((b"link", link.encode()))
            return out

        ctype = (b"content-type", self.media_type.encode())
        page = _PAGE_SECURITY if self.for_browser else ()
        ok = (*common(self.etag), ctype, (b"content-length", b"%d" % len(self.body)), *page)
        if self.gzip is None:
            return ok, ok, tuple(common(self.etag)), tuple(common(self.etag))
        ok_gz = (
            *common(self.gzip_etag),
            ctype,
            *page,
            (b"content-length", b"%d" % len(self.gzip)),
            (b"content-encoding", b"gzip"),
        )
        return ok, ok_gz, tuple(common(self.etag)), tuple(common(self.gzip_etag))

    @classmethod
    def of(
        cls, doc: Document, max_age: int, browser: Ready | None = None, for_browser: bool = False
    ) -> Ready:
        packed = None
        if len(doc.body) >= _GZIP_MIN and not doc.media_type.startswith("image/"):
            packed = gzipped(doc.body, doc.gzip_level or SMALL)
        modified = doc.modified
        return cls(
            path=doc.path,
            media_type=doc.media_type,
            body=doc.body,
            gzip=packed,
            etag='"' + hashlib.blake2b(doc.body, digest_size=12).hexdigest() + '"',
            last_modified=None
            if modified is None
            else format_datetime(modified.astimezone(dt.UTC), usegmt=True),
            modified=None if modified is None else int(modified.timestamp()),
            max_age=max_age,
            links=doc.links,
            browser=browser,
            for_browser=for_browser,
        )
