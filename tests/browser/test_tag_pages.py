"""Issue 17: a tag page and the feeds page as a reader sees them, from a real `feedsvc
serve`, in Chromium at desktop (1280x800) and phone (390x844) width: nothing scrolls
sideways, the key elements show, and their links lead where they say."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import page_errors, screenshot
from tests.publishing.test_tags import EVIL, release
from tests.web.conftest import CLEAN_EXIT, Server, wait_for

LONG_TAG = "Ministry-of-Foreign-Affairs-Consular-Protection-and-Services-Announcements-2026"
TRADE = "/tags/trade/"
CHINESE = "/tags/" + quote("外交") + "/"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("tags"))
    (srv.items / "a.md").write_text(
        release("Trade deal", "2026-11-20T10:00:00+08:00", ["Trade", "外交", EVIL, LONG_TAG]),
        encoding="utf-8",
    )
    (srv.items / "b.md").write_text(
        release("Climate talks", "2026-11-21T10:00:00+08:00", ["Trade"]), encoding="utf-8"
    )
    srv.start(
        ready=lambda srv: wait_for(
            lambda: srv.get(TRADE).status_code == 200, timeout=15, what=f"{TRADE} is 200"
        )
    )
    yield srv
    assert srv.stop() in CLEAN_EXIT


def fits(page: Page, width: int) -> None:
    scroll_width, inner_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert (scroll_width, inner_width) == (width, width), "the page scrolls sideways"


@pytest.mark.parametrize("where", ["page", "phone_page"])
def test_a_tag_page_lists_its_releases_and_links_them(
    server: Server, where: str, request: pytest.FixtureRequest
) -> None:
    page: Page = request.getfixturevalue(where)
    errors = page_errors(page)
    page.goto(server.base + TRADE)
    expect(page.locator("h1")).to_have_text("Trade")
    links = page.locator("ol.releases h2 a")
    expect(links).to_have_text(["Climate talks", "Trade deal"])
    fits(page, 1280 if where == "page" else 390)
    screenshot(page, f"tag-{where}")
    links.nth(1).click()
    page.wait_for_url(server.base + "/releases/a/")
    tags = page.locator("ul.tags a")
    expect(tags).to_have_text(["Trade", "外交", EVIL, LONG_TAG])
    fits(page, 1280 if where == "page" else 390)
    tags.nth(1).click()
    page.wait_for_url(server.base + CHINESE)
    expect(page.locator("h1")).to_have_text("外交")
    assert errors == []


@pytest.mark.parametrize("where", ["page", "phone_page"])
def test_the_feeds_page_shows_every_feed_and_its_links_work(
    server: Server, where: str, request: pytest.FixtureRequest
) -> None:
    page: Page = request.getfixturevalue(where)
    errors = page_errors(page)
    page.goto(server.base + "/feeds/")
    expect(page.locator("h1")).to_have_text("Feeds")
    expect(page.locator("main h2")).to_have_text(["All releases", "Sections", "Tags"])
    expect(page.locator("ol.feeds h3").filter(has_text=LONG_TAG)).to_be_visible()
    expect(page.locator("ol.feeds h3").filter(has_text=EVIL)).to_be_visible()
    fits(page, 1280 if where == "page" else 390)
    screenshot(page, f"feeds-{where}")
    hrefs = page.locator("ol.feeds a").evaluate_all("links => links.map(a => a.href)")
    assert len(hrefs) >= 5 * 3
    for href in hrefs:  # every link answers (feeds, section and tag pages)
        assert server.get(href.removeprefix(server.base)).status_code == 200, href
    opml = page.locator("main a[type='text/x-opml']")
    expect(opml).to_be_visible()
    answer = server.get(opml.get_attribute("href") or "")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/x-opml")
    page.locator("ol.feeds h3 a", has_text="Trade").first.click()
    page.wait_for_url(server.base + TRADE)
    assert errors == []
