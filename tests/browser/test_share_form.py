"""The "Suggest To A Friend" form as a person uses it: a real `feedsvc serve` with the seed,
its mail dropped in the maildir, and the form filled in and sent in Chromium, by mouse, by
keyboard alone and with JavaScript turned off."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import page_errors, screenshot
from tests.conftest import SEED, SEED_ID, SEED_TITLE
from tests.web.conftest import CLEAN_EXIT, Server, metric, wait_for

RELEASE = f"/releases/{SEED_ID}/"
SITE_TITLE = "Foreign Ministry Press Office"
MIN_FILL_SECONDS = 0.5
PAST_MIN_FILL_MS = 700  # how long a "person" takes past the server's minimum
MAIL_TIMEOUT = 10.0
SENT_HEADING = "Your suggestion is on its way"
FRIEND_LABEL = "Your friend’s email"  # the form's own words, with its typographic apostrophe


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(
        tmp_path_factory.mktemp("share-form"),
        {
            "site": {"title": SITE_TITLE},
            "share": {"min_fill_seconds": MIN_FILL_SECONDS},
            # The dispatcher's default 2 s tick would be most of each mail test's time.
            "outbox": {"tick_seconds": 0.25},
        },
    )
    shutil.copy(SEED, srv.items / SEED.name)
    srv.start(
        ready=lambda srv: wait_for(
            lambda: srv.get(RELEASE).status_code == 200, timeout=10, what=f"{RELEASE} is 200"
        )
    )
    yield srv
    assert srv.stop() in CLEAN_EXIT


def sent_url(server: Server) -> re.Pattern[str]:
    return re.compile(re.escape(server.base) + r"/shares/([A-Za-z0-9_-]+)/")


def mail_to(server: Server, address: str) -> EmailMessage:
    """The one message to `address` the maildir transport wrote, once it is there."""
    new = server.root / "var" / "mail" / "new"

    def messages() -> list[EmailMessage]:
        found = []
        for path in sorted(new.iterdir()) if new.is_dir() else []:
            with path.open("rb") as f:
                message = BytesParser(policy=policy.default).parse(f)
            if [a.addr_spec for a in message["To"].addresses] == [address]:
                found.append(message)
        return found

    [message] = wait_for(messages, timeout=MAIL_TIMEOUT, what=f"an email to {address} in {new}")
    return message


def accepted_shares(server: Server) -> float:
    return metric(server.metrics(), "feedsvc_shares_total", outcome="accepted")


def besides_the_422(errors: list[str], server: Server) -> list[str]:
    """`errors` but the line Chromium logs for any document answered 4xx: the form with
    its field errors is answered 422 on purpose."""
    expected = (
        "console: Failed to load resource: the server responded with a status of 422"
        f" (Unprocessable Entity) at {server.base}{RELEASE}share"
    )
    return [e for e in errors if e != expected]


def type_into(page: Page, label: str, text: str) -> None:
    """Click into the field a label names, then type, a key at a time."""
    field = page.get_by_label(label, exact=True)
    field.click()
    field.press_sequentially(text)


def test_a_reader_suggests_the_release_and_the_friend_gets_the_email(
    server: Server, page: Page
) -> None:
    friend, sharer = "friend@example.org", "zoe@example.net"
    message = "Thought of you when I read this.\nSee you on Friday!"
    errors = page_errors(page)
    page.goto(server.base + RELEASE)
    form = page.locator("section.share form.share-form")
    # Absolute: the page is itself under releases/ID/.
    expect(form).to_have_attribute("action", f"/releases/{SEED_ID}/share")
    expect(form).to_have_attribute("data-token-url", f"/api/shares/token?release={SEED_ID}")
    type_into(page, FRIEND_LABEL, friend)
    # share.js asks for a token the moment the form is first used.
    expect(form.locator("input[name=token]")).not_to_have_value("")
    type_into(page, "Your name (optional)", "Zoë")
    type_into(page, "Your email (optional, so your friend can reply)", sharer)
    field = page.get_by_label("A short message (optional)")
    field.click()
    field.press_sequentially(message.replace("\n", "\r"))  # Enter in a textarea: a new line
    expect(field).to_have_value(message)
    page.wait_for_timeout(PAST_MIN_FILL_MS)
    screenshot(page, "share-form-filled")

    form.get_by_role("button", name="Send").click()
    page.wait_for_url(sent_url(server))
    expect(page.get_by_role("status")).to_have_text(SENT_HEADING)
    expect(page.locator("h1")).to_have_text(SENT_HEADING)
    share_id = sent_url(server).fullmatch(page.url)[1]  # type: ignore[index]
    screenshot(page, "share-sent")

    email = mail_to(server, friend)
    [reply_to] = email["Reply-To"].addresses
    assert reply_to.addr_spec == sharer
    [sender] = email["From"].addresses
    assert sender.display_name == f"Zoë via {SITE_TITLE}"
    assert SEED_TITLE in email["Subject"]
    text = email.get_body(preferencelist=("plain",)).get_content()
    assert f"{server.base}/s/{share_id}" in text
    assert "> Thought of you when I read this.\n> See you on Friday!" in text
    assert errors == []


def test_the_form_fits_a_phone_screen(server: Server, phone_page: Page) -> None:
    errors = page_errors(phone_page)
    phone_page.goto(server.base + RELEASE)
    form = phone_page.locator("section.share form.share-form")
    form.scroll_into_view_if_needed()
    expect(form.get_by_label(FRIEND_LABEL, exact=True)).to_be_visible()
    scroll_width, inner_width = phone_page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert (scroll_width, inner_width) == (390, 390), "the page scrolls sideways"
    for field in form.locator("input:not([type=hidden]):not(#share-website), textarea").all():
        box = field.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    button = form.get_by_role("button", name="Send").bounding_box()
    assert button is not None and button["height"] >= 44, "a tap target under 44 px"
    screenshot(phone_page, "share-form-phone")
    assert errors == []


def test_field_errors_come_back_beside_their_fields_with_the_values_kept(
    server: Server, page: Page
) -> None:
    long_name = "Z" * 65  # one past the server's limit; maxlength=64 stops typing it
    before = accepted_shares(server)
    errors = page_errors(page)
    page.goto(server.base + RELEASE)
    type_into(page, FRIEND_LABEL, "not-an-address")
    page.locator("#share-to-1").click()
    page.keyboard.type("second@example.org")
    page.locator("#share-from-name").evaluate("(input, name) => { input.value = name; }", long_name)
    type_into(page, "A short message (optional)", "Have a look.")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Send").click()
    assert answer.value.status == 422
    page.wait_for_url(server.base + RELEASE + "share")

    to = page.locator("#share-to-0")
    expect(to).to_have_attribute("aria-invalid", "true")
    expect(to).to_have_attribute("aria-describedby", "share-to-0-error")
    expect(page.locator("#share-to-0-error")).to_be_visible()
    expect(page.locator("#share-to-0-error")).to_contain_text("not-an-address")
    name = page.locator("#share-from-name")
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#share-from-name-error")).to_contain_text("64")
    expect(to).to_have_value("not-an-address")
    expect(page.locator("#share-to-1")).to_have_value("second@example.org")
    expect(name).to_have_value(long_name)
    expect(page.locator("#share-message")).to_have_value("Have a look.")
    expect(page.locator("#share-message")).not_to_have_attribute("aria-invalid", "true")
    screenshot(page, "share-form-errors")
    assert accepted_shares(server) == before, "a share with errors was accepted"
    assert besides_the_422(errors, server) == []


def test_without_javascript_the_form_comes_back_once_with_a_token(
    server: Server, no_script_page: Page
) -> None:
    page = no_script_page
    friend = "no-script-friend@example.org"
    errors = page_errors(page)
    page.goto(server.base + RELEASE)
    type_into(page, FRIEND_LABEL, friend)
    type_into(page, "Your name (optional)", "Zoë")
    expect(page.locator("form[action$='/share'] input[name=token]")).to_have_value(
        ""
    )  # nothing fetched it
    page.get_by_role("button", name="Send").click()

    page.wait_for_url(server.base + RELEASE + "share")
    expect(page.get_by_role("alert")).to_contain_text("press Send again")
    expect(page.locator("form[action$='/share'] input[name=token]")).not_to_have_value("")
    expect(page.get_by_label(FRIEND_LABEL, exact=True)).to_have_value(friend)
    expect(page.get_by_label("Your name (optional)")).to_have_value("Zoë")
    page.wait_for_timeout(PAST_MIN_FILL_MS)
    page.get_by_role("button", name="Send").click()

    page.wait_for_url(sent_url(server))
    expect(page.locator("h1")).to_have_text(SENT_HEADING)
    mail_to(server, friend)
    assert errors == []


def test_what_a_sharer_types_is_shown_as_text_never_run(
    server: Server, csp_free_page: Page
) -> None:
    # Without the share page's Content-Security-Policy: only the escaping stops these.
    page = csp_free_page
    address = '<img src=x onerror="window.__xss=3">'
    name = '<img src=x onerror="window.__xss=1">'
    message = "<script>window.__xss=2</script>"
    errors = page_errors(page)
    page.goto(server.base + RELEASE)
    type_into(page, FRIEND_LABEL, address)
    type_into(page, "Your name (optional)", name)
    type_into(page, "A short message (optional)", message)
    page.get_by_role("button", name="Send").click()

    page.wait_for_url(server.base + RELEASE + "share")
    expect(page.locator("#share-to-0-error")).to_be_visible()
    assert page.evaluate("typeof window.__xss") == "undefined"
    expect(page.locator("main img, form script")).to_have_count(0)
    expect(page.locator("#share-to-0")).to_have_value(address)
    expect(page.locator("#share-to-0-error")).to_contain_text(address)
    expect(page.locator("#share-from-name")).to_have_value(name)
    expect(page.locator("#share-message")).to_have_value(message)
    assert besides_the_422(errors, server) == []
    # The probe itself works here: markup that does get in runs its handler.
    page.evaluate(
        "document.body.insertAdjacentHTML('beforeend', '<img src=x onerror=window.__xss=4>')"
    )
    page.wait_for_function("window.__xss === 4")


def test_keyboard_alone_tabs_through_the_fields_and_enter_sends(server: Server, page: Page) -> None:
    friend = "keyboard-friend@example.org"
    typed = {"share-from-name": "Kim", "share-message": "Worth a read."}
    errors = page_errors(page)
    page.goto(server.base + RELEASE)
    page.locator("#share-to-0").focus()
    page.keyboard.type(friend)
    visited = []
    for _ in range(10):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.id || document.activeElement.tagName")
        visited.append(focused)
        if focused in typed:
            page.keyboard.type(typed[focused])
        if focused == "BUTTON":
            break
    assert visited == [
        "share-to-1",
        "share-to-2",
        "share-from-name",
        "share-from-email",
        "share-message",
        "BUTTON",
    ]
    expect(page.get_by_role("button", name="Send")).to_be_focused()
    page.wait_for_timeout(PAST_MIN_FILL_MS)
    page.keyboard.press("Enter")

    page.wait_for_url(sent_url(server))
    expect(page.locator("h1")).to_have_text(SENT_HEADING)
    assert mail_to(server, friend)["From"].addresses[0].display_name == f"Kim via {SITE_TITLE}"
    assert errors == []


def test_only_the_field_holding_the_invalid_address_is_marked_invalid(
    server: Server, page: Page
) -> None:
    errors = page_errors(page)
    page.goto(server.base + RELEASE)
    type_into(page, FRIEND_LABEL, "good-friend@example.org")
    page.locator("#share-to-1").click()
    page.keyboard.type("not-an-address")
    page.get_by_role("button", name="Send").click()

    page.wait_for_url(server.base + RELEASE + "share")
    expect(page.locator("#share-to-0")).to_have_value("good-friend@example.org")
    # The page is not changed by scripts after it loads: no need to wait on these.
    assert page.locator("#share-to-0").get_attribute("aria-invalid") is None, (
        "the valid first address is marked invalid"
    )
    second = page.locator("#share-to-1")
    expect(second).to_have_attribute("aria-invalid", "true")
    described_by = second.get_attribute("aria-describedby")
    assert described_by, "the second address's error is not tied to its field"
    expect(page.locator(f"#{described_by}")).to_contain_text("not-an-address")
    assert besides_the_422(errors, server) == []


def test_a_form_sent_sooner_than_min_fill_seconds_is_refused(server: Server, page: Page) -> None:
    """A bot fills the form in a blink: it gets the form back, not a sent share."""
    # A loaded machine can make the browser itself slower than a bot: then that attempt
    # says nothing about the server, and the test tries again (at most three times).
    for _attempt in range(3):
        page.goto(server.base + RELEASE)
        # The token's issue time is signed in whole seconds: ask for it past a half second.
        wait_for(lambda: 0.55 <= time.time() % 1 < 0.7, timeout=2, interval=0.01)
        started = time.monotonic()
        page.locator("#share-to-0").fill("fast-friend@example.org")  # focus: share.js asks
        expect(page.locator("form[action$='/share'] input[name=token]")).not_to_have_value("")
        with page.expect_response(lambda r: r.request.method == "POST"):
            page.get_by_role("button", name="Send").click()
        elapsed = time.monotonic() - started
        if elapsed < MIN_FILL_SECONDS:
            break
    assert elapsed < MIN_FILL_SECONDS, f"too slow to be a bot, three times: {elapsed:.2f} s"
    assert sent_url(server).fullmatch(page.url) is None, (
        f"a form sent {elapsed:.2f} s after its token was issued was accepted"
    )
    expect(page.get_by_role("alert")).to_contain_text("press Send again")
