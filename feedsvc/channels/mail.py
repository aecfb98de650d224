"""The email channel that `mail.transport` names."""

from __future__ import annotations

import ssl

from feedsvc.channels import Channel
from feedsvc.channels.email import Letterhead
from feedsvc.channels.maildir import MaildirChannel
from feedsvc.channels.smtp import SmtpChannel
from feedsvc.config import MailSettings


def email_channel(
    mail: MailSettings, letterhead: Letterhead, ssl_context: ssl.SSLContext | None = None
) -> Channel:
    if mail.transport == "smtp":
        return SmtpChannel(mail, letterhead, ssl_context)
    return MaildirChannel(mail.maildir, letterhead)
