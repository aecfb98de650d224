"""The emails of email alerts (issue 16): the confirmation, "you are subscribed already", a
release (or its update) and a digest, each as the payload the email channel takes
(channels/email.py), in the subscriber's language, text and HTML.

A fan-out sends one release to 100,000 subscribers: its body is rendered once per
(release version, language, note) and each letter only puts its subscriber's signed token
into it (a placeholder nobody can write into a release: it is random per process), so a
letter costs a few HMACs and string replacements, not a template render.

Every letter but the confirmation carries the RFC 8058 one-click unsubscribe and the
RFC 2919 list id (the confirmation goes to someone who is on no list yet: nothing to leave,
and its text says so). Every letter says `Auto-Submitted: auto-generated` (RFC 3834): all
are made by a program, the confirmation too, and a vacation reply to it would be
backscatter to whoever typed a stranger's address. Each goes out with its subscriber's
VERP return path (alerts/bounces.py), so a bounce names who bounced.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from feedsvc import layout
from feedsvc.alerts import bounces, tokens
from feedsvc.alerts.headers import list_id, one_line
from feedsvc.config import AlertSettings, LanguageSettings, SiteSettings
from feedsvc.i18n import email_environment, format_date, template_callables, translations
from feedsvc.languages import Language, Languages
from feedsvc.model import StoredRelease
from feedsvc.sharing.keys import Signer

if TYPE_CHECKING:
    from feedsvc.store.alerts import DigestItem
    from feedsvc.store.subscribers import Subscriber

Payload = dict[str, Any]


@dataclass(frozen=True)
class _Body:
    """A letter rendered once, with the placeholder where its subscriber's token goes."""

    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class _ListedItem:
    title: str
    date: str
    link: str
    note: str | None


class _Recent:
    """The few bodies rendered last (a fan-out sends one release, a digest run a few item
    lists); shared by the dispatcher's sending threads."""

    def __init__(self, size: int = 16) -> None:
        self._size = size
        self._bodies: dict[tuple[Any, ...], _Body] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> _Body | None:
        return self._bodies.get(key)

    def put(self, key: tuple[Any, ...], body: _Body) -> None:
        with self._lock:
            if len(self._bodies) >= self._size:
                self._bodies.pop(next(iter(self._bodies)))
            self._bodies[key] = body


