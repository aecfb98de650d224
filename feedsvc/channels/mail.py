"""The email channel that `mail.transport` names."""

from __future__ import annotations

import ssl

from feedsvc.channels import Channel
from feedsvc.channels.maildir import MaildirChannel
from feedsvc.channels.smtp import SmtpChannel
from feedsvc.config import Settings


def email_channel(settings: Settings, ssl_context: ssl.SSLContext | None = None) -> Channel:
    if settings.mail.transport == "smtp":
        return SmtpChannel(settings, ssl_context)
    return MaildirChannel(settings)
