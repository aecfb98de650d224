"""Issue 15: a release's language (front matter, file-name suffix, the site's), its
translations (one id, a key per language) and the errors for languages the site lacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedsvc.config import Settings
from feedsvc.model import ReadProblem
from feedsvc.reading import read_folder
from feedsvc.reading.listing import file_at, in_bundle, release_files
from tests.reading.helpers import make_settings, read, read_error

ZH_TEXT = "首页 > 外交部新闻\n王毅会见俄罗斯外长\n\n2020年9月11日，王毅在莫斯科会见记者。\n"
EN_TEXT = "Home > News\nWang Yi meets the press\n\nOn September 11, 2020, Wang Yi met the press.\n"
AR_MD = (
    "---\ntitle: لقاء صحفي\nsection: أخبار الوزارة\n---\n١١ سبتمبر ٢٠٢٠، التقى الوزير بالصحفيين.\n"
)
NOT_CONFIGURED = "a language this site is not configured for"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, {"zh": {}, "ar": {}, "zh-Hant": {}})


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_a_suffix_is_a_translation_of_the_file_without_it(settings: Settings) -> None:
    en = read(EN_TEXT, settings, rel="budget.txt")
    zh = read(ZH_TEXT, settings, rel="budget.zh.txt")
    assert (en.id, en.key, en.language) == ("budget", "budget", "en")
    assert (zh.id, zh.key, zh.language) == ("budget", "budget@zh", "zh")
    assert zh.section == "外交部新闻" and zh.section_slug == "外交部新闻"


def test_a_suffix_in_any_case_is_stored_as_configured(settings: Settings) -> None:
    release = read(ZH_TEXT, settings, rel="2020/budget.ZH-hant.txt")
    assert (release.id, release.key, release.language) == ("budget", "budget@zh-Hant", "zh-Hant")


@pytest.mark.parametrize(
    ("rel", "release_id"),
    [("report.v2.txt", "report.v2"), ("report.fr.txt", "report.fr"), ("a.b.c.txt", "a.b.c")],
)
def test_a_suffix_that_is_no_configured_language_stays_in_the_name(
    settings: Settings, rel: str, release_id: str
) -> None:
    release = read(EN_TEXT, settings, rel=rel)
    assert (release.id, release.key, release.language) == (release_id, release_id, "en")


def test_front_matter_language_wins_over_the_site_and_gives_the_key(settings: Settings) -> None:
    release = read(AR_MD, settings, rel="visit.md")
    assert release.language == "en"  # no language said: the site's own
    said = AR_MD.replace("---\ntitle", "---\nlanguage: AR\ntitle")
    release = read(said, settings, rel="visit.md")
    assert (release.id, release.key, release.language) == ("visit", "visit@ar", "ar")
    assert release.section_slug == "أخبار-الوزارة"


def test_the_site_language_said_in_front_matter_keeps_the_bare_key(settings: Settings) -> None:
    release = read("---\nlanguage: EN\n" + AR_MD.removeprefix("---\n"), settings, rel="v.md")
    assert (release.key, release.language) == ("v", "en")


def test_an_unconfigured_language_in_front_matter_names_its_line(settings: Settings) -> None:
    text = "---\ntitle: T\nsection: S\ndate: 2020-01-01\nlanguage: fr\n---\nx\n"
    assert read_error(text, settings, rel="note.md") == (
        "note.md:5: front-matter 'language' says 'fr', " + NOT_CONFIGURED + ": add "
        "[languages.fr] to config.toml (or correct the tag)"
    )


def test_front_matter_contradicting_the_suffix_is_an_error(settings: Settings) -> None:
    text = "---\ntitle: T\nsection: S\ndate: 2020-01-01\nlanguage: ar\n---\nx\n"
    assert read_error(text, settings, rel="note.zh.md") == (
        "note.zh.md:5: front-matter 'language' 'ar' contradicts the file name, which says "
        "'zh': give one of them"
    )


def test_translation_key_links_files_named_otherwise(settings: Settings) -> None:
    head = "---\ntranslation_key: budget-2020\nlanguage: zh\n"
    zh = read(head + AR_MD.removeprefix("---\n"), settings, rel="yusuan.md")
    assert (zh.id, zh.key) == ("budget-2020", "budget-2020@zh")
    same = "---\nid: budget-2020\ntranslation_key: budget-2020\n" + AR_MD.removeprefix("---\n")
    assert read(same, settings, rel="x.md").key == "budget-2020"


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        (
            "id: a\ntranslation_key: b\n",
            "x.md:3: front-matter 'translation_key' 'b' and 'id' 'a' differ: a translation's "
            "id is its translation key, give one of them",
        ),
        (
            "translation_key: a b\n",
            "x.md:2: front-matter 'translation_key' is the release's id: letters, digits, "
            "'.', '_' or '-' (<= 200)",
        ),
    ],
)
def test_bad_translation_keys(settings: Settings, front: str, expected: str) -> None:
    assert read_error("---\n" + front + AR_MD.removeprefix("---\n"), settings) == expected


def test_a_bundle_and_its_translations_share_the_folder(tmp_path: Path, settings: Settings) -> None:
    items = settings.items.dir
    write(items, "visit/index.txt", EN_TEXT)
    write(
        items,
        "visit/index.zh.md",
        ZH_TEXT.replace("首页 > 外交部新闻\n", "---\nsection: 新闻\n---\n# "),
    )
    write(items, "visit/notes.md", "a resource of the bundle, no release")
    write(items, "zhonly/index.zh.txt", ZH_TEXT)
    rels = [rel for rel, _, _ in release_files(items)]
    assert rels == ["visit/index.txt", "visit/index.zh.md", "zhonly/index.zh.txt"]
    out = read_folder(settings)
    assert out.problems == []
    keys = sorted((r.key, r.id, r.language) for r, _ in out.releases)
    assert keys == [
        ("visit", "visit", "en"),
        ("visit@zh", "visit", "zh"),
        ("zhonly@zh", "zhonly", "zh"),
    ]
    # What a watcher names is judged the same way.
    assert in_bundle(items, "visit/notes.md") and not in_bundle(items, "visit/index.zh.md")
    assert file_at(items, "visit/index.zh.md") is not None
    assert file_at(items, "zhonly/other.md") is None


def test_a_bundle_index_for_a_language_the_site_lacks_is_an_error(settings: Settings) -> None:
    write(settings.items.dir, "visit/index.fr.txt", EN_TEXT)
    out = read_folder(settings)
    assert out.problems == [
        ReadProblem(
            "visit/index.fr.txt",
            1,
            "the file name says 'fr', " + NOT_CONFIGURED + ": add [languages.fr] to config.toml "
            "(or correct the tag)",
        )
    ]


def test_a_single_language_site_reads_as_before(tmp_path: Path) -> None:
    plain = make_settings(tmp_path)
    release = read(EN_TEXT, plain, rel="budget.zh.txt")  # zh is no language of this site
    assert (release.id, release.key, release.language) == ("budget.zh", "budget.zh", "en")


def test_an_index_named_for_no_language_makes_no_bundle(settings: Settings) -> None:
    """As before issue 15: 'index.old.txt' is a release of its own, and the folder's other
    files stay releases (were it a bundle, they would become its resources)."""
    items = settings.items.dir
    write(items, "archive/index.old.txt", EN_TEXT)
    write(items, "archive/later.txt", EN_TEXT)
    write(items, "visit/index.txt", EN_TEXT)
    write(items, "visit/index.old.txt", "a resource of the bundle")
    rels = [rel for rel, _, _ in release_files(items)]
    assert rels == ["archive/index.old.txt", "archive/later.txt", "visit/index.txt"]
    assert sorted(r.id for r, _ in read_folder(settings).releases) == [
        "index.old",
        "later",
        "visit",
    ]
