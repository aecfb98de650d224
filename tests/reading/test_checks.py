"""`feedsvc check` across releases (issue 15): translations are no duplicates, two section
names with one slug are an error, a text in a script its language is not written in is a
warning. End to end on a real folder and config."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from feedsvc.cli import main
from feedsvc.reading.checks import script_warnings
from tests.conftest import SEED, newsroom_text
from tests.reading.helpers import make_settings, read

CONFIG = """
[site]
base_url = "https://press.example.org/"
timezone = "Asia/Shanghai"
[languages.zh]
[languages.ar]
[languages.ru]
"""
ZH = "首页 > 外交部新闻\n王毅会见记者\n\n2020年9月11日，国务委员兼外长王毅在莫斯科同俄罗斯外长拉夫罗夫共同会见记者。\n"
AR = "الرئيسية > أخبار\nلقاء صحفي\n\n11 سبتمبر 2020، التقى وزير الخارجية بالصحفيين في موسكو.\n"


@pytest.fixture
def office(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "items").mkdir()
    shutil.copy(SEED, tmp_path / "items" / "seed.txt")
    (tmp_path / "config.toml").write_text(CONFIG)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def check(office: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    status = main(["check", "--config", str(office / "config.toml")])
    return status, capsys.readouterr().out.splitlines()


def test_translations_are_one_release_not_duplicates(office: Path, capsys) -> None:
    (office / "items" / "seed.zh.txt").write_text(ZH)
    (office / "items" / "seed.ar.txt").write_text(AR)
    assert check(office, capsys) == (0, ["3 releases read, no problems in items"])
    (office / "items" / "other.txt").write_text('+++\nid = "seed"\nlanguage = "zh"\n+++\n' + ZH)
    status, out = check(office, capsys)
    assert (status, out) == (
        1,
        ["items/seed.zh.txt:1: id 'seed' in language zh is already used by other.txt"],
    )


def test_two_section_names_with_one_slug_are_an_error(office: Path, capsys) -> None:
    items = office / "items"
    items.joinpath("a.txt").write_text(newsroom_text("A", "May 1, 2021", ["x."], "News & Events"))
    items.joinpath("b.txt").write_text(newsroom_text("B", "May 2, 2021", ["x."], "News, Events"))
    # The same name in two languages, or one name twice, is no clash.
    items.joinpath("a.zh.txt").write_text(ZH.replace("外交部新闻", "News, Events"))
    items.joinpath("c.txt").write_text(newsroom_text("C", "May 3, 2021", ["x."], "News & Events"))
    status, out = check(office, capsys)
    assert (status, out) == (
        1,
        [
            "items/b.txt:1: section 'News, Events' has the URL sections/news-events/, as section "
            "'News & Events' of a.txt has (language en): rename one of them"
        ],
    )


def test_a_text_in_another_script_is_a_warning_not_an_error(office: Path, capsys) -> None:
    (office / "items" / "arabic.txt").write_text(AR)  # no suffix: declared the site's 'en'
    status, out = check(office, capsys)
    assert status == 0
    assert out == [
        "items/arabic.txt:1: warning: declared language 'en', but 100% of the letters of its "
        "title and text are not Latin (most are Arabic): is its language right?",
        "2 releases read, no problems in items (1 warning)",
    ]


@pytest.mark.parametrize(
    ("rel", "text", "warned"),
    [
        ("a.ru.txt", ZH, "are not Cyrillic (most are CJK ideographs)"),
        ("a.zh.txt", SEED.read_text(), "are not Han (most are Latin)"),
        ("a.txt", ZH, "are not Latin (most are CJK ideographs)"),
        ("a.zh.txt", ZH, None),
        ("a.ar.txt", AR, None),
        # A quoted English name in a Chinese text is no reason to doubt its language.
        ("a.zh.txt", ZH.replace("记者。", "记者，引用了“Foreign Minister Sergey Lavrov”。"), None),
        ("a.txt", "Home > News\nМосква\n\nOn May 1, 2021, the minister met in Moscow.\n", None),
    ],
)
def test_script_warnings(tmp_path: Path, rel: str, text: str, warned: str | None) -> None:
    settings = make_settings(tmp_path, {"zh": {}, "ar": {}, "ru": {}})
    problems = script_warnings([read(text, settings, rel=rel)])
    if warned is None:
        assert problems == []
    else:
        assert len(problems) == 1 and warned in problems[0].message, problems
