"""Subscribing to email alerts as a person does it (issue 16), in Chromium against a real
`feedsvc serve` with the seed: the compact form on the index, section and release pages,
the subscribe page with its section checkboxes, and without JavaScript. The confirmation
email's link is made from its delivery in the database (the subscriber it names, signed
with the service's own key), then followed in the browser: confirm, manage, leave."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from feedsvc.alerts.tokens import confirm_token
from feedsvc.sharing.keys import Signer, address_hash
from tests.browser.conftest import page_errors
from tests.conftest import SEED, SEED_ID, db_rows
from tests.web.conftest import Server, wait_for

SECTION = "news-events"  # the seed's section, "News & Events"
MIN_FILL_SECONDS = 0.5
PAST_MIN_FILL_MS = 700  # how long a "person" takes past the server's minimum


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(
        tmp_path_factory.mktemp("subscribe-form"),
        {
            "alerts": {"min_fill_seconds": MIN_FILL_SECONDS, "per_ip_per_hour": 1000},
            "outbox": {"tick_seconds": 0.25},
        },
    )
    shutil.copy(SEED, srv.items / SEED.name)
    srv.start(
        ready=lambda s: wait_for(
            lambda: s.get(f"/sections/{SECTION}/").status_code == 200, 10, what="published"
        )
    )
    yield srv
    srv.stop(clean_log=False)


def subscription(server: Server, address: str) -> dict[str, Any] | None:
    key = Signer((server.root / "var" / "secret_key").read_bytes())
    rows = db_rows(
        server.database_url,
        "SELECT id, status, frequency, sections FROM subscribers WHERE address_hash = :h",
        h=address_hash(key, address),
    )
    if not rows:
        return None
    sub_id, status, frequency, sections = rows[0]
    chosen = None if sections is None else json.loads(sections)
    return {"id": sub_id, "status": status, "frequency": frequency, "sections": chosen}


def confirmation_link(server: Server, address: str) -> str:
    """The link of the confirmation email queued for `address` (its delivery names the
    subscriber, never the address)."""
    sub = wait_for(lambda: subscription(server, address), 5, what=f"{address} pending")
    [(payload,)] = db_rows(
        server.database_url,
        "SELECT payload FROM deliveries WHERE channel = 'alert' AND target = :id",
        id=sub["id"],
    )
    assert json.loads(payload) == {"kind": "confirm"}
    key = Signer((server.root / "var" / "secret_key").read_bytes())
    token = confirm_token(key, sub["id"], dt.datetime.now(dt.UTC))
    return f"{server.base}/alerts/confirm?t={token}"


def sent(page: Page, server: Server) -> None:
    expect(page).to_have_url(f"{server.base}/alerts/?sent=1")
    expect(page.locator("h1")).to_have_text("Check your inbox")


def test_from_the_index_page_to_confirmed_changed_and_gone(server: Server, page: Page) -> None:
    address = "reader@example.org"
    errors = page_errors(page)
    page.goto(server.base + "/")
    form = page.locator("form.subscribe-form")
    expect(form).to_have_attribute("data-token-url", "/api/subscriptions/token")
    form.get_by_label("Your email", exact=True).fill(address)
    expect(form.locator("input[name=token]")).not_to_have_value("")  # share.js asked
    form.get_by_label("A daily summary").check()
    page.wait_for_timeout(MIN_FILL_SECONDS * 1000 + PAST_MIN_FILL_MS)
    form.get_by_role("button", name="Subscribe").click()
    sent(page, server)
    assert subscription(server, address) == {
        "id": subscription(server, address)["id"],  # type: ignore[index]
        "status": "pending",
        "frequency": "daily",
        "sections": None,
    }
    page.goto(confirmation_link(server, address))
    assert subscription(server, address)["status"] == "pending"  # type: ignore[index]
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("h1")).to_have_text("You are subscribed")
    assert subscription(server, address)["status"] == "confirmed"  # type: ignore[index]
    page.get_by_role("link", name="Change what you get, or stop").click()
    page.get_by_label("A weekly summary").check()
    page.get_by_label("News & Events").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Your choices are saved.")
    found = subscription(server, address)
    assert (found["frequency"], found["sections"]) == ("weekly", [SECTION])  # type: ignore[index]
    page.get_by_role("button", name="Stop my alerts").click()
    expect(page.locator("h1")).to_have_text("You will get no more alerts")
    assert subscription(server, address)["status"] == "unsubscribed"  # type: ignore[index]
    assert errors == []


def test_the_subscribe_page_offers_each_section(server: Server, page: Page) -> None:
    address = "sections@example.org"
    page.goto(server.base + "/alerts/")
    page.get_by_label("Your email", exact=True).fill(address)
    page.get_by_label("News & Events").check()
    page.wait_for_timeout(MIN_FILL_SECONDS * 1000 + PAST_MIN_FILL_MS)
    page.get_by_role("button", name="Subscribe").click()
    sent(page, server)
    assert subscription(server, address)["sections"] == [SECTION]  # type: ignore[index]


@pytest.mark.parametrize("path", [f"/releases/{SEED_ID}/", f"/sections/{SECTION}/"])
def test_a_release_or_section_page_offers_its_section(
    server: Server, page: Page, path: str
) -> None:
    address = f"{path.split('/')[1]}@example.org"
    page.goto(server.base + path)
    form = page.locator("form.subscribe-form")
    expect(form.get_by_label("This section: News & Events")).to_be_checked()
    form.get_by_label("Your email", exact=True).fill(address)
    page.wait_for_timeout(MIN_FILL_SECONDS * 1000 + PAST_MIN_FILL_MS)
    form.get_by_role("button", name="Subscribe").click()
    sent(page, server)
    assert subscription(server, address)["sections"] == [SECTION]  # type: ignore[index]


def test_without_javascript_the_form_comes_back_once_with_a_token(
    server: Server, no_script_page: Page
) -> None:
    page, address = no_script_page, "no-script@example.org"
    page.goto(server.base + "/")
    page.get_by_label("Your email", exact=True).fill(address)
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("alert")).to_contain_text("press Subscribe again")
    expect(page.get_by_label("Your email", exact=True)).to_have_value(address)
    assert subscription(server, address) is None
    page.wait_for_timeout(MIN_FILL_SECONDS * 1000 + PAST_MIN_FILL_MS)
    page.get_by_role("button", name="Subscribe").click()
    sent(page, server)
    assert subscription(server, address)["status"] == "pending"  # type: ignore[index]
