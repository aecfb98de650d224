"""The sections of config.toml as typed, frozen settings, each checking its own values.

Every key has a default, so an empty file is a working configuration. Secrets never live
here: they are read from the environment (the variables named below).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from feedsvc.config.alerts import AlertSettings
from feedsvc.config.contacts import Contact
from feedsvc.config.languages import LANGUAGE_TAG, LanguageSettings
from feedsvc.errors import ConfigError


class Section:
    """A table of config.toml that checks its own values (issue 13): a component gets its
    section, never the whole Settings, so the section is where its rules live."""

    def validate(self, source: str) -> None:
        """Raise ConfigError naming the key of a value out of range. `source` (the file) is
        named only by the messages that always named it."""


@dataclass(frozen=True)
class SiteSettings(Section):
    title: str = "Press Office"
    description: str = "Press releases"
    base_url: str = "http://127.0.0.1:8080/"
    id_authority: str = "example.org"
    id_date: str = "2020-01-01"  # a day the publisher owned id_authority (RFC 4151)
    language: str = "en"
    timezone: str = "UTC"
    author: str = "Press Office"
    # Issue 17: the publisher's logo (schema.org NewsArticle `publisher.logo`): an absolute
    # http(s) URL or a path below base_url ("" : none); "About the press office", the
    # paragraph a press release ends with ("" : none).
    logo: str = ""
    boilerplate: str = ""

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def base_path(self) -> str:
        """The path part of base_url, always ending in '/'."""
        return urlsplit(self.base_url).path or "/"

    def validate(self, source: str) -> None:
        try:
            self.tz  # noqa: B018 - resolving the zone is the check
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"site.timezone: unknown time zone {self.timezone!r}") from None
        base = urlsplit(self.base_url)
        if (
            base.scheme not in ("http", "https")
            or not base.netloc
            or not self.base_url.endswith("/")
        ):
            raise ConfigError("site.base_url must be an absolute http(s) URL ending in '/'")
        if not _DOMAIN.match(self.id_authority):
            raise ConfigError(
                "site.id_authority must be a domain name the publisher owns, e.g. 'example.org'"
            )
        try:
            dt.date.fromisoformat(self.id_date)
        except ValueError:
            raise ConfigError("site.id_date must be a date such as '2020-01-01'") from None
        if not LANGUAGE_TAG.match(self.language):
            raise ConfigError("site.language must be a language tag such as 'en' or 'en-GB'")
        if self.logo and (
            any(c.isspace() for c in self.logo)
            or (":" in self.logo.split("/")[0] and not is_http_url(self.logo))
            or self.logo.startswith("//")
        ):
            raise ConfigError(
                "site.logo must be an absolute http(s) URL or a path below site.base_url"
            )
        if len(self.boilerplate) > 5000:
            raise ConfigError("site.boilerplate must be at most 5,000 characters")
        if not self.title.strip():
            raise ConfigError("site.title must not be empty")


@dataclass(frozen=True)
class ItemsSettings(Section):
    dir: Path = Path("items")
    default_time: str = "09:00"
    max_bytes: int = 1024 * 1024
    scan_seconds: int = 5  # `feedsvc serve` rescans the folder this often
    # A file is read once it is this old, or unchanged across two looks this far apart:
    # a file an editor or scp is still writing is never published half-written.
    settle_seconds: float = 0.5
    # Pictures' variants and attachments' copies (issue 14): shared by `serve` and `build`, so
    # each is made once, across restarts.
    media_cache_dir: Path = Path("var/media")
    max_media_bytes: int = 50_000_000  # a file a release names (issue 14): at most this
    # A picture over this many pixels is refused from its header, never decoded (issue 14:
    # a decompression bomb must not take the service's memory).
    max_image_pixels: int = 100_000_000
    # Pillow refuses to open more than twice its own MAX_IMAGE_PIXELS whatever we allow.
    MAX_IMAGE_PIXELS_CEILING: ClassVar[int] = 178_956_970

    @property
    def default_clock_time(self) -> dt.time:
        return dt.time.fromisoformat(self.default_time)

    def validate(self, source: str) -> None:
        try:
            self.default_clock_time  # noqa: B018
        except ValueError:
            raise ConfigError("items.default_time must be a time such as '09:00'") from None
        _at_least_one(
            self, "items", "max_bytes", "scan_seconds", "max_media_bytes", "max_image_pixels"
        )
        if self.max_image_pixels > self.MAX_IMAGE_PIXELS_CEILING:
            raise ConfigError(
                f"items.max_image_pixels can be at most {self.MAX_IMAGE_PIXELS_CEILING:,} "
                "(the most the image library opens)"
            )


@dataclass(frozen=True)
class DatabaseSettings(Section):
    url: str = "sqlite:///var/feedsvc.db"
    # Bring the schema up to date at start (Alembic). With several instances, set false
    # and run `feedsvc db upgrade` once per release of feedsvc.
    auto_upgrade: bool = True


@dataclass(frozen=True)
class FeedsSettings(Section):
    limit: int = 50
    ttl_minutes: int = 15  # RSS <ttl>, and the HTTP max-age of feeds and pages
    archive_page_size: int = 100
    tombstone_days: int = 30
    summary_chars: int = 300

    def validate(self, source: str) -> None:
        _at_least_one(self, "feeds", "limit", "archive_page_size", "summary_chars", "ttl_minutes")


@dataclass(frozen=True)
class PagesSettings(Section):
    per_page: int = 20

    def validate(self, source: str) -> None:
        _at_least_one(self, "pages", "per_page")


@dataclass(frozen=True)
class BuildSettings(Section):
    out: Path = Path("public")


@dataclass(frozen=True)
class ServerSettings(Section):
    host: str = "127.0.0.1"
    port: int = 8080
    cache_dir: Path = Path("var/cache")
    memory_cache_mb: int = 64  # rendered documents kept in memory besides the hot ones
    access_log: bool = True
    watch: bool = True  # file-system events on top of the periodic scan
    readers_flush_seconds: int = 60  # feed fetchers counted in memory, stored this often
    # Proxies (addresses or networks) whose X-Forwarded-For names the client; none: the
    # client is the socket's peer, and X-Forwarded-For is ignored.
    trusted_proxies: tuple[str, ...] = ()
    # Clients (addresses or networks) that may read /metrics; others get a 404. It tells
    # more than a bot should know (issue 11: which of its shares fell into the honeypot).
    metrics_allow: tuple[str, ...] = ("127.0.0.0/8", "::1")
    # The key that signs form tokens and unsubscribe links when FEEDSVC_SECRET_KEY is not
    # set: made on first start, readable by its owner only.
    secret_key_file: Path = Path("var/secret_key")

    def validate(self, source: str) -> None:
        for key, nets in (
            ("server.trusted_proxies", self.trusted_proxies),
            ("server.metrics_allow", self.metrics_allow),
        ):
            for net in nets:
                try:
                    ipaddress.ip_network(net, strict=False)
                except ValueError:
                    raise ConfigError(f"{key}: {net!r} is not an address or network") from None
        if not 0 < self.port < 65536:
            raise ConfigError(f"{source}: server.port must be between 1 and 65535")


@dataclass(frozen=True)
class ShareSettings(Section):
    enabled: bool = True  # the share form and API; the mailto: link is always there
    max_recipients: int = 3
    message_max_chars: int = 500
    min_fill_seconds: float = 3.0  # a form sent sooner than this after it was served is a bot
    token_max_age_seconds: int = 3600  # a form token is good this long, and once
    per_ip_per_hour: int = 10
    per_recipient_per_day: int = 3
    per_sender_per_day: int = 10  # by the sharer's own address, when they give one
    global_per_hour: int = 1000
    retention_days: int = 30  # then names, addresses, messages and IP hashes are erased

    def validate(self, source: str) -> None:
        _at_least_one(
            self,
            "share",
            "max_recipients",
            "message_max_chars",
            "token_max_age_seconds",
            "retention_days",
        )
        if self.min_fill_seconds >= self.token_max_age_seconds:
            raise ConfigError(
                "share.min_fill_seconds must be less than share.token_max_age_seconds"
            )


@dataclass(frozen=True)
class MailSettings(Section):
    transport: str = "maildir"  # or "smtp"
    maildir: Path = Path("var/mail")  # where the maildir transport drops each message
    # The From address, `from` in config.toml; "" is "<site.title> <noreply@<id_authority>>".
    sender: str = ""
    smtp_host: str = "localhost"
    smtp_port: int = 587
    smtp_security: str = "starttls"  # "starttls", "ssl" (SMTPS) or "none" (loopback only)
    smtp_username: str = ""  # the password is read from FEEDSVC_SMTP_PASSWORD, never here
    smtp_timeout_seconds: float = 30.0
    smtp_connections: int = 2  # sent side by side, each connection kept open for a batch
    # Relays cap senders (issue 16): at most this many emails a second from this instance,
    # shares and alerts together (0: no cap).
    max_per_second: float = 0.0

    @property
    def smtp_password(self) -> str | None:
        return os.environ.get(SMTP_PASSWORD_ENV)

    def validate(self, source: str) -> None:
        if self.transport not in ("maildir", "smtp"):
            raise ConfigError('mail.transport must be "maildir" or "smtp"')
        if self.smtp_security not in ("starttls", "ssl", "none"):
            raise ConfigError('mail.smtp_security must be "starttls", "ssl" or "none"')
        if self.smtp_security == "none" and not is_loopback(self.smtp_host):
            raise ConfigError(
                'mail.smtp_security = "none" is allowed only to a loopback smtp_host: '
                "anything else would send passwords and mail in clear text"
            )
        if self.sender and not _ADDRESS.search(self.sender):
            raise ConfigError(
                "mail.from must be an address such as 'Press Office <press@example.org>'"
            )
        _more_than_zero(self, "mail", "smtp_connections")


@dataclass(frozen=True)
class WebSubSettings(Section):
    hubs: tuple[str, ...] = ()  # hub URLs pinged (hub.mode=publish) when a feed changes

    def validate(self, source: str) -> None:
        for hub in self.hubs:
            if not is_http_url(hub):
                raise ConfigError(f"websub.hubs: {hub!r} is not an absolute http(s) URL")


@dataclass(frozen=True)
class OutboxSettings(Section):
    tick_seconds: float = 2.0  # the dispatcher looks for due deliveries this often
    lease_seconds: int = 300  # a claimed delivery not recorded by then is claimed again
    batch: int = 50  # deliveries claimed at once
    webhook_timeout_seconds: float = 10.0  # per attempt, at most 15
    webhook_disable_after_days: float = 5.0  # an endpoint failing this long is disabled
    allow_private_targets: bool = False  # http and loopback/private addresses (development)
    announce_max_age_days: float = 7.0  # older releases appear without a release.published
    keep_days: int = 30  # delivered, cancelled and dead deliveries are purged after this

    def validate(self, source: str) -> None:
        if not 0 < self.webhook_timeout_seconds <= 15:
            raise ConfigError("outbox.webhook_timeout_seconds must be more than 0 and at most 15")
        _more_than_zero(self, "outbox", "tick_seconds", "lease_seconds", "batch")


WEBHOOK_EVENTS = ("release.published", "release.updated", "release.withdrawn")
# Sent only to endpoints that list them in `events`.
OPT_IN_EVENTS = ("share.created",)
SECRET_KEY_ENV = "FEEDSVC_SECRET_KEY"


@dataclass(frozen=True)
class WebhookSettings:
    url: str
    secret_env: str  # the variable holding the endpoint's whsec_... secret(s)
    events: tuple[str, ...] = WEBHOOK_EVENTS
    # share.created carries the recipients' addresses only to an endpoint that says so.
    include_recipients: bool = False

    @property
    def secrets(self) -> tuple[str, ...]:
        """The endpoint's secrets, newest first: while a secret rotates the variable holds
        the new one and the old one, separated by a space, and messages carry both
        signatures."""
        return tuple(os.environ.get(self.secret_env, "").split())


@dataclass(frozen=True)
class Settings:
    site: SiteSettings = field(default_factory=SiteSettings)
    items: ItemsSettings = field(default_factory=ItemsSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    feeds: FeedsSettings = field(default_factory=FeedsSettings)
    pages: PagesSettings = field(default_factory=PagesSettings)
    build: BuildSettings = field(default_factory=BuildSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    mail: MailSettings = field(default_factory=MailSettings)
    websub: WebSubSettings = field(default_factory=WebSubSettings)
    outbox: OutboxSettings = field(default_factory=OutboxSettings)
    share: ShareSettings = field(default_factory=ShareSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    webhooks: tuple[WebhookSettings, ...] = ()
    # Issue 15: [languages.<tag>] tables, by canonical tag (config/languages.py).
    languages: Mapping[str, LanguageSettings] = field(default_factory=dict)
    # Issue 17: [contacts.<name>] tables, by name (config/contacts.py).
    contacts: Mapping[str, Contact] = field(default_factory=dict)
    root: Path = Path(".")

    @property
    def mail_sender(self) -> str:
        return self.mail.sender or f"{self.site.title} <noreply@{self.site.id_authority}>"


_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
SMTP_PASSWORD_ENV = "FEEDSVC_SMTP_PASSWORD"


def _at_least_one(section: Section, name: str, *keys: str) -> None:
    for key in keys:
        if getattr(section, key) < 1:
            raise ConfigError(f"{name}.{key} must be at least 1")


def _more_than_zero(section: Section, name: str, *keys: str) -> None:
    for key in keys:
        if getattr(section, key) <= 0:
            raise ConfigError(f"{name}.{key} must be more than 0")


_ADDRESS = re.compile(r"[^@\s<>]+@[^@\s<>]+")


# Hub URLs go into Link headers and XML attributes: no room for spaces, quotes or brackets.
_URL_UNSAFE = re.compile(r'[\x00-\x20\x7f"<>\\^`{|}]')


def is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a bad port raises
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https") and bool(parts.hostname) and not _URL_UNSAFE.search(url)
    )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def database_url(s: Settings) -> str:
    """The database URL with a relative SQLite path resolved against the config folder."""
    url = s.database.url
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite://":
        rel = url[len(prefix) :]
        if rel and rel != ":memory:":
            return prefix + str((s.root / rel).resolve())
    return url