class AlertLetters:
    def __init__(
        self,
        site: SiteSettings,
        languages: Mapping[str, LanguageSettings] | None,
        signer: Signer,
        alerts: AlertSettings,
    ) -> None:
        self.site = site
        self.languages = Languages(site, languages)
        self._signer = signer
        self._alerts = alerts
        self._verp_key = tokens.verp_key(signer)
        self._bounce_domain = alerts.bounce_domain or site.id_authority
        # RFC 2919: one list, named in each language as its site is.
        domain = f"alerts.{site.id_authority}"
        self._list_ids = {lang.tag: list_id(lang.site.title, domain) for lang in self.languages}
        # Random: a release's text cannot hold it, so only the token ever replaces it.
        self._slot = "tok" + secrets.token_hex(12)
        self._recent = _Recent()
        env = email_environment()
        self._templates = {
            name: (env.get_template(f"email/{name}.txt"), env.get_template(f"email/{name}.html"))
            for name in ("confirm", "alert_already", "alert", "digest")
        }

    # -- the four letters ------------------------------------------------------------------

    def confirm(self, subscriber: Subscriber, now: dt.datetime) -> Payload:
        """The double opt-in email: a signed link good alerts.confirm_days from `now`."""
        language = self._language(subscriber.language)
        body = self._once(("confirm", language.tag), lambda: self._confirm_body(language))
        token = tokens.confirm_token(self._signer, subscriber.id, now)
        return self._payload(subscriber, language, body, token, listed=False)

    def already(self, subscriber: Subscriber) -> Payload:
        """Asked again while subscribed: the manage link, and nothing changed."""
        language = self._language(subscriber.language)
        body = self._once(("already", language.tag), lambda: self._already_body(language))
        return self._managed(subscriber, language, body)

    def release(self, subscriber: Subscriber, stored: StoredRelease, note: str | None) -> Payload:
        """A release as it became public, or an update of it with its change note."""
        language = self._language(stored.scope)
        release = stored.release
        key = ("release", release.key, release.content_hash, stored.updated, note, language.tag)
        body = self._once(key, lambda: self._release_body(language, stored, note))
        return self._managed(subscriber, language, body)

    def digest(
        self,
        subscriber: Subscriber,
        items: list[DigestItem],
        frequency: str,
        since: dt.datetime | None = None,
    ) -> Payload:
        """What matched since the subscriber's last digest, oldest first."""
        language = self._language(subscriber.language)
        since_said = self._date(since or subscriber.confirmed_at or subscriber.created_at, language)
        listed = tuple(
            (i.release.key, i.release.release.content_hash, i.release.updated, i.note)
            for i in items
        )
        key = ("digest", frequency, since_said, language.tag, listed)
        body = self._once(key, lambda: self._digest_body(language, items, frequency, since_said))
        return self._managed(subscriber, language, body)

    # -- what every letter carries ---------------------------------------------------------

    def _managed(self, subscriber: Subscriber, language: Language, body: _Body) -> Payload:
        token = tokens.manage_token(self._signer, subscriber.id)
        return self._payload(subscriber, language, body, token, listed=True)

    def _payload(
        self, subscriber: Subscriber, language: Language, body: _Body, token: str, listed: bool
    ) -> Payload:
        if not subscriber.address:
            raise ValueError(f"subscriber {subscriber.id} has no address (left, or erased)")
        slot = self._slot
        headers = {"Auto-Submitted": "auto-generated"}
        if listed:
            unsubscribe = self._url(language, layout.alerts("unsubscribe", token))
            headers |= {
                # RFC 8058: one click in the mail client, no page to visit.
                "List-Unsubscribe": f"<{unsubscribe}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "List-Id": self._list_ids[language.tag],
            }
        return {
            "to": subscriber.address,
            "from_name": language.site.title,
            "subject": body.subject,
            "text": body.text.replace(slot, token),
            "html": body.html.replace(slot, token),
            "headers": headers,
            "return_path": bounces.return_path(subscriber.id, self._bounce_domain, self._verp_key),
        }

    # -- rendering, once per body ----------------------------------------------------------

    def _once(self, key: tuple[Any, ...], render: Any) -> _Body:
        body = self._recent.get(key)
        if body is None:
            body = render()
            self._recent.put(key, body)
        return body

    def _confirm_body(self, language: Language) -> _Body:
        catalog = translations(language.tag)
        subject = catalog.gettext("Confirm your email alerts from %(site)s") % {
            "site": language.site.title
        }
        link = self._url(language, layout.alerts("confirm", self._slot))
        return self._render(
            "confirm", language, subject, confirm=link, days=self._alerts.confirm_days
        )

    def _already_body(self, language: Language) -> _Body:
        catalog = translations(language.tag)
        subject = catalog.gettext("Your email alerts from %(site)s") % {"site": language.site.title}
        return self._render("alert_already", language, subject)

    def _release_body(self, language: Language, stored: StoredRelease, note: str | None) -> _Body:
        catalog = translations(language.tag)
        release = stored.release
        subject = release.title
        if note is not None:
            subject = catalog.gettext("Updated: %(title)s") % {"title": release.title}
        link = self._url(language, layout.release(release.id))
        return self._render(
            "alert",
            language,
            subject,
            title=one_line(release.title),  # as the subject: a line break was never meant
            date=self._date(release.published, language),
            summary=release.summary,
            link=link,
            note=note,
        )

    def _digest_body(
        self, language: Language, items: list[DigestItem], frequency: str, since: str
    ) -> _Body:
        catalog = translations(language.tag)
        site_title = language.site.title
        if frequency == "weekly":
            subject = catalog.gettext("Your weekly digest from %(site)s") % {"site": site_title}
        else:
            subject = catalog.gettext("Your daily digest from %(site)s") % {"site": site_title}
        listed = [
            _ListedItem(
                one_line(item.release.release.title),
                self._date(item.release.release.published, language),
                self._url(language, layout.release(item.release.id)),
                item.note,
            )
            for item in items
        ]
        return self._render(
            "digest", language, subject, items=listed, frequency=frequency, since=since
        )

    def _render(self, name: str, language: Language, subject: str, **values: Any) -> _Body:
        text, html = self._templates[name]
        context: dict[str, Any] = {
            **template_callables(translations(language.tag)),
            "lang": language.tag,
            "dir": language.direction,
            "site": language.site,
            "manage": self._url(language, layout.alerts("manage", self._slot)),
            **values,
        }
        # One line: a break in a title or the site's name would end the header (issue 11).
        return _Body(one_line(subject), text.render(context), html.render(context))

    # -- small helpers ---------------------------------------------------------------------

    def _language(self, scope: str | None) -> Language:
        """The subscriber's or release's language; the site's own for one no longer
        configured (its pages would be gone)."""
        return self.languages.get(scope) or self.languages.default

    def _url(self, language: Language, rel: str) -> str:
        return self.site.base_url + layout.in_language(language.scope, rel)

    def _date(self, moment: dt.datetime, language: Language) -> str:
        return format_date(moment.astimezone(self.site.tz), language.tag)


__all__ = ["AlertLetters", "Payload"]
