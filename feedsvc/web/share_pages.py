"""The pages of "Suggest To A Friend" (the form, its answers, the unsubscribe page), each in
a language of the site (issue 15): its strings from the catalogs, what the desk says
(i18n.Message) translated, with the one compiled environment of the site's `Pages`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from feedsvc.config import ShareSettings
from feedsvc.i18n import translate
from feedsvc.languages import Language, Languages
from feedsvc.model import StoredRelease, is_release_id, scoped
from feedsvc.publishing.pages import Pages
from feedsvc.sharing.requests import Invalid, ShareInvalid, ShareRequest
from feedsvc.web.refusals import NO_LANGUAGE, NO_SUCH_RELEASE

_PROBLEM = '{% extends "base.html" %}{% block main %}<p role="alert">{{ text }}</p>{% endblock %}'


@dataclass(frozen=True)
class ShareForm:
    """The share form of a release, in the language of its path."""

    release_id: str
    language: Language

    @property
    def key(self) -> str:
        """The release's key; "" (no release) for a segment that is no release id, such as a
        key spelt as one ("abc@zh"): a translation has one way in, its language."""
        if not is_release_id(self.release_id):
            return ""
        return scoped(self.release_id, self.language.scope)


class SharePages:
    def __init__(self, pages: Pages, languages: Languages, rules: ShareSettings) -> None:
        self.languages = languages
        self.rules = rules
        self._pages = {lang.tag: pages.in_language(lang) for lang in languages}
        env = pages.env
        self._form = env.get_template("share.html")
        self._sent = env.get_template("share_sent.html")
        self._unsubscribe = env.get_template("unsubscribe.html")
        self._problem = env.from_string(_PROBLEM)

    def of_scope(self, scope: str | None) -> Language:
        """The language of a stored release; the site's own for one no longer configured."""
        return self.languages.get(scope) or self.languages.default

    def language(self, tag: str | None) -> Language | None:
        """The language a request names (None: the site's own), if the site has it."""
        return self.languages.default if tag is None else self.languages.get(tag)

    def in_language(self, request: ShareRequest) -> ShareRequest:
        """The request with its `language` a configured tag (or None for the site's own):
        a tag the site does not publish in is a field error, never passed on (issue 15)."""
        language = self.language(request.language)
        if language is None:
            raise ShareInvalid(Invalid.UNACCEPTABLE, {"language": NO_LANGUAGE})
        return replace(request, language=language.scope)

    def _in(self, language: Language | None) -> Pages:
        return self._pages[(language or self.languages.default).tag]

    def form(
        self,
        language: Language,
        stored: StoredRelease,
        token: str,
        values: Mapping[str, Any],
        errors: Mapping[str, Any],
        notice: str | None,
    ) -> bytes:
        pages = self._in(language)
        said = pages.translations
        return self._form.render(
            **pages.base,
            r=stored.release,
            rules=self.rules,
            values=values,
            # The errors and the notice in the page's language (i18n.Message).
            errors={k: translate(v, said) if isinstance(v, str) else v for k, v in errors.items()},
            token=token,
            notice=None if notice is None else translate(notice, said),
        ).encode()

    def sent(self, stored: StoredRelease, count: int) -> bytes:
        """ "On its way", in the language of the release shared."""
        pages = self._in(self.of_scope(stored.scope))
        return self._sent.render(**pages.base, r=stored.release, count=count).encode()

    def unsubscribe(self, state: str, token: str, language: Language | None = None) -> bytes:
        """The unsubscribe page: at the top of the site, in the language of the email its
        link came from (None: the site's own); its form keeps that language."""
        pages = self._in(language)
        scope = None if language is None else language.scope
        return self._unsubscribe.render(
            **pages.base, state=state, token=token, unsubscribe_language=scope
        ).encode()

    def problem(self, language: Language | None, text: str) -> bytes:
        """A page that says one thing, in `language` (None: the site's own)."""
        pages = self._in(language)
        return self._problem.render(**pages.base, text=translate(text, pages.translations)).encode()

    def missing(self, language: Language | None = None) -> bytes:
        return self.problem(language, NO_SUCH_RELEASE)
