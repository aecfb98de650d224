"""The email message of a delivery (RFC 5322), shared by the maildir and SMTP channels.

An email delivery's payload:

    {"to": "Zoë Müller <zoe@example.org>" or "zoe@example.org",
     "subject": str, "text": str, "html": str | None, "reply_to": str | None}

From is `settings.mail_sender`. Date and Message-ID come from the delivery, so every
attempt sends the same message and receivers can drop duplicates. Headers are ASCII:
non-ASCII names and subjects become RFC 2047 encoded words; addresses must be ASCII
(no SMTPUTF8). No Auto-Submitted header: a share is sent on behalf of a person.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Any

from feedsvc.channels import PermanentFailure, TransientFailure
from feedsvc.config import Settings
from feedsvc.model import Delivery

# Bodies as quoted-printable or base64, whichever is shorter: 8bit would need the server's
# 8BITMIME (RFC 6152), and a maildir reader should not have to care.
_POLICY = SMTP.clone(cte_type="7bit")
# Line and paragraph separators too: some mail software splits header lines on them.
_FORBIDDEN = {"Cc", "Zl", "Zp"}


def compose(delivery: Delivery, settings: Settings) -> EmailMessage:
    payload = delivery.payload
    if not isinstance(payload, Mapping):
        raise PermanentFailure("email payload: expected a JSON object")
    to = _address(_header_text(payload, "to"), "to")
    subject = _header_text(payload, "subject")
    text = _text(payload, "text")
    html = _text(payload, "html", optional=True)
    reply_to = _header_text(payload, "reply_to", optional=True)
    try:
        sender = _address(settings.mail_sender, "mail.from")
    except PermanentFailure as error:
        # The configuration is wrong, not this message: every mail waits until it is fixed.
        raise TransientFailure(str(error)) from None

    message = EmailMessage(policy=_POLICY)
    message["From"] = sender
    message["To"] = to
    if reply_to:
        message["Reply-To"] = _address(reply_to, "reply_to")
    message["Subject"] = subject
    message["Date"] = format_datetime(delivery.created_at)
    message["Message-ID"] = f"<{delivery.stable_id}@{settings.site.id_authority}>"
    message.set_content(text, charset="utf-8")
    if html:
        message.add_alternative(html, subtype="html", charset="utf-8")
    return message


def envelope(message: EmailMessage) -> tuple[str, list[str]]:
    """The SMTP envelope of a composed message: the sender and the recipients."""
    sender = message["From"].addresses[0].addr_spec
    return sender, [a.addr_spec for a in message["To"].addresses]


def _text(payload: Mapping[str, Any], field: str, *, optional: bool = False) -> str | None:
    value = payload.get(field)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        kind = "a string or null" if optional else "a string"
        raise PermanentFailure(f"email payload: {field} must be {kind}")
    return value


def _header_text(payload: Mapping[str, Any], field: str, *, optional: bool = False) -> str:
    value = _text(payload, field, optional=optional) or ""
    if any(unicodedata.category(c) in _FORBIDDEN for c in value):
        # A CR or LF here would start a header of the sender's choosing (header injection).
        raise PermanentFailure(f"email payload: {field} contains a line break or control character")
    return value


def _address(value: str, field: str) -> Address:
    address = _one_address(value)
    if address is None:
        raise PermanentFailure(
            f"{field}: {value!r} is not one address such as 'Name <name@example.org>'"
        )
    if not address.addr_spec.isascii():
        raise PermanentFailure(f"{field}: {value!r}: only ASCII addresses can be sent")
    return address


def _one_address(value: str) -> Address | None:
    try:
        header = SMTP.header_factory("to", value)
        groups = header.groups
    except Exception:  # the parser raises IndexError and others on some input ("a@")
        return None
    if header.defects or len(groups) != 1 or groups[0].display_name is not None:
        return None  # a defect, a list, or a group ("Friends: a@example.org;")
    if len(groups[0].addresses) != 1:
        return None
    address = groups[0].addresses[0]
    return address if address.username and address.domain else None
