"""Issue 15 in Chromium: a Chinese and English pair and an Arabic release served by a real
`feedsvc serve`; the Arabic page on a phone, right to left and mirrored; the Chinese page
with its date in Chinese; the language switcher leading between them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import page_errors, screenshot
from tests.browser.test_share_form import mail_to, sent_url
from tests.conftest import newsroom_text
from tests.web.conftest import CLEAN_EXIT, Server, wait_for

ZH = (
    "---\ntitle: 王毅会见俄罗斯外长拉夫罗夫\nsection: 外交部新闻\n"
    "date: 2020-09-11T10:00:00+08:00\n---\n"
    "2020年9月11日，国务委员兼外长王毅在莫斯科会见俄罗斯外长拉夫罗夫。双方就中俄关系交换了意见。\n"
)
AR = (
    "---\ntitle: الوزير يلتقي نظيره الروسي في موسكو\nsection: أخبار الوزارة\n"
    "date: 2020-09-12T10:00:00+03:00\n---\n"
    "التقى وزير الخارجية اليوم في موسكو نظيره الروسي، وبحث الجانبان العلاقات الثنائية "
    "والتطورات الإقليمية والدولية ذات الاهتمام المشترك.\n"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(
        tmp_path_factory.mktemp("languages"),
        {
            "languages.zh": {"title": "外交部新闻发布"},
            "languages.ar": {"title": "المكتب الصحفي"},
            "share": {"min_fill_seconds": 0.5},
            "outbox": {"tick_seconds": 0.25},
        },
    )
    english = newsroom_text(
        "Wang Yi Meets Russian Foreign Minister Lavrov",
        "September 11, 2020",
        ["Wang Yi met Sergey Lavrov in Moscow.", "They exchanged views."],
        "News & Events",
    )
    (srv.items / "lavrov.txt").write_text(english, encoding="utf-8")
    (srv.items / "lavrov.zh.md").write_text(ZH, encoding="utf-8")
    (srv.items / "moscow.ar.md").write_text(AR, encoding="utf-8")
    srv.start(
        ready=lambda s: wait_for(
            lambda: s.get("/ar/releases/moscow/").status_code == 200, timeout=15, what="ar page"
        )
    )
    yield srv
    assert srv.stop() in CLEAN_EXIT


def test_the_arabic_page_reads_right_to_left_on_a_phone(server: Server, phone_page: Page) -> None:
    errors = page_errors(phone_page)
    phone_page.goto(server.base + "/ar/releases/moscow/")
    expect(phone_page.locator("html")).to_have_attribute("dir", "rtl")
    expect(phone_page.locator("html")).to_have_attribute("lang", "ar")
    h1 = phone_page.locator("h1")
    expect(h1).to_have_text("الوزير يلتقي نظيره الروسي في موسكو")
    assert h1.evaluate("e => getComputedStyle(e).direction") == "rtl"
    # Mirrored: the body text starts at the right edge, as Arabic is read.
    box = phone_page.locator("main p").first.bounding_box()
    assert box is not None
    right_gap = 390 - (box["x"] + box["width"])
    first_line_end = phone_page.locator("main p").first.evaluate(
        "p => { const r = document.createRange(); r.setStart(p.firstChild, 0);"
        " r.setEnd(p.firstChild, 1); return r.getBoundingClientRect().right; }"
    )
    assert abs(first_line_end - (box["x"] + box["width"])) < 2, "Arabic text starts at the right"
    assert right_gap < 40
    scroll_width, inner_width = phone_page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert (scroll_width, inner_width) == (390, 390), "the page scrolls sideways"
    screenshot(phone_page, "release-ar-phone")
    assert errors == []


def test_the_chinese_page_shows_its_date_in_chinese_and_switches_to_english(
    server: Server, page: Page
) -> None:
    errors = page_errors(page)
    page.goto(server.base + "/zh/releases/lavrov/")
    expect(page.locator("html")).to_have_attribute("lang", "zh")
    expect(page.locator("h1")).to_have_text("王毅会见俄罗斯外长拉夫罗夫")
    expect(page.locator("time").first).to_have_text("2020年9月11日")
    screenshot(page, "release-zh-desktop")
    page.locator("a[lang='en']").first.click()
    page.wait_for_url(server.base + "/releases/lavrov/")
    expect(page.locator("h1")).to_have_text("Wang Yi Meets Russian Foreign Minister Lavrov")
    # The Arabic site has no translation of it: its switcher entry leads to the Arabic home.
    page.locator("a[lang='ar']").first.click()
    page.wait_for_url(server.base + "/ar/")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("link", name="الوزير يلتقي نظيره الروسي في موسكو")).to_be_visible()
    assert errors == []


def test_a_reader_shares_the_chinese_release_and_the_friend_gets_it_in_chinese(
    server: Server, page: Page
) -> None:
    errors = page_errors(page)
    page.goto(server.base + "/zh/releases/lavrov/")
    form = page.locator("section.share form.share-form")
    expect(form).to_have_attribute("action", "/zh/releases/lavrov/share")
    friend = page.get_by_label("朋友的电子邮件地址", exact=True)
    friend.click()
    friend.press_sequentially("pengyou@example.org")
    expect(form.locator("input[name=token]")).not_to_have_value("")
    name = page.get_by_label("您的姓名（选填）", exact=True)
    name.click()
    name.press_sequentially("小王")
    page.wait_for_timeout(700)
    form.get_by_role("button", name="发送").click()
    page.wait_for_url(sent_url(server))
    expect(page.locator("html")).to_have_attribute("lang", "zh")
    email = mail_to(server, "pengyou@example.org")
    assert email["Subject"] is not None and "王毅会见俄罗斯外长拉夫罗夫" in email["Subject"]
    [sender] = email["From"].addresses
    assert "外交部新闻发布" in sender.display_name and "小王" in sender.display_name
    text = email.get_body(preferencelist=("plain",)).get_content()
    html = email.get_body(preferencelist=("html",)).get_content()
    assert "阅读全文" in text and 'lang="zh"' in html
    assert errors == []
