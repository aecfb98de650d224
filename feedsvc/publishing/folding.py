"""Translations folded into compiled templates (issue 15): a release page says some forty
fixed strings, and each `{{ _("...") }}` is a call through Jinja's machinery on every
render, which made a release page a third slower to render than before the catalogs.
A page's fixed strings are the same on every page of one language, so for the pages a
build renders by the thousand (release and index pages) each language gets its own
compiled templates with those strings already in them: `{{ _("Send") }}` and a
`{% trans %}` block without values become template text at compile time, said and escaped
exactly as the runtime gettext (i18n.template_callables) says them; anything with values
stays a call. So does a path of the URL layout called with no value or one literal,
`{{ layout.asset("style.css") }}` (issue 18). `tests/publishing/test_folding.py` renders
every page both ways and compares the bytes."""

from __future__ import annotations

import gettext
from collections.abc import Iterator

from jinja2 import Environment
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from markupsafe import escape

from feedsvc import layout
from feedsvc.i18n import as_markup

_CALLS = ("_", "gettext")


class FoldedTranslations(Extension):
    """Give the environment `folded_catalog` (a gettext catalog) and this extension."""

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        catalog: gettext.NullTranslations = self.environment.folded_catalog  # type: ignore[attr-defined]
        escaping = _autoescapes(self.environment, stream.name)
        window: list[Token] = []
        for token in stream:
            window.append(token)
            folded = _fold(window, catalog, escaping)
            if folded is not None:
                del window[-folded[0] :]
                window.append(folded[1])
            if len(window) > 8:
                yield window.pop(0)
        yield from window


def _fold(
    window: list[Token], catalog: gettext.NullTranslations, escaping: bool
) -> tuple[int, Token] | None:
    """(how many tokens at the end of `window` make one fixed string, the data token that
    replaces them), or None."""
    kinds = [t.type for t in window[-6:]]
    if kinds == ["variable_begin", "name", "lparen", "string", "rparen", "variable_end"]:
        name, literal = window[-5], window[-3]
        if name.value in _CALLS:
            said = _said(catalog, literal.value, escaping)
            return None if said is None else (6, Token(window[-6].lineno, "data", said))
    layout_call = _layout_call(window, escaping)
    if layout_call is not None:
        return layout_call
    kinds = [t.type for t in window[-7:]]
    if kinds == ["block_begin", "name", "block_end", "data", "block_begin", "name", "block_end"]:
        opening, text, closing = window[-6], window[-4], window[-2]
        if opening.value == "trans" and closing.value == "endtrans":
            # The i18n extension writes a block's '%' as '%%' in its msgid.
            said = _said(catalog, text.value.replace("%", "%%"), escaping)
            return None if said is None else (7, Token(window[-7].lineno, "data", said))
    return None


# `{{ layout.name() }}` and `{{ layout.name("literal") }}`: a path of the URL layout
# (feedsvc/layout.py, pure functions of their arguments) that is the same on every page.
_LAYOUT_CALL = ["variable_begin", "name", "dot", "name", "lparen", "rparen", "variable_end"]
_LAYOUT_CALL_OF = [*_LAYOUT_CALL[:5], "string", *_LAYOUT_CALL[5:]]


def _layout_call(window: list[Token], escaping: bool) -> tuple[int, Token] | None:
    """(tokens, data token) for a layout path called with no value or one literal: what
    the runtime call would write (issue 18: seven such calls a page went through Jinja's
    call machinery on every release page)."""
    for pattern in (_LAYOUT_CALL, _LAYOUT_CALL_OF):
        tokens = window[-len(pattern) :]
        if [t.type for t in tokens] != pattern or tokens[1].value != "layout":
            continue
        function = getattr(layout, tokens[3].value, None)
        if not callable(function):
            return None
        path = str(function(*(t.value for t in tokens[5:-2])))
        said = str(escape(path)) if escaping else path
        return len(pattern), Token(tokens[0].lineno, "data", said)
    return None


def _said(catalog: gettext.NullTranslations, msgid: str, escaping: bool) -> str | None:
    """The text the runtime gettext would give for `msgid` with no values; None when that
    is not a fixed string (a stray '%' the runtime would refuse)."""
    said = catalog.gettext(msgid)
    try:
        return str(as_markup(said, msgid) % {}) if escaping else said % {}
    except (KeyError, TypeError, ValueError):
        return None


def _autoescapes(env: Environment, name: str | None) -> bool:
    setting = env.autoescape
    return bool(setting(name) if callable(setting) else setting)


def folded_environment(shared: Environment, catalog: gettext.NullTranslations) -> Environment:
    """`shared` with `catalog`'s fixed strings compiled in (its own template cache)."""
    # A cache of its own: an overlay shares its parent's, keyed by loader and name alone,
    # and would hand back the templates compiled without the strings.
    env = shared.overlay(extensions=[FoldedTranslations], cache_size=400)
    env.folded_catalog = catalog  # type: ignore[attr-defined]
    return env
