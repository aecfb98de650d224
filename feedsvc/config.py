"""config.toml -> typed, frozen settings.

Every key has a default, so an empty file is a working configuration. Relative
paths resolve against the folder of the config file. Secrets never live here:
later issues read them from the environment.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from feedsvc.errors import ConfigError


@dataclass(frozen=True)
class SiteSettings:
    title: str = "Press Office"
    description: str = "Press releases"
    base_url: str = "http://127.0.0.1:8080/"
    id_authority: str = "example.org"
    id_date: str = "2020-01-01"  # a day the publisher owned id_authority (RFC 4151)
    language: str = "en"
    timezone: str = "UTC"
    author: str = "Press Office"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def base_path(self) -> str:
        """The path part of base_url, always ending in '/'."""
        return urlsplit(self.base_url).path or "/"


@dataclass(frozen=True)
class ItemsSettings:
    dir: Path = Path("items")
    default_time: str = "09:00"
    max_bytes: int = 1024 * 1024
    scan_seconds: int = 5  # `feedsvc serve` rescans the folder this often
    # A file is read once it is this old, or unchanged across two looks this far apart:
    # a file an editor or scp is still writing is never published half-written.
    settle_seconds: float = 0.5

    @property
    def default_clock_time(self) -> dt.time:
        return dt.time.fromisoformat(self.default_time)


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = "sqlite:///var/feedsvc.db"


@dataclass(frozen=True)
class FeedsSettings:
    limit: int = 50
    ttl_minutes: int = 15  # RSS <ttl>, and the HTTP max-age of feeds and pages
    archive_page_size: int = 100
    tombstone_days: int = 30
    summary_chars: int = 300


@dataclass(frozen=True)
class PagesSettings:
    per_page: int = 20


@dataclass(frozen=True)
class BuildSettings:
    out: Path = Path("public")


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    cache_dir: Path = Path("var/cache")
    memory_cache_mb: int = 64  # rendered documents kept in memory besides the hot ones
    access_log: bool = True
    watch: bool = True  # file-system events on top of the periodic scan


@dataclass(frozen=True)
class Settings:
    site: SiteSettings = field(default_factory=SiteSettings)
    items: ItemsSettings = field(default_factory=ItemsSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    feeds: FeedsSettings = field(default_factory=FeedsSettings)
    pages: PagesSettings = field(default_factory=PagesSettings)
    build: BuildSettings = field(default_factory=BuildSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    root: Path = Path(".")


_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_SECTIONS: dict[str, Any] = {
    f.name: f.default_factory for f in fields(Settings) if f.name != "root"
}


def load_settings(path: Path | str | None = None) -> Settings:
    """Read config.toml (or return the defaults when `path` is None)."""
    if path is None:
        return settings_from_dict({}, root=Path.cwd())
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    return settings_from_dict(raw, root=path.resolve().parent, source=str(path))


def settings_from_dict(raw: dict[str, Any], *, root: Path, source: str = "config") -> Settings:
    sections: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in _SECTIONS:
            raise ConfigError(f"{source}: unknown section [{name}]")
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: [{name}] must be a table")
    for name in _SECTIONS:
        sections[name] = _build_section(name, raw.get(name, {}), root, source)
    settings = _validate(Settings(root=root, **sections))
    if not 0 < settings.server.port < 65536:
        raise ConfigError(f"{source}: server.port must be between 1 and 65535")
    return settings


def _build_section(name: str, values: dict[str, Any], root: Path, source: str) -> Any:
    cls = _SECTIONS[name]
    defaults = cls()
    kinds = {f.name: type(getattr(defaults, f.name)) for f in fields(defaults)}
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in kinds:
            raise ConfigError(f"{source}: unknown key {name}.{key}")
        kind = kinds[key]
        if issubclass(kind, Path):
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{source}: {name}.{key} must be a path (a string)")
            path = Path(value).expanduser()
            kwargs[key] = path if path.is_absolute() else root / path
        elif kind is int:
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"{source}: {name}.{key} must be a whole number >= 0")
            kwargs[key] = value
        elif kind is float:
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"{source}: {name}.{key} must be a number >= 0")
            kwargs[key] = float(value)
        elif not isinstance(value, kind):
            raise ConfigError(f"{source}: {name}.{key} must be a {kind.__name__}")
        else:
            kwargs[key] = value
    for key, kind in kinds.items():
        if key not in kwargs and issubclass(kind, Path):
            kwargs[key] = root / getattr(defaults, key)
    return cls(**kwargs)


def _validate(s: Settings) -> Settings:
    try:
        s.site.tz  # noqa: B018 - resolving the zone is the check
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"site.timezone: unknown time zone {s.site.timezone!r}") from None
    base = urlsplit(s.site.base_url)
    if base.scheme not in ("http", "https") or not base.netloc or not s.site.base_url.endswith("/"):
        raise ConfigError("site.base_url must be an absolute http(s) URL ending in '/'")
    if not _DOMAIN.match(s.site.id_authority):
        raise ConfigError(
            "site.id_authority must be a domain name the publisher owns, e.g. 'example.org'"
        )
    try:
        dt.date.fromisoformat(s.site.id_date)
    except ValueError:
        raise ConfigError("site.id_date must be a date such as '2020-01-01'") from None
    if not _LANGUAGE.match(s.site.language):
        raise ConfigError("site.language must be a language tag such as 'en' or 'en-GB'")
    if not s.site.title.strip():
        raise ConfigError("site.title must not be empty")
    try:
        s.items.default_clock_time  # noqa: B018
    except ValueError:
        raise ConfigError("items.default_time must be a time such as '09:00'") from None
    for key, value in (
        ("feeds.limit", s.feeds.limit),
        ("feeds.archive_page_size", s.feeds.archive_page_size),
        ("pages.per_page", s.pages.per_page),
        ("items.max_bytes", s.items.max_bytes),
        ("feeds.summary_chars", s.feeds.summary_chars),
        ("feeds.ttl_minutes", s.feeds.ttl_minutes),
        ("items.scan_seconds", s.items.scan_seconds),
    ):
        if value < 1:
            raise ConfigError(f"{key} must be at least 1")
    return s


def database_url(s: Settings) -> str:
    """The database URL with a relative SQLite path resolved against the config folder."""
    url = s.database.url
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite://":
        rel = url[len(prefix) :]
        if rel and rel != ":memory:":
            return prefix + str((s.root / rel).resolve())
    return url
