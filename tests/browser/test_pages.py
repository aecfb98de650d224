"""The pages as a reader sees them: a real `feedsvc serve` with the seed, in Chromium at
desktop and phone widths. Feeds are not looked at here: their XSLT rendering is on its way
out of Chromium."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import page_errors, screenshot
from tests.conftest import SEED, SEED_ID, SEED_TITLE
from tests.web.conftest import CLEAN_EXIT, Server, wait_for

RELEASE = f"/releases/{SEED_ID}/"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("browser"))
    shutil.copy(SEED, srv.items / SEED.name)
    srv.start(
        ready=lambda srv: wait_for(
            lambda: srv.get(RELEASE).status_code == 200, timeout=10, what=f"{RELEASE} is 200"
        )
    )
    yield srv
    assert srv.stop() in CLEAN_EXIT


def test_the_release_page_shows_its_title_and_a_share_by_email_link(
    server: Server, page: Page
) -> None:
    errors = page_errors(page)
    page.goto(server.base + RELEASE)
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("h1")).to_have_text(SEED_TITLE)
    share = page.locator("section.share")
    expect(share.get_by_role("heading", name="Suggest To A Friend")).to_be_visible()
    link = share.locator("a.mailto")
    expect(link).to_be_visible()
    href = link.get_attribute("href")
    assert href is not None and href.startswith("mailto:?subject="), href
    fields = parse_qs(urlsplit(href).query)  # unquotes each field
    assert fields["subject"] == [SEED_TITLE]
    assert fields["body"][0].endswith("\r\n\r\n" + page.url)
    screenshot(page, "release-desktop")
    assert errors == []


def test_the_release_page_fits_a_phone_screen(server: Server, phone_page: Page) -> None:
    errors = page_errors(phone_page)
    phone_page.goto(server.base + RELEASE)
    expect(phone_page.locator("h1")).to_have_text(SEED_TITLE)
    expect(phone_page.locator("section.share a.mailto")).to_be_visible()
    # A mobile Chromium zooms out to show content wider than the screen: then innerWidth
    # grows past 390 along with scrollWidth, so both are checked.
    scroll_width, inner_width = phone_page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert (scroll_width, inner_width) == (390, 390), "the page scrolls sideways"
    screenshot(phone_page, "release-phone")
    assert errors == []


def test_the_index_lists_the_release_and_its_link_leads_to_it(server: Server, page: Page) -> None:
    errors = page_errors(page)
    page.goto(server.base + "/")
    link = page.locator("ol.releases").get_by_role("link", name=SEED_TITLE)
    expect(link).to_have_count(1)
    screenshot(page, "index-desktop")
    link.click()
    page.wait_for_url(server.base + RELEASE)
    expect(page.locator("h1")).to_have_text(SEED_TITLE)
    assert errors == []
