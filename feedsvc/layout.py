"""The site's URL layout: every path feedsvc answers, built and parsed in this one place.

Issue 13 item 1: a new kind of document is a new target here and a writer, nothing else.
Paths are relative to `site.base_url` (documents, links in feeds and emails) or
`site.base_path` (links in pages, redirects); the same for the server and the export:

    feed.xml  atom.xml  feed.json               newest feeds.limit releases
    sections/<slug>/{feed.xml,atom.xml,feed.json}  sections/<slug>/   a section
    archive/<n>/{feed.xml,atom.xml,feed.json}   RFC 5005 pages, oldest n=1
    (the home page)  page/<n>/                  HTML index, newest first
    releases/<id>/                              one release
    releases/<id>/<name>                        its files and pictures' variants (issue 14)
    sitemap.xml  sitemaps/<n>.xml  404.html  assets/<name>
    news-sitemap.xml  robots.txt                (issue 17: once, at the top)
    releases/<id>/share  shares/<share>/  s/<share>  unsubscribe?t=<token>
    api/shares  api/shares/token?release=<id>  api/openapi.json
    alerts/  alerts/{confirm,manage,unsubscribe}?t=<token>  (issue 16: email alerts)
    api/subscriptions  api/subscriptions/token
    releases/<id>/preview?t=<token>             an embargoed release's preview (issue 17)
    tags/  tags/<slug>/  tags/<slug>/{feed.xml,atom.xml,feed.json}  feeds/  feeds.opml  (issue 17)
    search?q=<words>[&section=&year=&page=]  opensearch.xml   (issue 17 item 1: served only)

Issue 15: the site's own language keeps these paths; every other language has the same
documents under its tag (`zh/feed.xml`, `zh/releases/<id>/`, `zh/sections/<slug>/`...),
built with `in_language(tag, path)` and parsed (given the configured tags) as
`Localized(tag, target)`. The assets, the sitemap, the share API, share pages and the
unsubscribe page exist once, at the top.

`parse` is the one way back from a request path to what it names; `route` gives the
low-cardinality label of the access log and /metrics. The targets themselves are
`layout_targets.py`'s, all importable from here. Imports only the model.
"""

from __future__ import annotations

import re
from collections.abc import Container
from urllib.parse import quote, urlencode

from feedsvc.layout_targets import (
    ALERT_PAGES,
    API_NAMES,
    FEED_TARGETS,
    LOCALIZED,
    AlertPage,
    Api,
    ArchiveFeed,
    Asset,
    Click,
    FeedsPage,
    Home,
    IndexPage,
    Localized,
    MainFeed,
    NewsSitemap,
    NotFoundPage,
    OpenSearch,
    Opml,
    ReleaseFile,
    ReleasePage,
    ReleasePreview,
    Robots,
    Search,
    SectionFeed,
    SectionPage,
    ShareForm,
    ShareSent,
    Sitemap,
    TagFeed,
    TagPage,
    TagsPage,
    Target,
    Unsubscribe,
)
from feedsvc.model import is_media_name, is_release_id, slugify, tag_slug

__all__ = [  # the targets (layout_targets.py) are part of the layout's vocabulary
    "ALERT_PAGES",
    "API_NAMES",
    "FEED_FILES",
    "FEED_ROUTES",
    "FEED_TARGETS",
    "LOCALIZED",
    "AlertPage",
    "Api",
    "ArchiveFeed",
    "Asset",
    "Click",
    "FeedsPage",
    "Home",
    "IndexPage",
    "Localized",
    "MainFeed",
    "NewsSitemap",
    "NotFoundPage",
    "OpenSearch",
    "Opml",
    "ReleaseFile",
    "ReleasePage",
    "ReleasePreview",
    "Robots",
    "Search",
    "SectionFeed",
    "SectionPage",
    "ShareForm",
    "ShareSent",
    "Sitemap",
    "TagFeed",
    "TagPage",
    "TagsPage",
    "Target",
    "Unsubscribe",
]

# The feed formats' file names, in the order the writers write them.
FEED_FILES = ("feed.xml", "atom.xml", "feed.json")

# As model.slugify makes them, cut to the column: lower-case ASCII letters, digits and '-',
# or (issue 15) the letters (and their marks) of a non-Latin name itself, an IRI
# (percent-encoded on the wire): a slug is what slugify leaves as it is.
_SLUG_CHARS = re.compile(r"[^\s/%_@.]{1,200}")


def _is_slug(text: str) -> bool:
    return _SLUG_CHARS.fullmatch(text) is not None and slugify(text) == text


_NUMBER = re.compile(r"[1-9][0-9]{0,8}")  # a page or archive number: no 0, no leading 0
_SITEMAP_PART = re.compile(r"([1-9][0-9]{0,4})\.xml")
_SHARE_ID = re.compile(r"[A-Za-z0-9_-]{1,40}")  # as the share desk makes them
_ASSET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

# -- building ------------------------------------------------------------------------------


