"""Embargoed previews' one desk (issue 17 item 6): make a link (and its emails), revoke
every link of a release, and decide what a request with a token may see. The store does
the SQL: the epoch is a fact of the store (store_facts), the emails go through the outbox.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from feedsvc import layout
from feedsvc.clock import Clock
from feedsvc.config import LanguageSettings, SiteSettings
from feedsvc.languages import Language, Languages
from feedsvc.model import StoredRelease, scoped
from feedsvc.previews.letter import KIND, PreviewLetters, subject_of
from feedsvc.previews.tokens import PreviewTokens, epoch_fact, new_epoch
from feedsvc.sharing.keys import Signer
from feedsvc.store import Store

# Waiting emails looked at by revoke (newest first): far more than any press office sends.
_WAITING_LOOKED_AT = 100_000


class PreviewRefused(Exception):
    """No preview of this release, said for the person typing the command."""


@dataclass(frozen=True)
class Issued:
    link: str
    expires: dt.datetime
    embargo: dt.datetime
    queued: int  # emails newly queued (0 when the same command ran before)


class Seen(Enum):
    PAGE = "page"  # the embargoed page may be shown
    PUBLIC = "public"  # the embargo has lifted: redirect to the release's page
    NOTHING = "nothing"  # one answer for every bad token (no oracle)


@dataclass(frozen=True)
class Verdict:
    seen: Seen
    stored: StoredRelease | None = None
    expires: dt.datetime | None = None


NOTHING = Verdict(Seen.NOTHING)


class PreviewDesk:
    def __init__(
        self,
        store: Store,
        signer: Signer,
        clock: Clock,
        site: SiteSettings,
        languages: Mapping[str, LanguageSettings] | None = None,
    ) -> None:
        self.store = store
        self.signer = signer
        self.tokens = PreviewTokens(signer)
        self.clock = clock
        self.languages = Languages(site, languages)
        self.letters = PreviewLetters(site, languages)

    def embargoed(self, release_id: str, language: Language) -> StoredRelease:
        """The release waiting for its embargo, or PreviewRefused saying why not."""
        stored = self.store.releases.get(scoped(release_id, language.scope))
        if stored is None:
            raise PreviewRefused(f"no release {release_id!r} in {language.tag}")
        if stored.withdrawn_at is not None:
            raise PreviewRefused(f"release {release_id!r} is withdrawn")
        publish_at = stored.release.publish_at
        if stored.seq is not None or publish_at is None or publish_at <= self.clock.now():
            raise PreviewRefused(f"release {release_id!r} is already public: no embargo")
        return stored

    def issue(
        self,
        release_id: str,
        language: Language,
        until: dt.datetime | None = None,
        to: list[str] | tuple[str, ...] = (),
    ) -> Issued:
        """A signed link valid until the embargo lifts or `until`, whichever is first; its
        emails queued in the outbox. PreviewRefused names what is wrong."""
        stored = self.embargoed(release_id, language)
        embargo = stored.release.publish_at
        assert embargo is not None
        now = self.clock.now()
        if until is not None and until > embargo:
            raise PreviewRefused("--until: after the embargo lifts; leave it out to end then")
        if until is not None and until <= now:
            raise PreviewRefused("--until: in the past")
        expires = until or embargo
        epoch = self._epoch(stored.key)
        token = self.tokens.make(stored.key, expires, epoch)
        link = language.site.base_url + layout.release_preview(release_id, token)
        queued = 0
        if to:
            emails = self.letters.compose(
                stored.release, link, expires, list(to), self.signer, epoch
            )
            queued = self.store.outbox.enqueue(emails, now)
        return Issued(
            link, dt.datetime.fromtimestamp(int(expires.timestamp()), dt.UTC), embargo, queued
        )

    def revoke(self, release_id: str, language: Language) -> int:
        """Every link of the release stops working at once; its waiting emails are cancelled
        (their count returned): a journalist never gets a link that is already dead."""
        key = scoped(release_id, language.scope)
        if self.store.releases.get(key) is None:
            raise PreviewRefused(f"no release {release_id!r} in {language.tag}")
        self.store.releases.set_fact(epoch_fact(key), new_epoch())
        now, cancelled = self.clock.now(), 0
        outbox = self.store.outbox
        for delivery in outbox.list("pending", "email", limit=_WAITING_LOOKED_AT):
            if delivery.subject == subject_of(key) and delivery.payload.get("kind") == KIND:
                cancelled += outbox.cancel(delivery.id, now)
        return cancelled

    def _epoch(self, release_key: str) -> str:
        name = epoch_fact(release_key)
        epoch = self.store.releases.fact(name)
        if epoch is None:
            epoch = new_epoch()
            self.store.releases.set_fact(name, epoch)
        return epoch

    def verdict(self, release_key: str, token: str) -> Verdict:
        """What a request for the preview of `release_key` with `token` may see. Reads the
        store: call it off the event loop."""
        grant = self.tokens.read(token)
        if grant is None:
            return NOTHING
        epoch = self.store.releases.fact(epoch_fact(release_key))
        if not self.tokens.grants(grant, release_key, epoch):
            return NOTHING
        stored = self.store.releases.get(release_key)
        if stored is None or stored.withdrawn_at is not None:
            return NOTHING
        now = self.clock.now()
        embargo = stored.release.publish_at
        if stored.seq is not None or embargo is None or embargo <= now:
            return Verdict(Seen.PUBLIC, stored)  # its page is (or is about to be) public
        if grant.expires <= now:
            return NOTHING
        return Verdict(Seen.PAGE, stored, grant.expires)
