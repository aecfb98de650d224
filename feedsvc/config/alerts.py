"""[alerts]: email alerts that people subscribe to (issue 16)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from feedsvc.errors import ConfigError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class AlertSettings:
    enabled: bool = True  # the subscribe form and API, and the alerts sent
    confirm_days: int = 7  # a confirmation link is good this long; then the request is erased
    daily_at: str = "08:00"  # daily digests, in site.timezone
    weekly_day: str = "monday"  # weekly digests, that day at daily_at
    max_hard_bounces: int = 1  # a subscriber is suspended after this many hard bounces
    max_soft_bounces: int = 5  # ... or this many soft ones
    # A maildir the relay delivers bounces and complaint reports to ("": none is read),
    # relative to the config file's folder.
    bounce_maildir: str = ""
    bounce_seconds: int = 60  # the bounce maildir is read this often
    # The domain of the VERP return path (bounces+<id>-<mac>@<domain>); "": site.id_authority.
    bounce_domain: str = ""
    # The subscribe form's guards, as the share form's (issue 16: never a way to mail
    # strangers): a token good once, after min_fill_seconds and before token_max_age_seconds.
    min_fill_seconds: float = 3.0
    token_max_age_seconds: int = 3600
    per_ip_per_hour: int = 10  # subscribe requests from one client
    per_address_per_day: int = 2  # confirmation emails one address is sent
    global_per_hour: int = 1000  # subscribe requests of everyone together
    max_sections: int = 50  # sections one subscription follows at most

    @property
    def daily_time(self) -> dt.time:
        return dt.time.fromisoformat(self.daily_at)

    @property
    def weekday(self) -> int:
        """Monday is 0, as datetime.weekday()."""
        return WEEKDAYS.index(self.weekly_day.lower())

    def bounce_folder(self, root: Path) -> Path | None:
        if not self.bounce_maildir:
            return None
        path = Path(self.bounce_maildir).expanduser()
        return path if path.is_absolute() else root / path

    def validate(self, source: str) -> None:
        try:
            self.daily_time  # noqa: B018 - parsing is the check
        except ValueError:
            raise ConfigError("alerts.daily_at must be a time such as '08:00'") from None
        if self.weekly_day.lower() not in WEEKDAYS:
            raise ConfigError(f"alerts.weekly_day must be one of {', '.join(WEEKDAYS)}")
        for key in (
            "confirm_days",
            "max_hard_bounces",
            "max_soft_bounces",
            "bounce_seconds",
            "token_max_age_seconds",
            "max_sections",
        ):
            if getattr(self, key) < 1:
                raise ConfigError(f"alerts.{key} must be at least 1")
        if self.min_fill_seconds >= self.token_max_age_seconds:
            raise ConfigError(
                "alerts.min_fill_seconds must be less than alerts.token_max_age_seconds"
            )
