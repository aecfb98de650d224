"""Feeds in Chromium (issue 12 item 3): a navigation to any feed shows a readable page, and
a page's scripts still read the feed itself. The server and the HTTP side are in
tests/web/test_feed_in_browser.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import page_errors, screenshot
from tests.web.conftest import Server
from tests.web.test_feed_in_browser import FEEDS, HTML, LATEST, MAIN, fetch, serve


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from serve(tmp_path_factory)


@pytest.mark.parametrize("path", [*MAIN, "/sections/awkward/atom.xml", "/archive/1/feed.json"])
def test_chromium_shows_a_readable_page(
    server: Server,
    page: Page,
    path: str,
) -> None:
    errors = page_errors(page)
    response = page.goto(server.base + path)
    assert response is not None and response.status == 200
    assert response.headers["content-type"] == HTML
    expect(page.locator("h1")).to_have_count(1)
    expect(page.get_by_role("heading", name="This is a web feed")).to_be_visible()
    field = page.get_by_label("copy this address")
    expect(field).to_be_visible()
    if path.startswith("/archive/"):
        expect(field).to_have_value(server.base + "/feed.json")
    else:
        expect(field).to_have_value(server.base + path)
        if path in MAIN:
            first = page.locator("ol.releases > li h2 a").first
            expect(first).to_have_text(LATEST)
    assert "https://" not in (page.locator("link[rel=stylesheet]").get_attribute("href") or "")
    # The stylesheet applied (CSP allows it): the subscribe box has the site's look.
    padding = page.locator("section.share").evaluate("e => getComputedStyle(e).paddingTop")
    assert padding != "0px"
    screenshot(page, "feed-page" + path.replace("/", "-").replace(".", "-"))
    assert errors == []


def test_a_script_cannot_ask_for_the_page(
    server: Server,
    page: Page,
) -> None:
    """Sec-Fetch-Dest is a forbidden header name: fetch() sends `empty` whatever it is told,
    so a page's scripts (and feed readers built on browsers) read the feed itself."""
    page.goto(server.base + "/feed.xml")
    got = page.evaluate(
        """async () => {
            const r = await fetch('/feed.xml', {headers: {'Sec-Fetch-Dest': 'document'}});
            return [r.headers.get('content-type'), await r.text()];
        }"""
    )
    assert got[0] == FEEDS["/feed.xml"]
    assert got[1].encode() == fetch(server, "/feed.xml", {}).content
