"""The message catalogs (issue 15): every string a reader sees is marked, extracted, and
translated in every catalog, keeping its placeholders; dates come from CLDR; a catalog is
data, escaped like any other text."""

from __future__ import annotations

import datetime as dt
import gettext
import io
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from feedsvc import i18n
from feedsvc.errors import ConfigError
from feedsvc.i18n import N_, format_date, template_callables, translate, translations
from feedsvc.publishing.pages import Pages
from tests.conftest import make_newsroom

REPO = Path(__file__).resolve().parent.parent
LANGUAGES = ("en", "zh", "fr", "es", "ru", "ar")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def catalog(lang: str) -> Catalog:
    with (i18n.LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=lang)


def template() -> Catalog:
    with (i18n.LOCALE_DIR / "messages.pot").open("rb") as f:
        return read_po(f)


def ids(cat: Catalog) -> set[str | tuple[str, ...]]:
    return {m.id for m in cat if m.id}


def extracted() -> set[str | tuple[str, ...]]:
    """The marked strings as Babel finds them today, with babel.cfg's method map."""
    method_map = [
        ("feedsvc/**.py", "python"),
        ("feedsvc/templates/**.html", "jinja2"),
        ("feedsvc/templates/**.txt", "jinja2"),
    ]
    options = {
        "feedsvc/templates/**": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}
    }
    found = set()
    for _, _, message, _, _ in extract_from_dir(
        str(REPO), method_map, options_map=options, keywords={"N_": None, **_DEFAULT}
    ):
        found.add(message)
    return found


_DEFAULT = {"_": None, "gettext": None, "ngettext": (1, 2)}


def test_the_template_holds_every_string_the_code_and_templates_mark() -> None:
    # An unmarked string is not here; a marked one not re-extracted fails here.
    assert extracted() == ids(template())


def test_babel_cfg_names_what_the_test_extracts() -> None:
    cfg = (REPO / "babel.cfg").read_text()
    assert "[python: feedsvc/**.py]" in cfg
    assert "[jinja2: feedsvc/templates/**.html]" in cfg
    assert "[jinja2: feedsvc/templates/**.txt]" in cfg


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_catalog_translates_every_string(lang: str) -> None:
    cat = catalog(lang)
    assert ids(cat) == ids(template()), "run `pybabel update` (feedsvc/i18n.py)"
    for message in cat:
        if not message.id:
            continue
        assert not message.fuzzy, (lang, message.id)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), (lang, message.id)
        if isinstance(message.id, tuple):
            assert len(strings) == cat.num_plurals, (lang, message.id)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_translations_keep_their_placeholders(lang: str) -> None:
    for message in catalog(lang):
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            wanted = set(PLACEHOLDER.findall(message.id[0])) | set(
                PLACEHOLDER.findall(message.id[1])
            )
            # A plural form may say its number in words (Arabic "يومان", two days): it
            # may leave `num` out, and use nothing the source does not give.
            for form in message.string:
                got = set(PLACEHOLDER.findall(form))
                assert got <= wanted and wanted - got <= {"num"}, (lang, message.id, form)
        else:
            wanted = set(PLACEHOLDER.findall(message.id))
            assert set(PLACEHOLDER.findall(message.string)) == wanted, (lang, message.id)
            assert "%" not in PLACEHOLDER.sub("", message.string).replace("%%", ""), message.id


def test_arabic_has_the_six_cldr_plural_forms() -> None:
    ar = translations("ar")
    days = [
        ar.ngettext("%(num)d day", "%(num)d days", n) % {"num": n} for n in (0, 1, 2, 3, 11, 100)
    ]
    assert days == ["0 يوم", "يوم واحد", "يومان", "3 أيام", "11 يومًا", "100 يوم"]
    ru = translations("ru")
    assert [ru.ngettext("%(num)d day", "%(num)d days", n) % {"num": n} for n in (1, 3, 5)] == [
        "1 день",
        "3 дня",
        "5 дней",
    ]


def test_dates_come_from_cldr() -> None:
    day = dt.datetime(2020, 9, 11, 23, 30, tzinfo=dt.UTC)
    assert format_date(day, "en") == "September 11, 2020"
    assert format_date(day, "zh") == "2020年9月11日"
    # CLDR puts a NARROW NO-BREAK SPACE before the abbreviation "г." (year).
    assert format_date(day, "ru") == "11 сентября 2020\u202fг."
    assert format_date(day, "ar") == "11 سبتمبر 2020"
    assert format_date(day, "fr") == "11 septembre 2020"
    assert format_date(day, "xx") == "September 11, 2020"


def test_a_tag_falls_back_along_its_subtags_then_to_english() -> None:
    assert i18n.candidates("zh-Hant-TW") == ["zh_Hant_TW", "zh_Hant", "zh"]
    assert translations("zh-Hant-TW").gettext("Home") == "首页"
    assert translations("ZH").gettext("Home") == "Home"  # tags are canonical by then
    assert translations("xx").gettext("Home") == "Home"
    assert translations("zh").gettext("a string no catalog has") == "a string no catalog has"


def test_a_message_is_english_as_text_and_translated_on_a_page() -> None:
    said = N_("Use at most %(count)d characters.", count=64)
    assert said == "Use at most 64 characters."
    assert translate(said, translations("zh")) == "最多 64 个字符。"
    assert translate("plain text", translations("zh")) == "plain text"


def test_a_broken_catalog_names_its_file_and_line(tmp_path: Path) -> None:
    po = tmp_path / "messages.po"
    po.write_text('msgid "Home"\nmsgstr "首页"\n\nmsgid "Send"\nmstr "发送"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        i18n._compile(po)
    assert str(caught.value) == (f"{po}, line 5: Unknown or misformatted keyword: 'mstr \"发送\"'")


def evil_catalog() -> gettext.GNUTranslations:
    cat = Catalog(locale="zh")
    cat.add("Not found", "<script>alert(1)</script>")
    cat.add(
        "There is no page at this address. The %(open)slist of releases%(close)s has"
        " everything published.",
        '<img src=x onerror=alert(2)>%(open)s"list"%(close)s',
    )
    cat.add("Feeds", '" onmouseover="alert(3)')
    out = io.BytesIO()
    write_mo(out, cat)
    out.seek(0)
    return gettext.GNUTranslations(out)


def test_a_translation_is_escaped_like_any_other_text(tmp_path: Path) -> None:
    room = make_newsroom(tmp_path)
    pages = Pages(room.settings.site, room.settings.share)
    context = {**pages.base, **template_callables(evil_catalog())}
    page = pages.env.get_template("404.html").render(**context, feeds=[])
    room.store.close()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img" not in page and "&lt;img src=x onerror=alert(2)&gt;" in page
    # The link the template puts into the sentence is still a link.
    assert '<a href="/">&#34;list&#34;</a>' in page
    assert 'aria-label="&#34; onmouseover=&#34;alert(3)"' in page
