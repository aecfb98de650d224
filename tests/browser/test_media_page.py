"""A release page with its photo in Chromium (issue 14), on a desktop and on a phone: the
picture loads, and each screen takes from srcset the width that fits it.

The page and its files are written the way the static export lays them out (documents plus
every file under releases/<id>/), from the same `ReleaseMedia` the server answers from, and
served by a real HTTP server on 127.0.0.1 (the standard library's, as a web server serves
an export): this test is about the markup a browser gets, not about serving."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from feedsvc.publishing.export import write_documents
from feedsvc.publishing.media import Found
from tests.browser.conftest import DESKTOP, TIMEOUT_MS, page_errors, screenshot
from tests.conftest import Newsroom
from tests.publishing.media_corpus import ALT, MediaRoom, make_media_room

RELEASE = "/releases/signing/"
# A phone at 3x (most phones sold today): its 358 CSS px column needs 1074 pixels.
PHONE_3X = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def export(room: MediaRoom, root: Path) -> None:
    write_documents(room.site().documents(), root)
    release = room.release
    for ref in release.media:
        folder = root / "releases" / release.id
        for variant in room.media.variants(ref):
            (folder / variant.name).write_bytes(room.media.bytes_of(Found(ref, variant)))
        found = room.media.find(release, ref.name)
        assert found is not None
        (folder / ref.name).write_bytes(room.media.bytes_of(found))


@pytest.fixture
def site_url(newsroom: Newsroom, tmp_path: Path) -> Iterator[str]:
    room = make_media_room(newsroom, tmp_path / "media-cache")
    root = tmp_path / "public"
    export(room, root)
    handler = functools.partial(_Quiet, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def shown(browser: Browser, url: str, options: dict, name: str) -> dict:
    context = browser.new_context(locale="en-GB", **options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors = page_errors(page)
    page.goto(url + RELEASE)
    lead = page.locator("article > figure img")
    expect(lead).to_have_attribute("alt", ALT)
    lead.scroll_into_view_if_needed()
    page.wait_for_function("[...document.images].every(i => i.complete)")
    state = lead.evaluate(
        "img => ({natural: img.naturalWidth, current: img.currentSrc,"
        " shown: img.getBoundingClientRect().width, page: document.documentElement.scrollWidth,"
        " inner: window.innerWidth})"
    )
    body = page.locator(".body figure img")
    body.scroll_into_view_if_needed()
    page.wait_for_function("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    state["body_natural"] = body.evaluate("img => img.naturalWidth")
    screenshot(page, name)
    context.close()
    assert errors == []
    return state


def test_the_photo_loads_and_each_screen_takes_its_width(browser: Browser, site_url: str) -> None:
    desktop = shown(browser, site_url, DESKTOP, "release-photo-desktop")
    phone = shown(browser, site_url, PHONE_3X, "release-photo-phone")
    for state in (desktop, phone):
        assert state["natural"] > 0 and state["body_natural"] > 0, state
        assert state["page"] <= state["inner"], state  # nothing wider than the screen
    assert desktop["current"].endswith("-800w.jpg"), desktop  # 704 CSS px at 1x
    assert phone["current"].endswith("-1200w.jpg"), phone  # 358 CSS px at 3x
    # naturalWidth is in CSS pixels: the chosen width over its density for that slot.
    assert desktop["natural"] == 704 and 350 <= phone["natural"] <= 358
    assert 700 <= desktop["shown"] <= 704 and 350 <= phone["shown"] <= 358
