"""HTTP for embargoed previews (issue 17 item 6):

    GET releases/ID/preview?t=TOKEN   -> the release's page with the "EMBARGOED until" banner
                                         (zh/releases/ID/preview: the translation), or 303 to
                                         the public page once the embargo has lifted
    GET releases/ID/NAME?t=TOKEN      -> a picture or file of the embargoed release

A forged, expired, revoked or other release's token, an unknown or withdrawn release: one
404, the site's own page, never saying which (no oracle). The page is no one's to keep or
index: `Cache-Control: private, no-store`, `X-Robots-Tag` and a robots meta, and
`Referrer-Policy: no-referrer` since the token is in the URL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from urllib.parse import parse_qs

from feedsvc import layout
from feedsvc.config import LanguageSettings, SiteSettings
from feedsvc.languages import Languages
from feedsvc.model import scoped
from feedsvc.previews.desk import PreviewDesk, Seen, Verdict
from feedsvc.previews.page import STYLE_HASH, PreviewPages, public_path
from feedsvc.publishing.cache import DocumentCache
from feedsvc.publishing.file_lookup import FileLookup
from feedsvc.publishing.pages import Pages
from feedsvc.publishing.ready import Missing
from feedsvc.web.asgi import Answer, Headers, Receive, Scope, Send, basic, respond
from feedsvc.web.files import FileSender

_ROUTE = layout.ReleasePreview.route
_FILE_ROUTE = layout.ReleaseFile.route
_PRIVATE: Headers = [
    (b"cache-control", b"private, no-store"),
    (b"x-robots-tag", b"noindex, nofollow"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
]
# The pages' policy (publishing/pages.security_headers), with the banner's style by hash;
# the one form left is the site's search box (base.html), which posts nowhere else.
_CSP = (
    b"default-src 'self'; img-src 'self' data:; style-src 'self' '"
    + STYLE_HASH.encode()
    + b"'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


class PreviewRoutes:
    def __init__(
        self,
        desk: PreviewDesk,
        pages: Pages,
        documents: DocumentCache,
        files: FileLookup | None,
        *,
        site: SiteSettings,
        languages: Mapping[str, LanguageSettings] | None = None,
    ) -> None:
        self.desk = desk
        self.pages = PreviewPages(pages)
        self.plain_pages = pages
        self.documents = documents
        self.files = files
        self.sender = FileSender(None)  # the loop's default pool, as the store reads
        self.languages = Languages(site, languages)

    async def __call__(
        self, scope: Scope, receive: Receive, send: Send, method: str, rel: str
    ) -> Answer | None:
        """Answer a preview, or None when `rel` is not one (nor a file with a token)."""
        tag, target = layout.split(layout.parse(rel, self.languages.prefixed))
        if not isinstance(target, (layout.ReleasePreview, layout.ReleaseFile)):
            return None
        if method not in ("GET", "HEAD"):
            return None  # 405 by the app, as for any document
        token = _token(scope)
        language = self.languages.get(tag) or self.languages.default
        key = scoped(target.id, language.scope)
        if isinstance(target, layout.ReleaseFile):
            if token is None:
                return None  # the public file route decides, as ever
            return await self._file(scope, receive, send, method, target, key, token)
        loop = asyncio.get_running_loop()
        verdict: Verdict = await loop.run_in_executor(None, self.desk.verdict, key, token or "")
        if verdict.seen is Seen.PUBLIC:
            location = public_path(self.plain_pages, language, target.id).encode()
            headers = [(b"location", location), *_PRIVATE, *basic(b"text/plain", b"")]
            return await respond(send, 303, headers, b"", method, _ROUTE)
        if token is None or verdict.stored is None or verdict.expires is None:
            return await self._nothing(send, method, rel)
        body = await loop.run_in_executor(
            None, self.pages.render, verdict.stored, language, token, verdict.expires
        )
        headers = [
            *basic(b"text/html; charset=utf-8", body),
            *_PRIVATE,
            (b"content-security-policy", _CSP),
        ]
        return await respond(send, 200, headers, body, method, _ROUTE)

    async def _file(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        method: str,
        target: layout.ReleaseFile,
        key: str,
        token: str,
    ) -> Answer | None:
        """The embargoed release's file on a good token; anything else goes the public
        way (404 while embargoed), so a bad token is told nothing new."""
        if self.files is None:
            return None
        loop = asyncio.get_running_loop()
        verdict = await loop.run_in_executor(None, self.desk.verdict, key, token)
        if verdict.seen is not Seen.PAGE or verdict.stored is None:
            return None
        found = await loop.run_in_executor(None, self.files.preview, target, verdict.stored)
        if isinstance(found, Missing):
            return await self._nothing(send, method, layout.path(target), _FILE_ROUTE)
        status, size = await self.sender.send(scope, receive, send, method, found)
        return status, _FILE_ROUTE, size

    async def _nothing(self, send: Send, method: str, rel: str, route: str = _ROUTE) -> Answer:
        """The one answer to every token that shows nothing: the site's 404 page."""
        page = self.documents.error_page(Missing.NOT_FOUND, rel) if self.documents.errors else None
        body = page.body if page is not None else b"not found\n"
        headers = [*basic(b"text/html; charset=utf-8", body), *_PRIVATE]
        return await respond(send, 404, headers, body, method, route)


def _token(scope: Scope) -> str | None:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    values = query.get("t")
    return values[0] if values and len(values) == 1 else None
