"""HTTP for search (issue 17 item 1): the results page and the OpenSearch description, in
each language (`zh/search` searches the Chinese releases). Answered by code, never by the
document cache, and never indexed by search engines (X-Robots-Tag and the page's meta).

    GET search?q=&section=&year=&page=  -> 200 the page (a bad field: 400 naming it)
    GET opensearch.xml                  -> the OpenSearch 1.1 description
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from xml.sax.saxutils import escape, quoteattr

from feedsvc import layout
from feedsvc.config import LanguageSettings, SiteSettings
from feedsvc.i18n import N_, Message, translate
from feedsvc.languages import Language, Languages
from feedsvc.publishing.pages import Pages, security_headers
from feedsvc.search.form import MAX_PAGE, PER_PAGE, SearchForm, SearchInvalid, parse, year_span
from feedsvc.search.text import query_terms
from feedsvc.store import Store
from feedsvc.store.outage import OUTAGES, is_unreachable
from feedsvc.store.search import COUNT_CAP, Found, SearchQuery
from feedsvc.web import answers
from feedsvc.web.asgi import Answer, Receive, Scope, Send, respond

T = TypeVar("T")
log = logging.getLogger("feedsvc.search")
SECTIONS_TTL = 60.0  # seconds a language's section list (the filter's choices) is kept
_HEADERS = [
    (b"content-type", b"text/html; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-robots-tag", b"noindex"),
    *security_headers(b"'self'"),
]
_OPENSEARCH = "application/opensearchdescription+xml"
UNAVAILABLE = N_("Search is unavailable for a moment: please try again.")


def description_of(site: str) -> Message:
    return N_("Search the press releases of %(site)s", site=site)


_DESCRIPTION = [
    (b"content-type", _OPENSEARCH.encode()),
    (b"cache-control", b"public, max-age=3600"),
]


class SearchRoutes:
    def __init__(
        self,
        store: Store,
        pages: Pages,
        *,
        site: SiteSettings,
        languages: Mapping[str, LanguageSettings] | None = None,
    ) -> None:
        self.store = store
        self.languages = Languages(site, languages)
        self._pages = {lang.tag: pages.in_language(lang) for lang in self.languages}
        self._template = pages.env.get_template("search.html")
        self._sections: dict[str, tuple[float, list[tuple[str, str]]]] = {}

    async def __call__(
        self, scope: Scope, receive: Receive, send: Send, method: str, rel: str
    ) -> Answer | None:
        """Answer a search route, or None when `rel` is not one."""
        tag, target = layout.split(layout.parse(rel, self.languages.prefixed))
        if not isinstance(target, layout.Search | layout.OpenSearch):
            return None
        if method not in ("GET", "HEAD"):
            return await answers.not_allowed(send, b"GET, HEAD")
        # Only ever a configured language: the tag in the path is never echoed as sent.
        language = self.languages.get(tag) or self.languages.default
        route = layout.route(layout.parse(rel, self.languages.prefixed))
        if isinstance(target, layout.OpenSearch):
            body = self.opensearch(language).encode()
            headers = [
                (b"content-type", _OPENSEARCH.encode()),
                (b"cache-control", b"public, max-age=3600"),
            ]
            return await respond(send, 200, [*headers, _length(body)], body, method, route)
        try:
            form = parse(scope.get("query_string", b""))
        except SearchInvalid as bad:
            body = await _off_loop(self.page, language, SearchForm(), None, bad)
            return await respond(send, 400, [*_HEADERS, _length(body)], body, method, route)
        try:
            body = await _off_loop(self.results, language, form)
        except Exception as error:
            if not is_unreachable(error):
                raise
            OUTAGES.failed(error, "answering 503")
            body = (translate(UNAVAILABLE, self._pages[language.tag].translations) + "\n").encode()
            headers = [(b"content-type", b"text/plain; charset=utf-8"), *answers.LATER]
            return await respond(send, 503, [*headers, _length(body)], body, method, route)
        return await respond(send, 200, [*_HEADERS, _length(body)], body, method, route)

    def results(self, language: Language, form: SearchForm) -> bytes:
        """The page of `form`'s results (none asked for without words)."""
        found = None
        terms = tuple(query_terms(form.q))
        if terms:
            query = SearchQuery(
                terms,
                scope=language.scope or "",
                section_slug=form.section,
                published=None if form.year is None else year_span(form.year, language.site.tz),
                offset=form.offset,
                limit=PER_PAGE,
            )
            found = self.store.search.find(query)
        return self.page(language, form, found)

    def page(
        self,
        language: Language,
        form: SearchForm,
        found: Found | None,
        invalid: SearchInvalid | None = None,
    ) -> bytes:
        pages = self._pages[language.tag]
        base = pages.base["base_path"]
        pages_total = 0 if found is None else min(-(-found.total // PER_PAGE), MAX_PAGE)

        def link(n: int) -> str:
            return base + layout.search(form.q, section=form.section, year=form.year, page=n)

        html = self._template.render(
            **pages.base,
            feeds=[pages.main_feed],
            form=form,
            found=found,
            capped=found is not None and found.total >= COUNT_CAP,
            sections=self.sections(language),
            error=None if invalid is None else translate(invalid.message, pages.translations),
            error_field=None if invalid is None else invalid.field,
            newer=link(form.page - 1) if form.page > 1 else None,
            older=link(form.page + 1) if form.page < pages_total else None,
            tz=pages.site.tz,
        )
        return html.encode()

    def sections(self, language: Language) -> list[tuple[str, str]]:
        """(slug, name) of the language's sections, kept a minute: the filter's choices."""
        now = time.monotonic()
        kept = self._sections.get(language.tag)
        if kept is None or now - kept[0] > SECTIONS_TTL:
            found = self.store.releases.in_language(language.scope).sections()
            kept = (now, [(slug, language.section_name(name)) for slug, name in found])
            self._sections[language.tag] = kept
        return kept[1]

    def opensearch(self, language: Language) -> str:
        """OpenSearch 1.1: what a browser needs to search this language's releases."""
        site = language.site
        pages = self._pages[language.tag]
        short = site.title if len(site.title) <= 16 else site.title[:15] + "…"
        described = translate(description_of(site.title), pages.translations)
        template = site.base_url + layout.search() + "?q={searchTerms}"
        self_url = site.base_url + layout.opensearch()
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<OpenSearchDescription xmlns="http://a9.com/-/spec/opensearch/1.1/">\n'
            f"  <ShortName>{escape(short)}</ShortName>\n"
            f"  <Description>{escape(described)}</Description>\n"
            f"  <Language>{escape(language.tag)}</Language>\n"
            "  <InputEncoding>UTF-8</InputEncoding>\n"
            f'  <Url type="text/html" method="get" template={quoteattr(template)}/>\n'
            f'  <Url type="{_OPENSEARCH}" rel="self" template={quoteattr(self_url)}/>\n'
            "</OpenSearchDescription>\n"
        )


def _length(body: bytes) -> tuple[bytes, bytes]:
    return (b"content-length", str(len(body)).encode())


async def _off_loop(call: Callable[..., T], *args: Any) -> T:
    """The database and the template: off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(None, call, *args)
