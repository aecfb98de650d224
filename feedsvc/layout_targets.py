"""What a path of the site names: one frozen target per kind of document (the URL layout's
vocabulary, feedsvc/layout). Each carries its access-log and /metrics label, `route`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

API_NAMES = ("shares", "shares/token", "subscriptions", "subscriptions/token", "openapi.json")


@dataclass(frozen=True, slots=True)
class MainFeed:
    filename: str

    @property
    def route(self) -> str:
        return "/" + self.filename


@dataclass(frozen=True, slots=True)
class SectionFeed:
    slug: str
    filename: str

    @property
    def route(self) -> str:
        return "/sections/{slug}/" + self.filename


@dataclass(frozen=True, slots=True)
class ArchiveFeed:
    n: int
    filename: str

    @property
    def route(self) -> str:
        return "/archive/{n}/" + self.filename


@dataclass(frozen=True, slots=True)
class Home:
    """The home page: page 1 of the HTML index."""

    route: ClassVar[str] = "/"


@dataclass(frozen=True, slots=True)
class IndexPage:
    """page/<n>/ of the HTML index. `page/1/` parses too and shows the home page, as it
    always has; nothing links to it."""

    n: int
    route: ClassVar[str] = "/page/{n}/"


@dataclass(frozen=True, slots=True)
class SectionPage:
    slug: str
    route: ClassVar[str] = "/sections/{slug}/"


@dataclass(frozen=True, slots=True)
class ReleasePage:
    id: str
    route: ClassVar[str] = "/releases/{id}/"


@dataclass(frozen=True, slots=True)
class ReleaseFile:
    """A file of a release (issue 14): an attachment, a picture, or a picture's variant."""

    id: str
    name: str
    route: ClassVar[str] = "/releases/{id}/{file}"


@dataclass(frozen=True, slots=True)
class Sitemap:
    part: int | None  # None: sitemap.xml (the sitemap, or the index of its parts)

    @property
    def route(self) -> str:
        return "/sitemap.xml" if self.part is None else "/sitemaps/"


@dataclass(frozen=True, slots=True)
class NewsSitemap:
    """news-sitemap.xml (issue 17): the Google News sitemap, once at the top."""

    route: ClassVar[str] = "/news-sitemap.xml"


@dataclass(frozen=True, slots=True)
class Robots:
    """robots.txt (issue 17): the sitemaps and what crawlers should leave alone."""

    route: ClassVar[str] = "/robots.txt"


@dataclass(frozen=True, slots=True)
class NotFoundPage:
    route: ClassVar[str] = "/404.html"


@dataclass(frozen=True, slots=True)
class Asset:
    name: str
    route: ClassVar[str] = "/assets/"


@dataclass(frozen=True, slots=True)
class ShareForm:
    """The "Suggest To A Friend" form of a release. Any segment parses: the share desk
    answers an id that is no release id with its own page, as for an unknown one."""

    release_id: str
    route: ClassVar[str] = "/releases/{id}/share"


@dataclass(frozen=True, slots=True)
class ReleasePreview:
    """An embargoed release's preview page (issue 17 item 6): the signed token is in the
    query; feedsvc/web/preview.py answers it."""

    id: str
    route: ClassVar[str] = "/releases/{id}/preview"


@dataclass(frozen=True, slots=True)
class ShareSent:
    share_id: str
    route: ClassVar[str] = "/shares/{id}/"


@dataclass(frozen=True, slots=True)
class Click:
    """The link a share email carries: counted, then redirected to the release."""

    share_id: str
    route: ClassVar[str] = "/s/{id}"


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    route: ClassVar[str] = "/unsubscribe"  # the token is in the query (RFC 8058)


@dataclass(frozen=True, slots=True)
class AlertPage:
    """Email alerts (issue 16): the subscribe page ("") and the pages the emails' signed
    links lead to ("confirm", "manage", "unsubscribe": the token in the query). Each
    language has its own, so a page speaks the language of the email or form it came from."""

    page: str  # one of ALERT_PAGES

    @property
    def route(self) -> str:
        return "/alerts/" + self.page


ALERT_PAGES = ("", "confirm", "manage", "unsubscribe")


@dataclass(frozen=True, slots=True)
class Api:
    name: str  # one of API_NAMES, or any other path under api/ (answered 404)

    @property
    def route(self) -> str:
        return "/api/" + self.name if self.name in API_NAMES else "/api/"


@dataclass(frozen=True, slots=True)
class TagFeed:
    """A tag's feed (issue 17): tags/<slug>/{feed.xml,atom.xml,feed.json}."""

    slug: str
    filename: str

    @property
    def route(self) -> str:
        return "/tags/{slug}/" + self.filename


@dataclass(frozen=True, slots=True)
class TagPage:
    """A tag's page (issue 17): its newest releases, as a section's page."""

    slug: str
    route: ClassVar[str] = "/tags/{slug}/"


@dataclass(frozen=True, slots=True)
class TagsPage:
    """Every tag of the language with its count (issue 17)."""

    route: ClassVar[str] = "/tags/"


@dataclass(frozen=True, slots=True)
class FeedsPage:
    """Every feed of the language in one place (issue 17)."""

    route: ClassVar[str] = "/feeds/"


@dataclass(frozen=True, slots=True)
class Opml:
    """feeds.opml: every feed of the language as an OPML 2.0 subscription list (issue 17)."""

    route: ClassVar[str] = "/feeds.opml"


@dataclass(frozen=True, slots=True)
class Search:
    """The search page (issue 17 item 1), answered by code; its words in the query."""

    route: ClassVar[str] = "/search"


@dataclass(frozen=True, slots=True)
class OpenSearch:
    """opensearch.xml: the OpenSearch 1.1 description of the language's search (issue 17)."""

    route: ClassVar[str] = "/opensearch.xml"


@dataclass(frozen=True, slots=True)
class Localized:
    """A document of a language other than the site's own (issue 15): `target` under
    `<tag>/`."""

    tag: str
    target: Target

    @property
    def route(self) -> str:
        return "/{lang}" + self.target.route


# The documents each language has under its tag.
LOCALIZED = (
    MainFeed,
    SectionFeed,
    ArchiveFeed,
    Home,
    IndexPage,
    SectionPage,
    ReleasePage,
    ReleaseFile,
    ShareForm,
    NotFoundPage,
    AlertPage,
    ReleasePreview,  # issue 17 item 6: embargoed previews
    TagFeed,  # issue 17: tags and the feeds page
    TagPage,
    TagsPage,
    FeedsPage,
    Opml,
    Search,  # issue 17 item 1: each language searches its own releases
    OpenSearch,
)

Target = (
    MainFeed
    | SectionFeed
    | ArchiveFeed
    | Home
    | IndexPage
    | SectionPage
    | ReleasePage
    | ReleaseFile
    | Sitemap
    | NewsSitemap
    | Robots
    | NotFoundPage
    | Asset
    | ShareForm
    | ReleasePreview
    | ShareSent
    | Click
    | Unsubscribe
    | Api
    | TagFeed
    | TagPage
    | TagsPage
    | FeedsPage
    | Opml
    | Search
    | OpenSearch
    | Localized
)
FEED_TARGETS = (MainFeed, SectionFeed, ArchiveFeed, TagFeed)
