"""The live service: one store, one document cache, and the jobs that keep them current.

The database is the truth; the scheduler only ticks. Every job is safe to run at any time
and as often as it likes: a scan ingests what settled, publish_due publishes what fell due.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Collection
from dataclasses import dataclass
from functools import partial
from urllib.parse import urlsplit

from sqlalchemy import text

from feedsvc.alerts.desk import SubscribeDesk
from feedsvc.alerts.digests import DIGEST_FREQUENCIES, DigestRun, run_digest
from feedsvc.announce import announcing
from feedsvc.build import release_media, site_of
from feedsvc.channels import Channel
from feedsvc.clock import Clock, SystemClock
from feedsvc.config import Settings
from feedsvc.hot_worker import HotRenderer
from feedsvc.ingest import store_files
from feedsvc.languages import Languages
from feedsvc.model import Changes
from feedsvc.outbox.dispatcher import LANES, Dispatcher, Report
from feedsvc.own_changes import logged_by
from feedsvc.privacy import private_folder
from feedsvc.publishing.cache import DocumentCache
from feedsvc.publishing.file_lookup import FileLookup
from feedsvc.publishing.hot import render_hot
from feedsvc.publishing.pages import keep_compiled_templates
from feedsvc.scanner import Look, Scanner
from feedsvc.sharing.desk import ShareDesk
from feedsvc.sharing.keys import Signer, load_key
from feedsvc.store import Store, open_store
from feedsvc.store.leader import Leadership
from feedsvc.web.metrics import Metrics
from feedsvc.web.readers import FeedReaders

log = logging.getLogger("feedsvc")


@dataclass(frozen=True)
class Tick:
    changes: Changes
    unsettled: int = 0


class Service:
    def __init__(
        self,
        settings: Settings,
        clock: Clock | None = None,
        channels: dict[str, Channel] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        # The service's private state (var/ by default: the key, the rendered cache, and on
        # SQLite the database and the maildir) is its owner's only, whatever the database.
        private_folder(settings.server.secret_key_file.parent)
        private_folder(settings.server.cache_dir)
        keep_compiled_templates(settings.server.cache_dir / "templates")
        self.store = open_store(settings)
        announcing(self.store, settings)
        self.signer = Signer(load_key(settings))
        self.dispatcher = dispatcher(settings, self.store, self.clock, channels, self.signer)
        # Releases' files (issue 14): variants made once, in a folder `build` shares.
        self.media = release_media(settings)
        self.site = site_of(settings, self.store.releases, self.clock, self.media)
        self.cache = DocumentCache(
            self.site,
            self.store.releases,
            settings.server.cache_dir,
            memory_bytes=settings.server.memory_cache_mb << 20,
        )
        self.files = FileLookup(self.cache, self.media)
        self.scanner = Scanner(
            settings.items, self.store, partial(store_files, settings, self.store, self.clock)
        )
        self.desk = ShareDesk(
            self.store,
            self.signer,
            self.clock,
            rules=settings.share,
            site=settings.site,
            webhooks=settings.webhooks,
            languages=settings.languages,
        )
        # Issue 16: the subscribe form's desk (tokens, limits, confirm/manage links).
        self.alerts_desk = SubscribeDesk(
            self.store,
            self.signer,
            self.clock,
            rules=settings.alerts,
            site=settings.site,
            languages=Languages(settings.site, settings.languages),
        )
        self.metrics = self._metrics()
        # Who reads the feeds (issue 12 item 11): gathered by the web app, stored by a job.
        self.readers = FeedReaders(lambda client: self.signer.digest("feed-client", client)[:32])
        self.reader_store = self.store.readers
        self.leadership = Leadership(self.store.engine)
        self._generation = 0  # the last change-log entry this cache reflects
        self._own: set[int] = set()  # entries this instance wrote (already applied)
        self._lock = threading.Lock()  # one change at a time, whichever job makes it
        self._sending = threading.Lock()  # held while the dispatcher runs
        self._renderer: HotRenderer | None = None

    def render_apart(self) -> None:
        """Render each change's hot documents in a renderer process (issue 18 item 5): the
        live service's choice (Schedule.start), so readers never wait for a change."""
        if self._renderer is None:
            max_age = self.cache.max_age
            here = partial(render_hot, self.site, max_age=max_age)
            self._renderer = HotRenderer(self.settings, here)
            self.cache.renderer = self._renderer

    def _metrics(self) -> Metrics:
        """What /metrics reads, each from the part that knows it."""
        metrics = Metrics()
        metrics.gauges["feedsvc_releases_published"] = lambda: len(self.cache.tokens)
        metrics.gauges["feedsvc_release_files_with_problems"] = lambda: len(self.scanner.problems)
        metrics.shares = lambda: self.desk.counts
        metrics.gauges["feedsvc_shares_stored"] = lambda: self.desk.totals()[0]
        metrics.gauges["feedsvc_share_clicks_stored"] = lambda: self.desk.totals()[1]
        metrics.deliveries = lambda: self.dispatcher.totals
        metrics.outbox_depth = self.store.outbox.counts
        metrics.gauges["feedsvc_webhook_endpoints_disabled"] = self.store.outbox.disabled_endpoints
        if self.settings.alerts.enabled:  # issue 16
            metrics.subscribers = self.store.subscribers.counts
            metrics.alerts = lambda: self.alerts_desk.counts
        return metrics

    def start(self) -> None:
        """Catch up with the folder and the clock (when leading), then fill the cache."""
        self._warn_missing_secrets()
        with self._lock:
            look = None
            if self.leadership.held():
                look = self._look()
                # Releases that fell due while the service was down.
                self.store.releases.publish_due(self.clock.now())
            self._generation = self.store.releases.generation()
            self.cache.load()
        if look is not None:
            self._report(look.changes)

    def follow(self) -> Changes:
        """Apply what other instances (or `feedsvc build`) changed since the last look."""
        seen = Changes()
        for changes in self.store.releases.changes_since(self._generation):
            self._generation = changes.generation
            if changes.generation in self._own:
                self._own.discard(changes.generation)
                continue
            self.desk.forget()
            self.cache.apply(changes)
            seen.merge(changes)
        return seen

    def _warn_missing_secrets(self) -> None:
        # Deliveries wait (and retry) rather than die for these: say so once, loudly.
        for endpoint in self.settings.webhooks:
            if not endpoint.secrets:
                log.warning(
                    "webhook %s: the environment variable %s is not set; its deliveries "
                    "wait until it is",
                    endpoint.url,
                    endpoint.secret_env,
                )
        site = self.settings.site
        host = urlsplit(site.base_url).hostname or ""
        local = host == "localhost" or host.startswith("127.") or host == "::1"
        if self.settings.share.enabled and not site.base_url.startswith("https://") and not local:
            log.warning(
                "site.base_url is not https: the one-click unsubscribe link of share emails "
                "(RFC 8058) needs https, and mail programs may not offer it"
            )
        mail = self.settings.mail
        if mail.transport == "smtp" and mail.smtp_username and mail.smtp_password is None:
            log.warning("mail: smtp_username is set but FEEDSVC_SMTP_PASSWORD is not; emails wait")

    def scan(self, full: bool = True, changed: Collection[str] | None = None) -> Tick:
        """The leader looks at items/; every instance applies what others changed. Without
        `full` (a quiet tick while the file watcher runs), only the latter, unless this
        instance never looked (it has just become the leader). `changed`: the files the
        watcher saw change (relative to items/), all the look needs; None: the folder."""
        with self._lock:
            self.follow()
            if not self.leadership.held():
                return Tick(Changes())
            if not full and self.scanner.known is not None:
                return Tick(Changes())
            look = self._look(changed)
            self._applied(look.changes)
        self._report(look.changes)
        return Tick(look.changes, look.unsettled)

    def _applied(self, changes: Changes) -> None:
        if changes:
            # Before the cache: no moment where a page says 410 and the share API still
            # remembers the release as visible.
            self.desk.forget()
            # Issue 18 item 5: the log entries this change stands for (own_changes.py).
            self._own |= logged_by(self.store.releases, self._generation, changes)
        self.cache.apply(changes)

    def _look(self, changed: Collection[str] | None = None) -> Look:
        look = self.scanner.look(changed)
        for problem in look.new_problems:
            log.warning("%s", problem)
        self.metrics.read_errors += len(look.new_problems)
        return look

    def _report(self, changes: Changes) -> None:
        if not changes:
            return
        # A release accepted under embargo is neither published nor updated for readers
        # yet: the operator is told when it goes live (issue 12).
        accepted = {*changes.added, *changes.updated}
        scheduled = (
            [s for s in self.store.releases.scheduled() if s.id in accepted] if accepted else []
        )
        log.info(
            "published %d, updated %d, withdrawn %d, scheduled %d",
            len(changes.published),
            len(changes.updated),
            len(changes.withdrawn),
            len(scheduled),
        )
        site = self.settings.site
        for release in scheduled:
            local = release.publish_at.astimezone(site.tz)
            log.info(
                "scheduled: %s at %s %s (%s)",
                release.id,
                f"{local:%Y-%m-%d %H:%M}",
                local.isoformat()[-6:],
                site.timezone,
            )

    def publish_due(self) -> Tick:
        with self._lock:
            if not self.leadership.held():
                return Tick(Changes())
            changes = self.store.releases.publish_due(self.clock.now())
            self._applied(changes)
        if changes:
            log.info("embargo lifted: %s", ", ".join(changes.published))
        return Tick(changes)

    def dispatch(self, stop: threading.Event | None = None) -> Report:
        """Send the deliveries that are due (a bounded while; the next tick goes on)."""
        with self._sending:
            return self.dispatcher.run(stop=stop)

    def purge(self) -> int:
        self.store.releases.forget_changes(self.clock.now() - dt.timedelta(days=1))
        self.reader_store.purge(self.clock.now())
        return self._purge()

    def flush_readers(self) -> int:
        """Store the feed fetchers counted since the last flush: one write, not one a request."""
        return self.readers.flush(self.reader_store)

    def _purge(self) -> int:
        """Forget deliveries that ended (delivered, cancelled, dead) more than
        outbox.keep_days ago, and erase what names a person in shares, and in deliveries
        that ended, older than share.retention_days."""
        now = self.clock.now()
        purged = self.store.outbox.purge(now - dt.timedelta(days=self.settings.outbox.keep_days))
        if purged:
            log.info("purged %d old deliveries", purged)
        shares, erased = self.desk.erase_expired(now)
        if shares or erased:
            log.info("erased the personal data of %d shares and %d deliveries", shares, erased)
        # Issue 16: requests never confirmed are erased once their link no longer works;
        # the form's limits look back a day.
        alerts = self.settings.alerts
        unconfirmed = self.store.subscribers.forget_unconfirmed(
            now - dt.timedelta(days=alerts.confirm_days)
        )
        if unconfirmed:
            log.info("erased %d subscribe requests never confirmed", unconfirmed)
        self.store.alerts.forget_requests(now - dt.timedelta(days=1))
        return purged

    def digests(self) -> list[DigestRun]:
        """Queue the digests that are due (issue 16): the latest daily and weekly period
        whose time has come, unless queued already; so a period missed while the service
        was down is caught up at the first look after start. The leader's job."""
        if not self.settings.alerts.enabled or not self.leadership.held():
            return []
        now, rules, tz = self.clock.now(), self.settings.alerts, self.settings.site.tz
        runs = [run_digest(self.store, f, now, rules, tz) for f in DIGEST_FREQUENCIES]
        done = [run for run in runs if not run.already]
        for run in done:
            self.metrics.digests_queued(run.frequency, run.queued)
        return done

    def read_bounces(self) -> dict[str, int]:
        """Read what the relay delivered to alerts.bounce_maildir (issue 16): bounces count
        towards a subscriber's suspension, a complaint unsubscribes. The leader's job."""
        alerts = self.settings.alerts
        folder = alerts.bounce_folder(self.settings.root)
        if folder is None or not alerts.enabled or not self.leadership.held():
            return {}
        from feedsvc.alerts.bounce_job import read_bounces
        from feedsvc.alerts.tokens import verp_key

        domain = alerts.bounce_domain or self.settings.site.id_authority
        counts = read_bounces(
            folder, self.store, verp_key(self.signer), domain, alerts, self.clock.now()
        )
        self.metrics.bounces_read(counts)
        return counts

    def next_embargo(self) -> dt.datetime | None:
        return self.store.releases.next_embargo()

    def healthy(self) -> bool:
        with self.store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True

    def close(self) -> None:
        self.desk.close()  # shares accepted so far are stored before the store closes
        # A job still running finishes first: its change, or the send it is in.
        with self._lock, self._sending:
            try:
                self.flush_readers()
            except Exception as e:  # the database is out: what was counted since is lost
                log.warning("feed readers not stored at shutdown: %s", e)
            self.leadership.release()
            if self._renderer is not None:
                self._renderer.close()
            self.cache.close()
            self.store.close()