def main_feed(filename: str) -> str:
    return filename


def section(slug: str) -> str:
    return f"sections/{slug}/"


def section_feed(slug: str, filename: str) -> str:
    return section(slug) + filename


def tag_page(slug: str) -> str:
    """A tag's page (issue 17); its feeds are tag_page(slug) + filename."""
    return f"tags/{slug}/"


def tag_named(name: str) -> str:
    """The page of the tag a release names `name` (model.tag_slug), for templates."""
    return tag_page(tag_slug(name))


def tag_feed(slug: str, filename: str) -> str:
    return tag_page(slug) + filename


def tags() -> str:
    """Every tag of the language (issue 17)."""
    return "tags/"


def feeds_page() -> str:
    """Every feed of the language in one place (issue 17)."""
    return "feeds/"


def opml() -> str:
    """Every feed of the language as OPML 2.0 (issue 17)."""
    return "feeds.opml"


def archive(n: int) -> str:
    """The folder of archive page n (RFC 5005); its feeds are archive(n) + filename."""
    return f"archive/{n}/"


def archive_feed(n: int, filename: str) -> str:
    return archive(n) + filename


def index_page(n: int) -> str:
    """Page n of the HTML index: the home page, then page/2/, page/3/..."""
    return "" if n == 1 else f"page/{n}/"


def release(release_id: str) -> str:
    return f"releases/{release_id}/"


def release_file(release_id: str, name: str) -> str:
    """A file of a release (issue 14): releases/<id>/<name> (model.is_media_name)."""
    return release(release_id) + name


def release_preview(release_id: str, token: str | None = None) -> str:
    """An embargoed release's preview page (issue 17 item 6), with its signed token (URL-safe
    as signed) as the query."""
    return release(release_id) + "preview" + ("" if token is None else f"?t={token}")


def sitemap(part: int | None = None) -> str:
    return "sitemap.xml" if part is None else f"sitemaps/{part}.xml"


def news_sitemap() -> str:
    """The Google News sitemap (issue 17)."""
    return "news-sitemap.xml"


def robots() -> str:
    return "robots.txt"


def not_found_page() -> str:
    return "404.html"


def asset(name: str) -> str:
    return f"assets/{name}"


def share_form(release_id: str) -> str:
    return release(release_id) + "share"


def share_sent(share_id: str) -> str:
    return f"shares/{share_id}/"


def click(share_id: str) -> str:
    return f"s/{share_id}"


def unsubscribe(token: str | None = None, language: str | None = None) -> str:
    """The unsubscribe page; with the signed token (URL-safe as signed) as its query, and
    the language of the email it came from (issue 15; None: the site's own)."""
    if token is None:
        return "unsubscribe"
    return f"unsubscribe?t={token}" + ("" if language is None else f"&lang={language}")


def alerts(page: str = "", token: str | None = None) -> str:
    """An email-alerts page (issue 16): the subscribe page, or "confirm", "manage" or
    "unsubscribe" with the signed token (URL-safe as signed) of the email's link."""
    return f"alerts/{page}" + ("" if token is None else f"?t={token}")


def subscription_token() -> str:
    """Where the subscribe forms' script asks for a form token."""
    return api("subscriptions/token")


def search(q: str | None = None, **filters: str | int | None) -> str:
    """The search page (issue 17 item 1); with words, their results (the filters given
    that are not None, then the page), as a query string."""
    params = {"q": q, **filters}
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return "search" + (f"?{query}" if query else "")


def opensearch() -> str:
    """The OpenSearch 1.1 description of the language's search (issue 17 item 1)."""
    return "opensearch.xml"


def api(name: str) -> str:
    return f"api/{name}"


def share_token(release_id: str) -> str:
    """Where the share form's script asks for a form token (the id quoted as Jinja's
    `urlencode` filter did)."""
    return api("shares/token") + "?release=" + quote(release_id, safe="/")


def in_language(tag: str | None, rel: str) -> str:
    """`rel` as a document of the language `tag` (None: the site's own) (issue 15)."""
    return rel if tag is None else f"{tag}/{rel}"


def path(target: Target) -> str:
    """The path of `target`: parse(path(t), tags) == t for every target."""
    match target:
        case Localized(tag, inner):
            return in_language(tag, path(inner))
        case MainFeed(filename):
            return main_feed(filename)
        case SectionFeed(slug, filename):
            return section_feed(slug, filename)
        case ArchiveFeed(n, filename):
            return archive_feed(n, filename)
        case Home():
            return ""
        case IndexPage(n):
            return f"page/{n}/"
        case SectionPage(slug):
            return section(slug)
        case ReleasePage(release_id):
            return release(release_id)
        case ReleaseFile(release_id, name):
            return release_file(release_id, name)
        case Sitemap(part):
            return sitemap(part)
        case NewsSitemap():
            return news_sitemap()
        case Robots():
            return robots()
        case NotFoundPage():
            return not_found_page()
        case Asset(name):
            return asset(name)
        case ShareForm(release_id):
            return share_form(release_id)
        case ReleasePreview(release_id):
            return release_preview(release_id)
        case ShareSent(share_id):
            return share_sent(share_id)
        case Click(share_id):
            return click(share_id)
        case Unsubscribe():
            return unsubscribe()
        case AlertPage(page):
            return alerts(page)
        case Api(name):
            return api(name)
        case TagFeed(slug, filename):
            return tag_feed(slug, filename)
        case TagPage(slug):
            return tag_page(slug)
        case TagsPage():
            return tags()
        case FeedsPage():
            return feeds_page()
        case Opml():
            return opml()
        case Search():
            return search()
        case OpenSearch():
            return opensearch()
    raise TypeError(f"not a target of the URL layout: {target!r}")


