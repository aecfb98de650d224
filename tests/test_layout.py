"""The URL layout (issue 13 item 1): every builder's path parses back to what built it, the
paths that never named a document still name none, and the route labels of the access log
and /metrics are the ones the server has always written."""

from __future__ import annotations

import pytest

from feedsvc import layout
from feedsvc.layout import (
    Api,
    ArchiveFeed,
    Asset,
    Click,
    Home,
    IndexPage,
    Localized,
    MainFeed,
    NotFoundPage,
    ReleaseFile,
    ReleasePage,
    SectionFeed,
    SectionPage,
    ShareForm,
    ShareSent,
    Sitemap,
    Unsubscribe,
)
from feedsvc.model import is_release_id

# (what a builder made, what it names): one row per builder, every kind.
BUILT = [
    (layout.main_feed("feed.xml"), MainFeed("feed.xml")),
    (layout.main_feed("atom.xml"), MainFeed("atom.xml")),
    (layout.main_feed("feed.json"), MainFeed("feed.json")),
    (layout.section("news-events"), SectionPage("news-events")),
    (layout.section_feed("news-events", "feed.xml"), SectionFeed("news-events", "feed.xml")),
    (layout.section_feed("economy", "feed.json"), SectionFeed("economy", "feed.json")),
    (layout.archive_feed(1, "atom.xml"), ArchiveFeed(1, "atom.xml")),
    (layout.archive(27) + "feed.json", ArchiveFeed(27, "feed.json")),
    (layout.index_page(1), Home()),
    (layout.index_page(2), IndexPage(2)),
    (layout.index_page(913), IndexPage(913)),
    (layout.release("2020-09-11-wang-yi"), ReleasePage("2020-09-11-wang-yi")),
    (layout.release("A.b_c-9"), ReleasePage("A.b_c-9")),
    (layout.release("x" * 200), ReleasePage("x" * 200)),
    (layout.release_file("r1", "statement.pdf"), ReleaseFile("r1", "statement.pdf")),
    (
        layout.release_file("r1", "0123456789abcdef-800w.jpg"),
        ReleaseFile("r1", "0123456789abcdef-800w.jpg"),
    ),
    (layout.release_file("A.b", "Photo_1.tar.gz"), ReleaseFile("A.b", "Photo_1.tar.gz")),
    (layout.sitemap(), Sitemap(None)),
    (layout.sitemap(3), Sitemap(3)),
    (layout.not_found_page(), NotFoundPage()),
    (layout.asset("style.css"), Asset("style.css")),
    (layout.asset("share.js"), Asset("share.js")),
    (layout.share_form("2020-09-11-wang-yi"), ShareForm("2020-09-11-wang-yi")),
    (layout.share_sent("Ab_9-z"), ShareSent("Ab_9-z")),
    (layout.click("Ab_9-z"), Click("Ab_9-z")),
    (layout.unsubscribe(), Unsubscribe()),
    (layout.api("shares"), Api("shares")),
    (layout.api("shares/token"), Api("shares/token")),
    (layout.api("openapi.json"), Api("openapi.json")),
    # Issue 15: another language's documents under its tag; a non-Latin section is an IRI.
    (layout.in_language("zh", layout.index_page(1)), Localized("zh", Home())),
    (layout.in_language("zh", layout.main_feed("atom.xml")), Localized("zh", MainFeed("atom.xml"))),
    (layout.in_language("ar", layout.release("r1")), Localized("ar", ReleasePage("r1"))),
    (
        layout.in_language("zh", layout.section_feed("外交部新闻", "feed.xml")),
        Localized("zh", SectionFeed("外交部新闻", "feed.xml")),
    ),
    (layout.section("пресс-релизы"), SectionPage("пресс-релизы")),
    (layout.section("हिन्दी-समाचार"), SectionPage("हिन्दी-समाचार")),  # vowel signs kept
    (
        layout.in_language("zh-Hant", layout.archive_feed(2, "feed.json")),
        Localized("zh-Hant", ArchiveFeed(2, "feed.json")),
    ),
    (layout.in_language("ar", layout.share_form("r1")), Localized("ar", ShareForm("r1"))),
    # Issue 17 item 6: an embargoed release's preview (the token is the query).
    (layout.release_preview("r1"), layout.ReleasePreview("r1")),
    (
        layout.in_language("zh", layout.release_preview("r1")),
        Localized("zh", layout.ReleasePreview("r1")),
    ),
    # Issue 17: tags and every feed in one place.
    (layout.tag_page("trade"), layout.TagPage("trade")),
    (layout.tag_named("外交"), layout.TagPage("外交")),
    (layout.tag_feed("trade", "atom.xml"), layout.TagFeed("trade", "atom.xml")),
    (layout.tags(), layout.TagsPage()),
    (layout.feeds_page(), layout.FeedsPage()),
    (layout.opml(), layout.Opml()),
    (layout.in_language("zh", layout.opml()), Localized("zh", layout.Opml())),
    # Issue 17: search, and what search engines and aggregators read (once, at the top).
    (layout.search(), layout.Search()),
    (layout.in_language("zh", layout.search()), Localized("zh", layout.Search())),
    (layout.opensearch(), layout.OpenSearch()),
    (layout.news_sitemap(), layout.NewsSitemap()),
    (layout.robots(), layout.Robots()),
]
LANGUAGES = {"zh", "ar", "zh-Hant"}


