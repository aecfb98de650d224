"""Message catalogs and locale formatting (issue 15): every string a reader sees comes from
a gettext catalog (Babel keeps them, as Django does), and dates from CLDR through Babel.

The catalogs are `locale/<lang>/LC_MESSAGES/messages.po`, compiled in memory at first use
(no build step). The English source strings are the msgids: a language with no catalog,
or a msgid a catalog lacks, reads in English. To re-extract after changing a marked
string, then merge the change into every catalog (and translate what it marks fuzzy):

    pybabel extract -F babel.cfg -k N_ -o feedsvc/locale/messages.pot --no-location \\
        --omit-header .
    pybabel update -i feedsvc/locale/messages.pot -d feedsvc/locale --no-fuzzy-matching

tests/test_i18n.py fails while a marked string is missing from the .pot or untranslated
in a catalog.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
import threading
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po
from jinja2 import Environment, PackageLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup, escape

from feedsvc.errors import ConfigError

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
SOURCE = "en"  # the language the msgids are written in
_LOCK = threading.Lock()  # worker threads render cold pages: one compile per catalog


class Message(str):
    """A message in English (what it is as a str: logs, the JSON API, tests) that keeps its
    msgid and parameters, so that a page can say it in its own language (`translate`)."""

    msgid: str
    params: Mapping[str, Any]

    def __new__(cls, msgid: str, params: Mapping[str, Any]) -> Message:
        self = super().__new__(cls, msgid % params if params else msgid)
        self.msgid = msgid
        self.params = dict(params)
        return self


def N_(msgid: str, **params: Any) -> Message:  # gettext's name for "mark only"
    """Mark `msgid` for the catalogs; it is said in the reader's language later."""
    return Message(msgid, params)


def translate(text: str, translations: gettext.NullTranslations) -> str:
    """A Message in the language of `translations`; any other text as it is."""
    if not isinstance(text, Message):
        return text
    said = translations.gettext(text.msgid)
    return said % text.params if text.params else said


def candidates(tag: str) -> list[str]:
    """'zh-Hant-TW' -> ['zh_Hant_TW', 'zh_Hant', 'zh']: the catalogs to try, most specific
    first (RFC 4647 section 3.4, lookup)."""
    parts = tag.replace("_", "-").split("-")
    return ["_".join(parts[:n]) for n in range(len(parts), 0, -1)]


@lru_cache(maxsize=64)
def translations(tag: str) -> gettext.NullTranslations:
    """The catalog of `tag`, falling back along its subtags, then to the English source."""
    chain: gettext.NullTranslations = gettext.NullTranslations()
    found = [c for c in candidates(tag) if _po_path(c).is_file()]
    # Least specific first: each more specific catalog falls back to the one before.
    for name in reversed(found):
        catalog = _compile(_po_path(name))
        catalog.add_fallback(chain)
        chain = catalog
    return chain


@lru_cache(maxsize=64)
def template_callables(catalog: gettext.NullTranslations) -> dict[str, Any]:
    """`gettext` and `ngettext` for one render's context (jinja2.ext.i18n, newstyle): passed
    per render, never installed in the shared environment, where worker threads rendering
    pages in two languages at once would race. Unlike Jinja's own, a translation is
    escaped like any other text (issue 15: a catalog is data, not markup); the values put
    into it are escaped as Markup's `%` does. The English source, being the template's own
    text, keeps its bytes (an apostrophe stays "'").

    Made once per catalog; a page says the same few dozen strings every time, so each
    one's escaped form is kept (a build renders thousands of pages: without it, saying
    them cost a third of a release page's render)."""
    marked: dict[str, Markup] = {}  # msgid -> its escaped translation, not yet formatted
    said_plainly: dict[str, Markup] = {}  # msgid -> the same formatted with no values

    @pass_context
    def gettext_(context: Context, msgid: str, /, **variables: Any) -> str:
        if not context.eval_ctx.autoescape:
            return catalog.gettext(msgid) % variables
        if not variables:
            done = said_plainly.get(msgid)
            if done is None:
                done = said_plainly[msgid] = _marked(msgid) % {}
            return done
        return _marked(msgid) % variables

    def _marked(msgid: str) -> Markup:
        found = marked.get(msgid)
        if found is None:
            found = marked[msgid] = as_markup(catalog.gettext(msgid), msgid)
        return found

    @pass_context
    def ngettext_(context: Context, singular: str, plural: str, n: int, /, **variables: Any) -> str:
        variables.setdefault("num", n)
        said = catalog.ngettext(singular, plural, n)
        if context.eval_ctx.autoescape:
            return as_markup(said, singular, plural) % variables
        return said % variables

    return {"gettext": gettext_, "ngettext": ngettext_}


def email_environment() -> Environment:
    """The templates of emails (share letters, alerts), `templates/email/`: the HTML parts
    autoescaped, the i18n extension with gettext/ngettext passed in each render's context
    (template_callables), since letters in two languages may be composed at once."""
    env = Environment(
        loader=PackageLoader("feedsvc", "templates"),
        autoescape=select_autoescape(["html"]),
        keep_trailing_newline=True,
        auto_reload=False,
        extensions=["jinja2.ext.i18n"],
    )
    env.newstyle_gettext = True  # type: ignore[attr-defined]
    return env


def as_markup(said: str, *source: str) -> Markup:
    """The template's own text (a msgid, written in the template) as the template has it;
    a catalog's text escaped: a `<script>` in a msgstr is shown, never run."""
    return Markup(said) if said in source else escape(said)


def _po_path(name: str) -> Path:
    return LOCALE_DIR / name / "LC_MESSAGES" / f"{DOMAIN}.po"


def _compile(path: Path) -> gettext.GNUTranslations:
    """A .po file compiled in memory; a broken one is an error naming file and line."""
    with _LOCK, path.open("rb") as f:
        try:
            catalog = read_po(f, abort_invalid=True)
        except PoFileError as e:
            what = str(e).rsplit(" on ", 1)[0]  # Babel counts lines from 0
            raise ConfigError(f"{path}, line {e.lineno + 1}: {what}: {e.line.strip()!r}") from None
        compiled = io.BytesIO()
        write_mo(compiled, catalog)  # fuzzy entries are left out: they read in English
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


@lru_cache(maxsize=64)
def locale(tag: str) -> Locale:
    """The CLDR locale of `tag`; English for a tag CLDR does not know."""
    try:
        return Locale.parse(tag.replace("_", "-"), sep="-")
    except (UnknownLocaleError, ValueError):
        return Locale.parse(SOURCE)


def format_date(value: dt.date, tag: str, format: str = "long") -> str:
    """'September 11, 2020', '2020年9月11日', '11 сентября 2020 г.' (CLDR), whatever the
    process locale. A datetime is formatted as its own (local) date."""
    if isinstance(value, dt.datetime):
        value = value.date()
    return _date_said(value, tag, format)


@lru_cache(maxsize=8192)
def _date_said(day: dt.date, tag: str, format: str) -> str:
    # A build dates thousands of pages from a few hundred days: each said once.
    return _babel_date(day, format, locale=locale(tag))


def format_datetime(value: dt.datetime, tag: str, format: str = "long") -> str:
    """A date and time with its zone's name, as the language writes them (CLDR)."""
    return _babel_datetime(value, format, tzinfo=value.tzinfo, locale=locale(tag))