# -- parsing -------------------------------------------------------------------------------


def parse(rel: str, languages: Container[str] = ()) -> Target | None:
    """What the path `rel` (below the base path, no query) names, or None. Strict: a
    segment is matched whole (no trailing newline, no '..', no encoded '/'), so one
    document has one path. `languages`: the tags (as configured, case and all) that have
    documents under their own folder."""
    first, slash, rest = rel.partition("/")
    if slash and first in languages:
        inner = _parse(rest)
        return Localized(first, inner) if isinstance(inner, LOCALIZED) else None
    return _parse(rel)


def split(target: Target | None) -> tuple[str | None, Target | None]:
    """(language tag or None for the site's own, the target within it)."""
    if isinstance(target, Localized):
        return target.tag, target.target
    return None, target


def _parse(rel: str) -> Target | None:
    first, slash, rest = rel.partition("/")
    if not slash:
        return _top(first)
    if first == "releases":
        release_id, slash, tail = rest.partition("/")
        if not slash or "/" in tail:
            return None
        if tail == "":
            return ReleasePage(release_id) if is_release_id(release_id) else None
        if is_media_name(tail) and is_release_id(release_id):
            return ReleaseFile(release_id, tail)
        if tail == "preview":  # issue 17 item 6
            return ReleasePreview(release_id) if is_release_id(release_id) else None
        return ShareForm(release_id) if tail == "share" and release_id else None
    if first == "sections":
        slug, slash, filename = rest.partition("/")
        if not slash or not _is_slug(slug):
            return None
        if filename == "":
            return SectionPage(slug)
        return SectionFeed(slug, filename) if filename in FEED_FILES else None
    if first == "tags":  # issue 17
        if rest == "":
            return TagsPage()
        slug, slash, filename = rest.partition("/")
        if not slash or not _is_slug(slug):
            return None
        if filename == "":
            return TagPage(slug)
        return TagFeed(slug, filename) if filename in FEED_FILES else None
    if first == "feeds":
        return FeedsPage() if rest == "" else None
    if first == "archive":
        number, slash, filename = rest.partition("/")
        if slash and filename in FEED_FILES and _NUMBER.fullmatch(number):
            return ArchiveFeed(int(number), filename)
        return None
    if first == "page":
        if rest.endswith("/") and _NUMBER.fullmatch(rest[:-1]):
            return IndexPage(int(rest[:-1]))
        return None
    if first == "sitemaps":
        m = _SITEMAP_PART.fullmatch(rest)
        return None if m is None else Sitemap(int(m[1]))
    if first == "assets":
        return Asset(rest) if _ASSET.fullmatch(rest) else None
    if first == "shares":
        if rest.endswith("/") and _SHARE_ID.fullmatch(rest[:-1]):
            return ShareSent(rest[:-1])
        return None
    if first == "s":
        return Click(rest) if _SHARE_ID.fullmatch(rest) else None
    if first == "api":
        return Api(rest)
    if first == "alerts":
        return AlertPage(rest) if rest in ALERT_PAGES else None
    return None


def _top(name: str) -> Target | None:
    if name == "":
        return Home()
    if name in FEED_FILES:
        return MainFeed(name)
    if name == "sitemap.xml":
        return Sitemap(None)
    if name == "news-sitemap.xml":
        return NewsSitemap()
    if name == "robots.txt":
        return Robots()
    if name == "404.html":
        return NotFoundPage()
    if name == "unsubscribe":
        return Unsubscribe()
    if name == "feeds.opml":
        return Opml()
    if name == "search":
        return Search()
    if name == "opensearch.xml":
        return OpenSearch()
    return None


def route(target: Target | None) -> str:
    """The label of the access log and /metrics: one per kind, never the id in it."""
    return "other" if target is None else target.route


def route_of(rel: str, languages: Container[str] = ()) -> str:
    return route(parse(rel, languages))


# Routes whose documents are feeds: their fetchers are counted (issue 12 item 11).
FEED_ROUTES = frozenset(
    route(t)
    for name in FEED_FILES
    for plain in (MainFeed(name), SectionFeed("-", name), ArchiveFeed(1, name), TagFeed("-", name))
    for t in (plain, Localized("-", plain))
)