@pytest.mark.parametrize(("path", "target"), BUILT)
def test_a_built_path_parses_back_to_what_built_it(path: str, target: layout.Target) -> None:
    assert layout.parse(path, LANGUAGES) == target
    assert layout.path(target) == path
    if not isinstance(target, Localized):
        assert layout.parse(path) == target  # the site's own language needs no tags


@pytest.mark.parametrize(
    "path",
    [
        "zh/api/shares",  # what exists once has no language folder
        "zh/sitemap.xml",
        "zh/assets/style.css",
        "zh/unsubscribe",
        "zh/shares/Ab/",
        "zh/zh/feed.xml",
        "fr/feed.xml",  # not a configured language
        "ZH/feed.xml",  # one spelling, one URL
        "zh/sections/News/",  # slugs are lower case
        "zh/sections/a_b/",
        "zh/sections/a@zh/",
    ],
)
def test_a_language_folder_holds_only_its_documents(path: str) -> None:
    assert layout.parse(path, LANGUAGES) is None


def test_every_kind_of_target_is_built_and_parsed() -> None:
    kinds = {type(t) for _, t in BUILT}
    assert kinds == set(layout.Target.__args__)  # type: ignore[attr-defined]


def test_the_paths_built_are_the_site_s_paths() -> None:
    """The bytes the documents, feeds and emails have always carried."""
    assert layout.release("r1") == "releases/r1/"
    assert layout.release_file("r1", "a.pdf") == "releases/r1/a.pdf"
    assert layout.section_feed("s", "atom.xml") == "sections/s/atom.xml"
    assert layout.archive(4) == "archive/4/"
    assert (layout.index_page(1), layout.index_page(2)) == ("", "page/2/")
    assert (layout.sitemap(), layout.sitemap(2)) == ("sitemap.xml", "sitemaps/2.xml")
    assert layout.asset("feed.xsl") == "assets/feed.xsl"
    assert layout.share_form("r1") == "releases/r1/share"
    assert layout.share_sent("Sx") == "shares/Sx/"
    assert layout.click("Sx") == "s/Sx"
    assert layout.unsubscribe("a.b-c_d") == "unsubscribe?t=a.b-c_d"
    # Quoted as Jinja's `urlencode` filter quoted it in the share form.
    assert layout.share_token("a b&c/é") == "api/shares/token?release=a%20b%26c/%C3%A9"


# Paths that name nothing: what the cache's and the share routes' patterns refused.
NOTHING = [
    "releases/../x/",
    "releases/a%2Fb/",
    "releases/a/b/",
    "releases/-leading-dash/",
    "releases/.hidden/",
    "releases/" + "x" * 201 + "/",
    "releases/x",  # no trailing slash
    "releases//",
    "releases/x/share/",
    "releases/x/statement",  # a file has an extension: never the page's share form
    "releases/x/.htaccess",
    "releases/x/a..pdf",
    "releases/x/a.pdf.",
    "releases/x/a b.pdf",
    "releases/x/a%2Fb.pdf",
    "releases/-x/a.pdf",
    "releases/x/dir/a.pdf",
    "releases/x/statement.pdf\n",
    "releases//share",
    "archive/0/feed.xml",
    "archive/01/feed.xml",
    "archive/1/",
    "archive/1/index.html",
    "archive/1234567890/feed.xml",
    "archive/1/feed.xml/",
    "page/0/",
    "page/02/",
    "page/2",
    "page/",
    "page/1234567890/",
    "sections/News/",
    "sections/a_b/",
    "sections/x/index.html",
    "sections/x",
    "sections/" + "x" * 201 + "/",
    "sitemaps/0.xml",
    "sitemaps/123456.xml",
    "sitemaps/1.xml.gz",
    "sitemap.xml/",
    "assets/",
    "assets/../config.toml",
    "assets/a/b.css",
    "shares/x",
    "shares/" + "x" * 41 + "/",
    "shares/a.b/",
    "s/",
    "s/x/",
    "s/a.b",
    "unsubscribe/",
    "feed.xml/extra",
    "index.html",
    "410.html",
    "robots.txt/",
    "zh/robots.txt",
    "zh/news-sitemap.xml",
    "/feed.xml",
    # Python's `$` matched before a final newline: the old patterns served these (a
    # percent-encoded %0A in the request path); now one document has one path.
    "releases/x/\n",
    "archive/1/feed.xml\n",
    "page/2/\n",
    "sections/x/\n",
    "sitemap.xml\n",
    "sitemaps/1.xml\n",
]


