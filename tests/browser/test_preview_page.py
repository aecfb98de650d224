"""An embargoed release's preview page in Chromium (issue 17 item 6), served by a real
`feedsvc serve` with its own headers (the banner's inline style is allowed by its hash in
the page's Content-Security-Policy): on a desktop and on a phone the "EMBARGOED until"
banner shows with its zone, the page does not scroll sideways, the picture loads with the
preview's token, and nothing is refused or fails in the console."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import DESKTOP, PHONE, TIMEOUT_MS, page_errors, screenshot
from tests.previews.office import markdown
from tests.web.conftest import Server, wait_for
from tests.web.media_items import JPEG

EMBARGO = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=1)
TITLE = "A rather long title that a phone has to wrap over several lines: embargo"


@pytest.fixture(scope="module")
def link(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = Server(tmp_path_factory.mktemp("preview"))
    (server.items / "secret").mkdir()
    (server.items / "secret" / "photo.jpg").write_bytes(JPEG)
    server.write(
        "secret/index.md", markdown(TITLE, "Words " * 80, publish_at=EMBARGO, image="photo.jpg")
    )
    server.write("public.md", markdown("Public", "Public words."))
    server.start(lambda s: wait_for(lambda: s.get("/releases/public/").status_code == 200, 15))
    done = subprocess.run(
        [sys.executable, "-m", "feedsvc", "preview", "secret", "--config", str(server.config)],
        cwd=server.root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    yield done.stdout.strip()
    server.stop()


@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_the_banner_shows_and_the_page_fits(browser: Browser, link: str, screen: str) -> None:
    context = browser.new_context(locale="en-GB", **(DESKTOP if screen == "desktop" else PHONE))
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors = page_errors(page)
    try:
        response = page.goto(link)
        assert response is not None and response.status == 200
        banner = page.locator("p.embargo")
        expect(banner).to_be_visible()
        expect(banner).to_contain_text("EMBARGOED until")
        expect(banner).to_contain_text("+0800")  # the site's zone, Asia/Shanghai
        # The inline style applied (its hash is in the policy): the banner has its border.
        border = banner.evaluate("e => getComputedStyle(e).borderTopWidth")
        assert border == "2px"
        expect(page.locator("h1")).to_have_text(TITLE)
        loaded = page.locator("figure img").evaluate("img => img.complete && img.naturalWidth")
        assert loaded and loaded > 0
        wide, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert wide <= inner, (wide, inner)
        box = banner.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= inner
        screenshot(page, f"preview-{screen}")
        assert errors == []
    finally:
        context.close()
