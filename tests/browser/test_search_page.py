"""Search as a person does it (issue 17 item 1), in Chromium at desktop and phone width
against a real `feedsvc serve`: the box in the header of a release page submits and lands on
the results; the results page fits the screen and its filters narrow the results."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import page_errors, screenshot
from tests.web.conftest import Server, wait_for


def md(title: str, body: str, section: str = "News") -> str:
    return f"+++\ntitle = '{title}'\nsection = '{section}'\ndate = '2026-11-01'\n+++\n\n{body}\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("search-page"))
    srv.write("light.md", md("Lighthouse keeper retires", "After forty years at the lamp."))
    srv.write("harbour.md", md("Harbour works", "The lighthouse gets a lamp.", "Works"))
    srv.start(lambda s: wait_for(lambda: s.get("/releases/harbour/").status_code == 200, 10))
    yield srv
    srv.stop(clean_log=False)


def fits(page: Page, width: int) -> None:
    scroll_width, inner_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert (scroll_width, inner_width) == (width, width), "the page scrolls sideways"


@pytest.mark.parametrize("where", ["page", "phone_page"])
def test_the_box_on_a_release_page_lands_on_results(
    server: Server, where: str, request: pytest.FixtureRequest
) -> None:
    page: Page = request.getfixturevalue(where)
    width = 1280 if where == "page" else 390
    errors = page_errors(page)
    page.goto(server.base + "/releases/harbour/")
    box = page.locator("header form[role=search] input[name=q]")
    expect(box).to_be_visible()
    fits(page, width)
    box.fill("lighthouse lamp")
    box.press("Enter")
    page.wait_for_url("**/search?q=lighthouse+lamp")
    links = page.locator("ol.releases h2 a")
    expect(links).to_have_text(["Lighthouse keeper retires", "Harbour works"])
    expect(page.locator("#search-q")).to_have_value("lighthouse lamp")
    fits(page, width)
    screenshot(page, f"search-{where}")
    page.locator("#search-section").select_option("works")
    page.locator("form.search-form button[type=submit]").click()
    page.wait_for_url("**section=works**")
    expect(links).to_have_text(["Harbour works"])
    links.first.click()
    expect(page.locator("h1")).to_have_text("Harbour works")
    assert errors == []