def channels(
    settings: Settings, clock: Clock, store: Store | None = None, signer: Signer | None = None
) -> dict[str, Channel]:
    """The channels the dispatcher sends through; with a store, the alert channel too (it
    composes each alert from the store when it is sent, issue 16)."""
    from feedsvc.channels.email import Letterhead
    from feedsvc.channels.mail import email_channel
    from feedsvc.channels.webhook import WebhookChannel
    from feedsvc.channels.websub import WebSubChannel

    email = email_channel(settings.mail, Letterhead.of(settings))
    out: dict[str, Channel] = {
        "email": email,
        "webhook": WebhookChannel(settings.outbox, settings.webhooks, clock=clock),
        "websub": WebSubChannel(settings.outbox, settings.websub.hubs, clock=clock),
    }
    if store is not None:
        from feedsvc.channels.alert import alert_channel

        signer = signer or Signer(load_key(settings))
        # Its own SMTP connections: an alert lane and a share lane never share a session.
        mail = email_channel(settings.mail, Letterhead.of(settings))
        out["alert"] = alert_channel(settings, store, signer, mail, clock)
    return out


def dispatcher(
    settings: Settings,
    store: Store,
    clock: Clock,
    with_channels: dict[str, Channel] | None = None,
    signer: Signer | None = None,
) -> Dispatcher:
    outbox, mail = settings.outbox, settings.mail
    return Dispatcher(
        store.outbox,
        channels(settings, clock, store, signer) if with_channels is None else with_channels,
        clock,
        batch=outbox.batch,
        lease=dt.timedelta(seconds=outbox.lease_seconds),
        disable_after=dt.timedelta(days=outbox.webhook_disable_after_days),
        lanes={**LANES, "email": mail.smtp_connections, "alert": mail.smtp_connections},
        max_per_second=mail.max_per_second,
    )