@pytest.mark.parametrize("path", NOTHING)
def test_a_path_that_names_nothing_parses_to_none(path: str) -> None:
    assert layout.parse(path) is None


def test_page_1_shows_the_home_page_as_it_always_has() -> None:
    assert layout.parse("page/1/") == IndexPage(1)
    assert layout.path(IndexPage(1)) == "page/1/"


def test_the_share_form_takes_any_segment_and_leaves_the_id_to_the_desk() -> None:
    """The share routes answer a bad id with their own 404 page (not the site's), so the
    form's path parses whatever the segment."""
    assert layout.parse("releases/not!an id/share") == ShareForm("not!an id")
    assert layout.parse("api/nope/x") == Api("nope/x")


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("a", True),
        ("2020-09-11-wang-yi", True),
        ("A.b_c-9", True),
        ("x" * 200, True),
        ("x" * 201, False),
        ("", False),
        ("-a", False),
        (".a", False),
        ("_a", False),
        ("a/b", False),
        ("a b", False),
        ("a\n", False),
        ("é", False),
    ],
)
def test_the_release_id_rule(text: str, ok: bool) -> None:
    assert is_release_id(text) is ok
    assert (layout.parse(f"releases/{text}/") == ReleasePage(text)) is ok


# The labels the access log and /metrics have always shown (written against web/app.py's
# route_of and the labels web/share.py answered with, before this module).
ROUTES = [
    ("", "/"),
    ("feed.xml", "/feed.xml"),
    ("atom.xml", "/atom.xml"),
    ("feed.json", "/feed.json"),
    ("sitemap.xml", "/sitemap.xml"),
    ("404.html", "/404.html"),
    ("releases/2020-09-11-wang-yi/", "/releases/{id}/"),
    ("releases/other-release/", "/releases/{id}/"),
    ("releases/a.b_c-D/", "/releases/{id}/"),
    ("sections/news-events/", "/sections/{slug}/"),
    ("sections/news-events/feed.xml", "/sections/{slug}/feed.xml"),
    ("sections/economy/atom.xml", "/sections/{slug}/atom.xml"),
    ("sections/economy/feed.json", "/sections/{slug}/feed.json"),
    ("archive/1/feed.xml", "/archive/{n}/feed.xml"),
    ("archive/27/atom.xml", "/archive/{n}/atom.xml"),
    ("archive/3/feed.json", "/archive/{n}/feed.json"),
    ("tags/trade/feed.xml", "/tags/{slug}/feed.xml"),  # issue 17
    ("tags/trade/atom.xml", "/tags/{slug}/atom.xml"),
    ("tags/外交/feed.json", "/tags/{slug}/feed.json"),
    ("tags/trade/", "/tags/{slug}/"),
    ("tags/", "/tags/"),
    ("feeds/", "/feeds/"),
    ("feeds.opml", "/feeds.opml"),
    ("releases/r1/preview", "/releases/{id}/preview"),  # issue 17 item 6
    ("page/1/", "/page/{n}/"),
    ("page/2/", "/page/{n}/"),
    ("page/913/", "/page/{n}/"),
    ("assets/style.css", "/assets/"),
    ("assets/feed.xsl", "/assets/"),
    ("assets/share.js", "/assets/"),
    ("sitemaps/1.xml", "/sitemaps/"),
    ("sitemaps/12.xml", "/sitemaps/"),
    ("410.html", "other"),
    ("503.html", "other"),
    ("robots.txt", "/robots.txt"),
    ("news-sitemap.xml", "/news-sitemap.xml"),
    ("search", "/search"),
    ("feed.xml/extra", "other"),
    ("index.html", "other"),
    # web/share.py's labels
    ("releases/x/share", "/releases/{id}/share"),
    ("shares/abc/", "/shares/{id}/"),
    ("s/abc", "/s/{id}"),
    ("unsubscribe", "/unsubscribe"),
    ("api/shares", "/api/shares"),
    ("api/shares/token", "/api/shares/token"),
    ("api/openapi.json", "/api/openapi.json"),
    ("api/nope", "/api/"),
]


@pytest.mark.parametrize(("path", "label"), ROUTES)
def test_route_labels_are_the_ones_always_shown(path: str, label: str) -> None:
    assert layout.route_of(path) == label


def test_the_feed_routes_are_the_feeds() -> None:
    feeds = {label for path, label in ROUTES if isinstance(layout.parse(path), layout.FEED_TARGETS)}
    localized = {"/{lang}" + label for label in feeds}
    assert feeds | localized == layout.FEED_ROUTES
    assert len(feeds) == 12  # main, section, archive and (issue 17) tag feeds
    assert layout.route_of("zh/sections/x/atom.xml", {"zh"}) == "/{lang}/sections/{slug}/atom.xml"
