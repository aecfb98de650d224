"""What a change says to the world outside: webhook events and WebSub hub pings.

Called by the store inside the transaction that makes the change (Store.announce), so a
release is never published without its announcements queued, nor announced unpublished.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

from feedsvc import layout
from feedsvc.config import (
    OutboxSettings,
    Settings,
    SiteSettings,
    WebhookSettings,
    WebSubSettings,
)
from feedsvc.languages import Languages
from feedsvc.model import Changes, MediaRef, Outgoing, Release, ReleaseEvent, StoredRelease
from feedsvc.publishing.feed import as_uri
from feedsvc.publishing.media import ReleaseMedia, Variant
from feedsvc.publishing.site import WRITERS

if TYPE_CHECKING:
    from feedsvc.store import Store


class Announcer:
    def __init__(
        self,
        *,
        site: SiteSettings,
        webhooks: tuple[WebhookSettings, ...],
        websub: WebSubSettings,
        outbox: OutboxSettings,
        languages: Languages | None = None,
    ) -> None:
        self.site = site
        self.languages = languages or Languages(site)
        self.endpoints = webhooks
        self.hubs = websub.hubs
        self.max_age = dt.timedelta(days=outbox.announce_max_age_days)

    def __call__(
        self, changes: Changes, events: Iterable[ReleaseEvent], now: dt.datetime
    ) -> Iterator[Outgoing]:
        """The messages, one at a time: an archive import publishes a great many releases
        at once, and neither they nor their messages are ever held all together."""
        yield from self.webhooks(events, now)
        yield from self.hub_pings(changes, now)

    def webhooks(self, events: Iterable[ReleaseEvent], now: dt.datetime) -> Iterator[Outgoing]:
        if not self.endpoints:
            return  # the events (read from the store as they are taken) are left unread
        stamp = _iso(now)
        for event in events:
            if event.type == "release.published" and self._old_news(event.release, now):
                continue
            body = {"type": event.type, "timestamp": stamp, "data": self._data(event)}
            moment = event.release.withdrawn_at or event.release.updated
            for endpoint in self.endpoints:
                if event.type not in endpoint.events:
                    continue
                yield Outgoing(
                    channel="webhook",
                    target=endpoint.url,
                    payload=body,
                    key=f"{event.type} {event.release.key} {moment.isoformat()} {endpoint.url}",
                    subject=event.release.key,
                )

    def _old_news(self, stored: StoredRelease, now: dt.datetime) -> bool:
        """A release dated long before it appears (an archive being imported) is published
        quietly: its subscribers want news, not ten years of backlog."""
        return stored.release.published < now - self.max_age

    def _data(self, event: ReleaseEvent) -> dict[str, Any]:
        stored = event.release
        release = stored.release
        base = self._base_url(stored.scope)
        data: dict[str, Any] = {
            "id": release.id,
            "url": base + layout.release(release.id),
            "title": release.title,
        }
        if event.type == "release.withdrawn":
            data["withdrawn"] = _iso(stored.withdrawn_at)  # type: ignore[arg-type]
            return data
        data.update(
            section=release.section,
            language=release.language,
            summary=release.summary,
            published=_iso(release.published),
            updated=_iso(stored.updated),
        )
        data.update(self._files(release, base))
        return data

    def _base_url(self, scope: str | None) -> str:
        """Where the documents of a language scope live (issue 15)."""
        return self.site.base_url + layout.in_language(scope, "")

    def _files(self, release: Release, base: str) -> dict[str, Any]:
        """Its lead picture and attachments (issue 14), only when it has them: the payload
        of a release without files stays as it was."""
        files = dict[str, Any]()
        lead = release.lead_image
        if lead is not None:
            widest = _widest(lead)
            files["image"] = {
                "url": base + layout.release_file(release.id, widest.name),
                "width": widest.width,
                "height": widest.height,
                "alt": lead.alt,
            }
        if release.attachments:
            files["attachments"] = [
                {
                    "url": base + layout.release_file(release.id, ref.name),
                    "media_type": ref.media_type,
                    "size": ref.size,
                    "title": ref.title,
                }
                for ref in release.attachments
            ]
        return files

    def hub_pings(self, changes: Changes, now: dt.datetime) -> list[Outgoing]:
        """One ping per hub and changed feed (WebSub section 7). Only for changes a reader can
        see: an embargoed release stored early changes no feed."""
        hubs = self.hubs
        if not hubs or not changes.sections:  # no public feed changed
            return []
        return [
            Outgoing(
                channel="websub",
                target=hub,
                payload={"topic": topic},
                key=f"websub {hub} {topic} {now.isoformat()}",
                subject=topic,
            )
            for topic in self.topics(changes)
            for hub in hubs
        ]

    def topics(self, changes: Changes) -> list[str]:
        """The URLs of the feeds a change touched: the main feeds, its sections' and (issue
        17) its tags' feeds, in each language it touched (issue 15). Archive pages are not
        topics anyone subscribes to. `changes.tags` names only tags of public releases."""
        urls = []
        for language in self.languages:
            mine = changes.in_scope(language.scope)
            if not mine.sections:
                continue
            base = self._base_url(language.scope)
            paths = [layout.main_feed(writer.filename) for writer in WRITERS]
            for slug in sorted(mine.sections):
                paths += [layout.section_feed(slug, writer.filename) for writer in WRITERS]
            for slug in sorted(mine.tags):
                paths += [layout.tag_feed(slug, writer.filename) for writer in WRITERS]
            # A feed named in Chinese has two spellings of its self link: the IRI its body
            # gives and the URI its HTTP Link header must give (RFC 8288). A hub matches
            # topics as strings, so each is pinged: subscribers found it either way.
            for url in (base + path for path in paths):
                urls += [url] if url.isascii() else [url, as_uri(url)]
        return urls


def announcer_of(settings: Settings) -> Announcer:
    """The Announcer every composition root makes: the sections it reads (issue 13)."""
    return Announcer(
        site=settings.site,
        webhooks=settings.webhooks,
        websub=settings.websub,
        outbox=settings.outbox,
        languages=Languages(settings.site, settings.languages),
    )


def _widest(picture: MediaRef) -> Variant:
    """The widest width variant: what the picture's own name serves, at a URL that never
    changes meaning (a receiver may keep it)."""
    widths = [v for v in ReleaseMedia.variants(picture) if v.recipe and v.recipe.kind == "width"]
    return widths[-1]


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def announcing(store: Store, settings: Settings) -> None:
    """What a change of releases queues in its own transaction: webhooks and hub pings,
    and (issue 16) the email alerts of its subscribers. Here, not in feedsvc.service:
    `feedsvc build` wires it too, and importing the service cost its start ~0.1 s (issue 18).
    """
    store.announce = announcer_of(settings)
    if settings.alerts.enabled:
        max_age = dt.timedelta(days=settings.outbox.announce_max_age_days)
        store.releases.fan_out = partial(store.alerts.fan_out, max_age=max_age)
