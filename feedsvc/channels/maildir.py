"""The maildir transport: each message is a file in `mail.maildir` (development, tests)."""

from __future__ import annotations

import os
import socket
import time
import uuid
from pathlib import Path

from feedsvc.channels import TransientFailure
from feedsvc.channels.email import Letterhead, compose
from feedsvc.model import Delivery
from feedsvc.privacy import FILE_MODE, private_folder

# The third part of a maildir file's name; '/' and ':' may not appear in it (as mailbox does).
_HOST = socket.gethostname().replace("/", r"\057").replace(":", r"\072")


class MaildirChannel:
    name = "email"

    def __init__(self, maildir: Path, letterhead: Letterhead) -> None:
        self._maildir = maildir  # mail.maildir
        self._letterhead = letterhead

    def send(self, delivery: Delivery) -> None:
        message = compose(delivery, self._letterhead)
        path = self._maildir
        try:
            # Files in a maildir end lines with LF, not the CRLF of the wire (policy.SMTP).
            data = message.data.replace(b"\r\n", b"\n")
            if message.return_path is not None:
                # The envelope sender, as a delivering MTA records it (RFC 5321 4.4): the
                # VERP address of an alert (issue 16), for tests and bounce handling to read.
                data = f"Return-Path: <{message.return_path}>\n".encode("ascii") + data
            deliver(path, data)
        except OSError as error:
            raise TransientFailure(f"could not write to the maildir {path}: {error}") from error

    def close(self) -> None:
        pass


def deliver(maildir: Path, data: bytes) -> Path:
    """Write a message the maildir way: whole into tmp/, then renamed into new/. Messages
    carry addresses and the sharer's words: files are 0600 and folders 0700 (issue 11),
    where mailbox.Maildir would leave files to the umask."""
    for folder in (maildir, maildir / "tmp", maildir / "new", maildir / "cur"):
        private_folder(folder)
    name = f"{time.time_ns() // 1000}.R{uuid.uuid4().hex}.{_HOST}"
    staging = maildir / "tmp" / name
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(staging, maildir / "new" / name)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
    return maildir / "new" / name
