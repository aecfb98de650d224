"""The email a preview sends (issue 17 item 6): one letter an address, in the release's
language, subject "Embargoed until <time>: <title>", text and HTML from
templates/email/preview.*, as the outbox's `email` channel expects it (channels/email.py).
The address is erased from the outbox once delivered, as a share's is (store/outbox.py)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from feedsvc.channels.email import check as check_email
from feedsvc.config import LanguageSettings, SiteSettings
from feedsvc.i18n import email_environment, format_datetime, template_callables, translations
from feedsvc.languages import Language, Languages
from feedsvc.model import Outgoing, Release, unscoped
from feedsvc.sharing.keys import Signer, address_hash

_HEADER_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
KIND = "preview"  # the payload's `kind`: what revoke looks for among waiting emails


def subject_of(release_key: str) -> str:
    """The outbox row's subject: the preview emails of one release, for revoke."""
    return f"preview {release_key}"


class PreviewLetters:
    def __init__(
        self, site: SiteSettings, languages: Mapping[str, LanguageSettings] | None = None
    ) -> None:
        self.languages = Languages(site, languages)
        env = email_environment()
        self._text = env.get_template("email/preview.txt")
        self._html = env.get_template("email/preview.html")

    def language_of(self, release: Release) -> Language:
        return self.languages.get(unscoped(release.key)[1]) or self.languages.default

    def compose(
        self,
        release: Release,
        link: str,
        expires: dt.datetime,
        addresses: list[str],
        signer: Signer,
        epoch: str,
    ) -> list[Outgoing]:
        """One email an address, keyed by the release, its epoch, the link's end and the
        address's hash: the same command twice queues nothing the second time."""
        language = self.language_of(release)
        catalog = translations(language.tag)
        tz = language.site.tz
        assert release.publish_at is not None
        when = format_datetime(release.publish_at.astimezone(tz), language.tag)
        until = format_datetime(expires.astimezone(tz), language.tag)
        title = " ".join(_HEADER_BREAKS.sub(" ", release.title).split())
        subject = catalog.gettext("Embargoed until %(time)s: %(title)s") % {
            "time": when,
            "title": title,
        }
        context: dict[str, Any] = {
            **template_callables(catalog),
            "dir": language.direction,
            "site": language.site,
            "release": release,
            "link": link,
            "when": when,
            "until": until,
        }
        text, html = self._text.render(context), self._html.render(context)
        emails = []
        for address in addresses:
            payload = {
                "kind": KIND,
                "to": address,
                "from_name": language.site.title,
                "subject": subject,
                "text": text,
                "html": html,
            }
            check_email(payload)  # PermanentFailure now, not a dead email later
            digest = address_hash(signer, address)
            key = f"preview {release.key} {epoch} {int(expires.timestamp())} {digest}"
            emails.append(Outgoing("email", address, payload, key, subject_of(release.key)))
        return emails
