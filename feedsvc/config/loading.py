"""Reading config.toml: the file, its TOML types turned into the sections' types, and
messages that name the file and the key (issue 13: loading apart from what a section means).

Relative paths resolve against the folder of the config file.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any

from feedsvc.config.contacts import contacts_from_dict
from feedsvc.config.languages import languages_from_dict
from feedsvc.config.sections import (
    OPT_IN_EVENTS,
    WEBHOOK_EVENTS,
    Settings,
    WebhookSettings,
    is_http_url,
)
from feedsvc.errors import ConfigError

# Keys of config.toml that are Python keywords: (section, key) -> the field's name.
_KEY_NAMES = {("mail", "from"): "sender"}
# Upper case, as environment variable names are: a secret pasted here by mistake (mixed-case
# base64, "whsec_...") is refused instead of being taken for a name and logged.
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,63}$")
_SECTIONS: dict[str, Any] = {
    f.name: f.default_factory
    for f in fields(Settings)
    if f.name not in ("root", "webhooks", "languages", "contacts")
}
# In the order the one big check had (issue 13): with several mistakes, the same one is named.
_CHECKED = (
    "site",
    "items",
    "feeds",
    "pages",
    "mail",
    "websub",
    "server",
    "share",
    "outbox",
    "alerts",
)


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
        if name in ("webhooks", "languages", "contacts"):
            continue
        if name not in _SECTIONS:
            raise ConfigError(f"{source}: unknown section [{name}]")
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: [{name}] must be a table")
    for name in _SECTIONS:
        sections[name] = _build_section(name, raw.get(name, {}), root, source)
    webhooks = _webhooks(raw.get("webhooks", []), source)
    languages = languages_from_dict(raw.get("languages", {}), source)
    contacts = contacts_from_dict(raw.get("contacts", {}), source)
    settings = Settings(
        root=root, webhooks=webhooks, languages=languages, contacts=contacts, **sections
    )
    for name in _CHECKED:
        getattr(settings, name).validate(source)
    return settings


def _webhooks(raw: Any, source: str) -> tuple[WebhookSettings, ...]:
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        raise ConfigError(f"{source}: webhooks must be written as [[webhooks]] tables")
    endpoints = []
    for n, table in enumerate(raw, start=1):
        where = f"{source}: [[webhooks]] #{n}"
        unknown = set(table) - {"url", "secret_env", "events", "include_recipients"}
        if unknown:
            raise ConfigError(f"{where}: unknown key webhooks.{sorted(unknown)[0]}")
        url = table.get("url")
        if not isinstance(url, str) or not is_http_url(url):
            raise ConfigError(f"{where}: webhooks.url must be an absolute http(s) URL")
        secret_env = table.get("secret_env")
        if not isinstance(secret_env, str) or not _ENV_NAME.match(secret_env):
            raise ConfigError(
                f"{where}: webhooks.secret_env must name an environment variable holding "
                "the endpoint's whsec_... secret (the secret itself never goes in config.toml)"
            )
        events = table.get("events", list(WEBHOOK_EVENTS))
        if not isinstance(events, list) or not events:
            raise ConfigError(f"{where}: webhooks.events must be a list of event types")
        for event in events:
            if event not in WEBHOOK_EVENTS + OPT_IN_EVENTS:
                raise ConfigError(
                    f"{where}: webhooks.events: unknown event {event!r} "
                    f"(known: {', '.join(WEBHOOK_EVENTS + OPT_IN_EVENTS)})"
                )
        include = table.get("include_recipients", False)
        if not isinstance(include, bool):
            raise ConfigError(f"{where}: webhooks.include_recipients must be true or false")
        endpoints.append(WebhookSettings(url, secret_env, tuple(events), include))
    urls = [e.url for e in endpoints]
    if len(set(urls)) != len(urls):
        raise ConfigError(f"{source}: the same webhooks.url is configured twice")
    return tuple(endpoints)


def _build_section(name: str, values: dict[str, Any], root: Path, source: str) -> Any:
    cls = _SECTIONS[name]
    defaults = cls()
    kinds = {f.name: type(getattr(defaults, f.name)) for f in fields(defaults)}
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        written, key = key, _KEY_NAMES.get((name, key), key)
        renamed = {field for (section, _), field in _KEY_NAMES.items() if section == name}
        if key not in kinds or (written == key and key in renamed):
            raise ConfigError(f"{source}: unknown key {name}.{written}")
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
        elif kind is tuple:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{source}: {name}.{key} must be a list of strings")
            kwargs[key] = tuple(value)
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
