"""The pages of email alerts (issue 16): the subscribe page, and the pages the emails'
signed links lead to (confirm, manage, unsubscribe), each in the language of its path:
its strings from the catalogs, what the desk says (i18n.Message) translated, with the one
compiled environment of the site's `Pages`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from feedsvc.config import AlertSettings
from feedsvc.i18n import translate
from feedsvc.languages import Language, Languages
from feedsvc.publishing.pages import Pages
from feedsvc.store.subscribers import Subscriber

_PROBLEM = '{% extends "base.html" %}{% block main %}<p role="alert">{{ text }}</p>{% endblock %}'
Sections = Sequence[tuple[str, str]]  # (slug, name) of the sections a language has


class AlertPages:
    def __init__(self, pages: Pages, languages: Languages, rules: AlertSettings) -> None:
        self.languages = languages
        self.rules = rules
        self._pages = {lang.tag: pages.in_language(lang) for lang in languages}
        env = pages.env
        self._subscribe = env.get_template("alerts.html")
        self._confirm = env.get_template("alerts_confirm.html")
        self._manage = env.get_template("alerts_manage.html")
        self._unsubscribe = env.get_template("alerts_unsubscribe.html")
        self._problem = env.from_string(_PROBLEM)

    def language(self, tag: str | None) -> Language | None:
        """The language a request names (None: the site's own), if the site has it."""
        return self.languages.default if tag is None else self.languages.get(tag)

    def _in(self, language: Language) -> tuple[Pages, dict[str, Any]]:
        pages = self._pages[language.tag]
        return pages, {**pages.base, "feeds": [pages.main_feed], "alert_rules": self.rules}

    def _said(self, pages: Pages, texts: Mapping[str, Any]) -> dict[str, Any]:
        said = pages.translations
        return {k: translate(v, said) if isinstance(v, str) else v for k, v in texts.items()}

    def subscribe(
        self,
        language: Language,
        sections: Sections,
        token: str,
        values: Mapping[str, Any],
        errors: Mapping[str, Any],
        notice: str | None,
        sent: bool = False,
    ) -> bytes:
        """The subscribe page: the form (filled in again, each error beside its field), or
        "check your inbox" once a request is taken (the same whatever the address)."""
        pages, base = self._in(language)
        return self._subscribe.render(
            **base,
            sections=sections,
            token=token,
            values=values,
            errors=self._said(pages, errors),
            notice=None if notice is None else translate(notice, pages.translations),
            sent=sent,
        ).encode()

    def confirm(
        self, language: Language, state: str, token: str, manage_token: str | None = None
    ) -> bytes:
        """state: "ask" (a button: a GET never confirms), "done" or "bad"."""
        _, base = self._in(language)
        return self._confirm.render(
            **base, state=state, token=token, manage_token=manage_token
        ).encode()

    def manage(
        self,
        language: Language,
        subscriber: Subscriber | None,
        token: str,
        sections: Sections,
        errors: Mapping[str, Any] | None = None,
        saved: bool = False,
    ) -> bytes:
        """The manage page: how often and what to follow, or leave; "bad" without a
        subscriber (a link that names none, or one that has left)."""
        pages, base = self._in(language)
        return self._manage.render(
            **base,
            subscriber=subscriber,
            token=token,
            sections=sections,
            errors=self._said(pages, errors or {}),
            saved=saved,
        ).encode()

    def unsubscribe(self, language: Language, state: str, token: str) -> bytes:
        """state: "ask" (a button: a GET never unsubscribes), "done" or "bad"."""
        _, base = self._in(language)
        return self._unsubscribe.render(**base, state=state, token=token).encode()

    def problem(self, language: Language, text: str) -> bytes:
        """A page that says one thing, in `language`."""
        pages, base = self._in(language)
        return self._problem.render(**base, text=translate(text, pages.translations)).encode()
