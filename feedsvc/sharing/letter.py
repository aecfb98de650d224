"""The email a share sends: one letter a recipient, rendered from templates/email/ with its
own unsubscribe link, and checked before the share is accepted (issue 11: refused now
rather than accepted and then dead). It is written in the language of the release shared,
with the site's title in that language (issue 15)."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import escape

from feedsvc.channels import PermanentFailure
from feedsvc.channels.email import check as check_email
from feedsvc.config import LanguageSettings, SiteSettings
from feedsvc.i18n import N_, email_environment, template_callables, translations
from feedsvc.languages import Language, Languages
from feedsvc.model import Outgoing, Release, unscoped
from feedsvc.sharing.links import defang
from feedsvc.sharing.outcomes import Reason, ShareRefused
from feedsvc.sharing.requests import ShareRequest

log = logging.getLogger("feedsvc.share")

_HEADER_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")

# Issue 18: rendering both templates for every recipient was the largest part of a share's
# cost at intake. A letter differs between shares of one release only by the sender's name,
# the message, the click-through link and the unsubscribe link, so each template is
# rendered once per release version and shape (who sent it, with or without a name and a
# message) with a marker in place of each of those values, and each letter is that render
# with the values put in, escaped as Jinja escapes them (HTML) or as they are (text). The
# markers are random per process, so no text anyone sends can name one.
# tests/sharing/test_letter.py compares every shape with a direct render, byte for byte.
_MARK = secrets.token_hex(8)
SENDER, MESSAGE, LINK, UNSUBSCRIBE = (f"feedsvc{_MARK}{n}" for n in ("s", "m", "l", "u"))
_MARKERS = re.compile(f"feedsvc{_MARK}[smlu]")
_SHAPES_KEPT = 512  # release versions x shapes; forgotten all at once beyond that


@dataclass(frozen=True)
class Recipient:
    address: str
    digest: str  # the address's keyed hash: what the store and the limits know of it
    unsubscribe: str  # the recipient's own signed unsubscribe link


class Letters:
    def __init__(
        self, site: SiteSettings, languages: Mapping[str, LanguageSettings] | None = None
    ) -> None:
        self.site = site  # the emails' sender name
        self.languages = Languages(site, languages)
        env = email_environment()
        self._text = env.get_template("email/share.txt")
        self._html = env.get_template("email/share.html")
        self._shapes: dict[tuple[Any, ...], tuple[str, str]] = {}

    def compose(
        self,
        share_id: str,
        request: ShareRequest,
        release: Release,
        link: str,
        recipients: list[Recipient],
        by_operator: bool,
    ) -> list[tuple[str, Outgoing]]:
        """One email a recipient (keyed by the address's hash); ShareRefused(UNSENDABLE)
        when no email can carry the release."""
        language = self.language_of(release)
        site = language.site
        catalog = translations(language.tag)
        sender = request.from_name
        display = (
            catalog.gettext("%(sender)s via %(site)s") % {"sender": sender, "site": site.title}
            if sender
            else site.title
        )
        # A title's line or paragraph separators (and controls) would make a subject no
        # email can carry; anything else in it is encoded (RFC 2047).
        title = " ".join(_HEADER_BREAKS.sub(" ", release.title).split())
        who = sender or (site.title if by_operator else catalog.gettext("Someone"))
        subject = catalog.gettext("%(who)s suggests: %(title)s") % {"who": who, "title": title}
        message = defang(request.message) if request.message else None
        text, html = self._shape(release, language, bool(sender), bool(message), by_operator)
        emails = []
        for recipient in recipients:
            values = {SENDER: sender or "", LINK: link, UNSUBSCRIBE: recipient.unsubscribe}
            values[MESSAGE] = message or ""
            escaped = {marker: str(escape(value)) for marker, value in values.items()}
            # The text template quotes the message a line at a time ("> " before each).
            values[MESSAGE] = "\n> ".join(values[MESSAGE].split("\n"))
            payload = {
                "to": recipient.address,
                "from_name": display,
                "reply_to": request.from_email,
                "subject": subject,
                "text": _put(text, values),
                "html": _put(html, escaped),
                # RFC 8058: one click in the mail client, no page to visit.
                "headers": {
                    "List-Unsubscribe": f"<{recipient.unsubscribe}>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                },
            }
            _check_sendable(payload, release)
            key = f"share {share_id} {recipient.digest}"
            outgoing = Outgoing("email", recipient.address, payload, key, subject=share_id)
            emails.append((recipient.digest, outgoing))
        return emails

    def _shape(
        self, release: Release, language: Language, sender: bool, message: bool, by_operator: bool
    ) -> tuple[str, str]:
        """The text and HTML of this release's letter, a marker in place of each value that
        differs from share to share (rendered once per release version and shape)."""
        key = (release.key, release.content_hash, release.title, release.summary, release.language)
        key += (sender, message, by_operator)
        found = self._shapes.get(key)
        if found is None:
            found = self._render(
                release,
                language,
                SENDER if sender else None,
                MESSAGE if message else None,
                LINK,
                UNSUBSCRIBE,
                by_operator,
            )
            if len(self._shapes) >= _SHAPES_KEPT:
                self._shapes.clear()
            self._shapes[key] = found
        return found

    def _render(
        self,
        release: Release,
        language: Language,
        sender: str | None,
        message: str | None,
        link: str,
        unsubscribe: str,
        by_operator: bool,
    ) -> tuple[str, str]:
        """The letter's text and HTML, rendered straight from the templates."""
        context: dict[str, Any] = {
            **template_callables(translations(language.tag)),
            "dir": language.direction,
            "site": language.site,
            "release": release,
            "link": link,
            "sender": sender,
            "message": message,
            # The press office itself sent it (`feedsvc share`), not a reader of the site.
            "by_operator": by_operator,
            "unsubscribe": unsubscribe,
        }
        return self._text.render(context), self._html.render(context)

    def language_of(self, release: Release) -> Language:
        """The language the release is written in, as the site has it configured; the
        site's own for a language no longer configured."""
        return self.languages.get(unscoped(release.key)[1]) or self.languages.default


def _put(shape: str, values: dict[str, str]) -> str:
    """The shape with each marker replaced by its value, in one pass: a value is never
    searched for markers itself."""
    return _MARKERS.sub(lambda m: values[m.group()], shape)


def _check_sendable(payload: dict[str, Any], release: Release) -> None:
    try:
        check_email(payload)
    except PermanentFailure as e:
        # Refused now rather than accepted and then dead (issue 11).
        log.error("release %s cannot be shared by email: %s", release.id, e)
        raise ShareRefused(
            Reason.UNSENDABLE, N_("this release cannot be sent by email"), field="release"
        ) from None
