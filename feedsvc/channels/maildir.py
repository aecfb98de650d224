"""The maildir transport: each message is a file in `mail.maildir` (development, tests)."""

from __future__ import annotations

import mailbox

from feedsvc.channels import TransientFailure
from feedsvc.channels.email import compose
from feedsvc.config import Settings
from feedsvc.model import Delivery


class MaildirChannel:
    name = "email"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def send(self, delivery: Delivery) -> None:
        message = compose(delivery, self._settings)
        path = self._settings.mail.maildir
        try:
            path.parent.mkdir(parents=True, exist_ok=True)  # Maildir makes only the last one
            # Files in a maildir end lines with LF, not the CRLF of the wire (policy.SMTP).
            mailbox.Maildir(path, create=True).add(message.data.replace(b"\r\n", b"\n"))
        except OSError as error:
            raise TransientFailure(f"could not write to the maildir {path}: {error}") from error

    def close(self) -> None:
        pass
