"""Each section of config.toml refuses its own bad values (issue 13 item 4), with the
message it always gave: one case a check, so removing any check fails a case."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedsvc.config import (
    ItemsSettings,
    MailSettings,
    ServerSettings,
    ShareSettings,
    SiteSettings,
    settings_from_dict,
)
from feedsvc.errors import ConfigError

BASE_URL = "site.base_url must be an absolute http(s) URL ending in '/'"
TIMEOUT = "outbox.webhook_timeout_seconds must be more than 0 and at most 15"
# (section, values, the whole message)
CASES = [
    ("site", {"timezone": "Mars/Olympus"}, "site.timezone: unknown time zone 'Mars/Olympus'"),
    (
        "site",
        {"base_url": "ftp://x.org/"},
        "site.base_url must be an absolute http(s) URL ending in '/'",
    ),
    ("site", {"base_url": "https://x.org/news"}, BASE_URL),
    (
        "site",
        {"id_authority": "localhost"},
        "site.id_authority must be a domain name the publisher owns, e.g. 'example.org'",
    ),
    ("site", {"id_date": "yesterday"}, "site.id_date must be a date such as '2020-01-01'"),
    (
        "site",
        {"language": "english!"},
        "site.language must be a language tag such as 'en' or 'en-GB'",
    ),
    ("site", {"title": "  "}, "site.title must not be empty"),
    ("items", {"default_time": "nine"}, "items.default_time must be a time such as '09:00'"),
    ("items", {"max_bytes": 0}, "items.max_bytes must be at least 1"),
    ("items", {"scan_seconds": 0}, "items.scan_seconds must be at least 1"),
    ("items", {"max_media_bytes": 0}, "items.max_media_bytes must be at least 1"),
    ("items", {"max_image_pixels": 0}, "items.max_image_pixels must be at least 1"),
    (
        "items",
        {"max_image_pixels": 178_956_971},
        "items.max_image_pixels can be at most 178,956,970 (the most the image library opens)",
    ),
    ("feeds", {"limit": 0}, "feeds.limit must be at least 1"),
    ("feeds", {"archive_page_size": 0}, "feeds.archive_page_size must be at least 1"),
    ("feeds", {"summary_chars": 0}, "feeds.summary_chars must be at least 1"),
    ("feeds", {"ttl_minutes": 0}, "feeds.ttl_minutes must be at least 1"),
    ("pages", {"per_page": 0}, "pages.per_page must be at least 1"),
    ("mail", {"transport": "pigeon"}, 'mail.transport must be "maildir" or "smtp"'),
    (
        "mail",
        {"smtp_security": "tls"},
        'mail.smtp_security must be "starttls", "ssl" or "none"',
    ),
    (
        "mail",
        {"smtp_security": "none", "smtp_host": "mail.example.org"},
        'mail.smtp_security = "none" is allowed only to a loopback smtp_host: '
        "anything else would send passwords and mail in clear text",
    ),
    (
        "mail",
        {"from": "Press Office"},
        "mail.from must be an address such as 'Press Office <press@example.org>'",
    ),
    ("mail", {"smtp_connections": 0}, "mail.smtp_connections must be more than 0"),
    (
        "websub",
        {"hubs": ["hub.example.org"]},
        "websub.hubs: 'hub.example.org' is not an absolute http(s) URL",
    ),
    (
        "server",
        {"trusted_proxies": ["10.0.0.300"]},
        "server.trusted_proxies: '10.0.0.300' is not an address or network",
    ),
    (
        "server",
        {"metrics_allow": ["everyone"]},
        "server.metrics_allow: 'everyone' is not an address or network",
    ),
    ("server", {"port": 0}, "config: server.port must be between 1 and 65535"),
    ("server", {"port": 65536}, "config: server.port must be between 1 and 65535"),
    ("share", {"max_recipients": 0}, "share.max_recipients must be at least 1"),
    ("share", {"message_max_chars": 0}, "share.message_max_chars must be at least 1"),
    ("share", {"token_max_age_seconds": 0}, "share.token_max_age_seconds must be at least 1"),
    ("share", {"retention_days": 0}, "share.retention_days must be at least 1"),
    (
        "share",
        {"min_fill_seconds": 60, "token_max_age_seconds": 60},
        "share.min_fill_seconds must be less than share.token_max_age_seconds",
    ),
    (
        "outbox",
        {"webhook_timeout_seconds": 0},
        TIMEOUT,
    ),
    ("outbox", {"webhook_timeout_seconds": 15.5}, TIMEOUT),
    ("outbox", {"tick_seconds": 0}, "outbox.tick_seconds must be more than 0"),
    ("outbox", {"lease_seconds": 0}, "outbox.lease_seconds must be more than 0"),
    ("outbox", {"batch": 0}, "outbox.batch must be more than 0"),
]


@pytest.mark.parametrize(("section", "values", "message"), CASES)
def test_a_section_refuses_its_bad_value_with_its_message(
    tmp_path: Path, section: str, values: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        settings_from_dict({section: values}, root=tmp_path)
    assert str(refused.value) == message


@pytest.mark.parametrize(("section", "values", "message"), CASES)
def test_the_edge_values_are_accepted(
    tmp_path: Path, section: str, values: dict[str, object], message: str
) -> None:
    # The same key one step inside its range passes: each check refuses only what it names.
    del message
    good = {
        "timezone": "Europe/Zurich",
        "base_url": "https://x.org/news/",
        "id_authority": "press.example.org",
        "id_date": "2021-02-03",
        "language": "de-CH",
        "title": "T",
        "default_time": "07:30",
        "transport": "smtp",
        "smtp_security": "ssl",
        "from": "P <p@example.org>",
        "hubs": ["https://hub.example.org/"],
        "trusted_proxies": ["10.0.0.0/8"],
        "metrics_allow": ["::1"],
        "port": 65535,
        "min_fill_seconds": 59,
        "webhook_timeout_seconds": 15,
        "token_max_age_seconds": 4,  # more than the default min_fill_seconds
    }
    fixed = {key: good.get(key, 1) for key in values}
    if section == "mail" and "smtp_host" in values:
        fixed = {"smtp_security": "none", "smtp_host": "127.0.0.1"}
    if section == "share" and "min_fill_seconds" in values:
        fixed = {"min_fill_seconds": 59, "token_max_age_seconds": 60}
    settings_from_dict({section: fixed}, root=tmp_path)


def test_several_mistakes_name_the_first_section_in_order(tmp_path: Path) -> None:
    raw = {"outbox": {"batch": 0}, "site": {"title": ""}, "mail": {"transport": "x"}}
    with pytest.raises(ConfigError, match=r"^site\.title"):
        settings_from_dict(raw, root=tmp_path)


def test_a_section_checks_itself_without_the_loader() -> None:
    # What a component is given is checkable on its own (issue 13): no whole Settings needed.
    for section in (SiteSettings(), ItemsSettings(), MailSettings(), ShareSettings()):
        section.validate("config.toml")
    with pytest.raises(ConfigError, match=r"^share\.min_fill_seconds must be less"):
        ShareSettings(min_fill_seconds=5, token_max_age_seconds=5).validate("config.toml")
    with pytest.raises(ConfigError, match=r"^config\.toml: server\.port must be between"):
        ServerSettings(port=70000).validate("config.toml")
