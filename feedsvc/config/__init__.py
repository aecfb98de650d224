"""config.toml -> typed, frozen settings (secrets from the environment).

`sections` says what each table means and checks its values; `loading` reads the file and
turns its TOML types into those sections (issue 13). Import from here.
"""

from feedsvc.config.alerts import AlertSettings
from feedsvc.config.languages import LanguageSettings
from feedsvc.config.loading import load_settings, settings_from_dict
from feedsvc.config.sections import (
    OPT_IN_EVENTS,
    SECRET_KEY_ENV,
    SMTP_PASSWORD_ENV,
    WEBHOOK_EVENTS,
    BuildSettings,
    DatabaseSettings,
    FeedsSettings,
    ItemsSettings,
    MailSettings,
    OutboxSettings,
    PagesSettings,
    Section,
    ServerSettings,
    Settings,
    ShareSettings,
    SiteSettings,
    WebhookSettings,
    WebSubSettings,
    database_url,
)

__all__ = [
    "OPT_IN_EVENTS",
    "SECRET_KEY_ENV",
    "SMTP_PASSWORD_ENV",
    "WEBHOOK_EVENTS",
    "AlertSettings",
    "BuildSettings",
    "DatabaseSettings",
    "FeedsSettings",
    "ItemsSettings",
    "LanguageSettings",
    "MailSettings",
    "OutboxSettings",
    "PagesSettings",
    "Section",
    "ServerSettings",
    "Settings",
    "ShareSettings",
    "SiteSettings",
    "WebSubSettings",
    "WebhookSettings",
    "database_url",
    "load_settings",
    "settings_from_dict",
]
