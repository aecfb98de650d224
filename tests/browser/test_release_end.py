"""A release that ends with notes to editors, the boilerplate and a media contact (issue 17
item 5), in Chromium on a desktop and on a phone: the mailto: and tel: links are there,
visible and the topmost thing where a finger lands on them, the JSON-LD runs no script,
and nothing is wider than the screen.

The export is served by the standard library's HTTP server on 127.0.0.1, as a web server
serves it: this test is about what a browser makes of the markup."""

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
from tests.browser.conftest import DESKTOP, PHONE, TIMEOUT_MS, page_errors, screenshot
from tests.publishing.release_end_corpus import ENDED, ZH, ended_newsroom, write_ended


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def site_url(tmp_path: Path) -> Iterator[str]:
    room = ended_newsroom(tmp_path / "room")
    write_ended(room)
    assert room.ingest().problems == []
    root = tmp_path / "public"
    write_documents(room.site.documents(), root)
    room.store.close()
    handler = functools.partial(_Quiet, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _check(browser: Browser, url: str, options: dict, name: str) -> dict:
    context = browser.new_context(locale="en-GB", **options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors = page_errors(page)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(url)
    end = page.locator("article footer.release-end")
    expect(end).to_be_visible()
    hits = {}
    for href in ("mailto:press@example.org", "tel:+861065961114"):
        link = end.locator(f'address a[href="{href}"]')
        expect(link).to_be_visible()
        link.scroll_into_view_if_needed()
        # Clickable: the link itself is the topmost element at its centre.
        hits[href] = link.evaluate(
            "a => { const r = a.getBoundingClientRect();"
            " const e = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);"
            " return e === a || a.contains(e); }"
        )
    expect(end.locator(".notes-to-editors a").first).to_be_visible()
    wide = page.evaluate("({page: document.documentElement.scrollWidth, inner: window.innerWidth})")
    screenshot(page, name)
    context.close()
    return {"hits": hits, "wide": wide, "errors": errors, "dialogs": dialogs}


@pytest.mark.parametrize(
    ("path", "options", "name"),
    [
        (f"/releases/{ENDED}/", DESKTOP, "release-end-desktop"),
        (f"/releases/{ENDED}/", PHONE, "release-end-phone"),
        (f"/zh/releases/{ZH}/", PHONE, "release-end-zh-phone"),
    ],
)
def test_contact_links_work_and_nothing_overflows(
    browser: Browser, site_url: str, path: str, options: dict, name: str
) -> None:
    seen = _check(browser, site_url + path, options, name)
    assert all(seen["hits"].values()), seen
    assert seen["wide"]["page"] <= seen["wide"]["inner"], seen
    assert seen["errors"] == [] and seen["dialogs"] == [], seen  # the hostile title ran nothing
