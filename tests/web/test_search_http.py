"""Search over HTTP (issue 17 item 1), against a real `feedsvc serve`: results, headers that
keep it out of search engines and caches, each language its own, 400s that name the field,
hostile queries never a 500, the query reflected escaped, OpenSearch, the box on pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import lxml.etree
import lxml.html
import pytest

from tests import npm
from tests.publishing.test_html_valid import nu_messages
from tests.web.conftest import Server, wait_for

XSS = '<script>alert("x")</script>'


def md(title: str, body: str, **meta: str) -> str:
    meta = {"title": title, "section": "News", "date": "2026-11-01", **meta}
    return "+++\n" + "".join(f"{k} = '{v}'\n" for k, v in meta.items()) + f"+++\n\n{body}\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("search"), {"languages.zh": {"title": "新闻办"}})
    srv.write("light.md", md("Lighthouse keeper retires", "After forty years."))
    srv.write("harbour.md", md("Harbour works", "The lighthouse gets a new lamp.", section="Works"))
    srv.write("xss.md", md(XSS, "Hostile title, quite harmless."))
    srv.write(
        "env.zh.md", md("环保通知", "国务院今天发布了关于加强环境保护的通知。", language="zh")
    )
    srv.start(lambda s: wait_for(lambda: s.get("/releases/xss/").status_code == 200, 10))
    wait_for(lambda: s_ok(srv), 10, what="indexed")
    yield srv
    srv.stop(clean_log=False)


def s_ok(srv: Server) -> bool:
    return srv.get("/zh/releases/env/").status_code == 200


def titles(html: bytes) -> list[str]:
    doc = lxml.html.fromstring(html)
    return [a.text_content() for a in doc.xpath("//ol[@class='releases']/li/h2/a")]


def test_results_ranked_and_kept_out_of_indexes_and_caches(server: Server) -> None:
    r = server.get("/search?q=lighthouse")
    assert r.status_code == 200
    assert titles(r.content) == ["Lighthouse keeper retires", "Harbour works"]
    assert r.headers["x-robots-tag"] == "noindex"
    assert r.headers["cache-control"] == "no-cache"
    doc = lxml.html.fromstring(r.content)
    assert doc.xpath("//meta[@name='robots']")[0].get("content") == "noindex"
    assert titles(server.get("/search?q=lighthouse&section=works").content) == ["Harbour works"]
    assert titles(server.get("/search?q=lighthouse&year=2025").content) == []
    assert titles(server.get("/search?q=lighthouse&year=2026").content) != []
    assert server.head("/search?q=lighthouse").status_code == 200
    assert server.request("POST", "/search").status_code == 405


def test_each_language_searches_its_own(server: Server) -> None:
    assert titles(server.get("/zh/search?q=环境").content) == ["环保通知"]
    assert titles(server.get("/search?q=环境").content) == []
    page = lxml.html.fromstring(server.get("/zh/search?q=环境").content)
    assert page.get("lang") == "zh"


@pytest.mark.parametrize(
    "query, field",
    [
        ("q=" + "x" * 201, "q"),
        ("q=" + "x" * 10_000, "q"),
        ("q=%00", "q"),
        ("q=%FF%FE", "q"),
        ("q=a&page=abc", "page"),
        ("q=a&page=0", "page"),
        ("q=a&page=51", "page"),
        ("q=a&year=20x4", "year"),
        ("q=a&section=%3Cb%3E", "section"),
    ],
)
def test_a_bad_field_is_a_400_that_names_it(server: Server, query: str, field: str) -> None:
    r = server.get("/search?" + query)
    assert r.status_code == 400
    doc = lxml.html.fromstring(r.content)
    invalid = [e.get("name") for e in doc.xpath("//*[@aria-invalid='true']")]
    said = doc.get_element_by_id("search-error").text_content()
    # A field of the form is marked; the page number (a link's, not the form's) is named.
    assert invalid == [field] if field != "page" else (invalid == [] and "page" in said)


@pytest.mark.parametrize(
    "q",
    [
        '"',
        "NEAR(",
        "NEAR(a b)",
        "*",
        "-",
        "a*",
        "'; DROP TABLE releases; --",
        "a:b",
        "!a & b",
        "(",
        "^x",
    ],
)
def test_hostile_queries_are_words(server: Server, q: str) -> None:
    r = server.http.get(server.base + "/search", params={"q": q}, timeout=10)
    assert r.status_code == 200, r.text
    assert server.get("/search?q=lighthouse").status_code == 200  # the table is still there


def test_the_query_is_reflected_escaped(server: Server) -> None:
    r = server.http.get(server.base + "/search", params={"q": XSS}, timeout=10)
    assert r.status_code == 200
    assert b"<script>alert" not in r.content
    doc = lxml.html.fromstring(r.content)
    assert doc.get_element_by_id("search-q").get("value") == XSS
    found = server.http.get(server.base + "/search", params={"q": "hostile"}, timeout=10)
    assert b"<script>alert" not in found.content and titles(found.content) == [XSS]


def test_opensearch_description_per_language(server: Server) -> None:
    ns = {"os": "http://a9.com/-/spec/opensearch/1.1/"}
    for prefix, tag in (("", "en"), ("/zh", "zh")):
        r = server.get(prefix + "/opensearch.xml")
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/opensearchdescription+xml"
        root = lxml.etree.fromstring(r.content)
        assert len(root.findtext("os:ShortName", namespaces=ns)) <= 16
        assert root.findtext("os:Language", namespaces=ns) == tag
        url = root.find("os:Url[@type='text/html']", ns).get("template")
        assert url == server.base + prefix + "/search?q={searchTerms}"


def test_every_page_has_the_box_and_the_description_link(server: Server) -> None:
    for path, action in (("/releases/light/", "/search"), ("/zh/", "/zh/search"), ("/", "/search")):
        doc = lxml.html.fromstring(server.body(path))
        box = doc.xpath("//header//form[@role='search']")[0]
        assert box.get("action") == action and box.get("method") == "get"
        link = doc.xpath("//link[@rel='search']")[0]
        assert link.get("href") == action.replace("search", "opensearch.xml")


@pytest.mark.sqlite_only  # the page is the same bytes on either database
def test_search_pages_pass_the_nu_html_checker(server: Server, tmp_path: Path) -> None:
    home = npm.tools()
    files = []
    for name, path in (
        ("empty", "/search"),
        ("results", "/search?q=lighthouse"),
        ("none", "/zh/search?q=nothing"),
        ("bad", "/search?q=a&page=abc"),
    ):
        file = tmp_path / f"{name}.html"
        file.write_bytes(server.get(path).content)
        files.append(file)
    assert nu_messages(home, files) == []
