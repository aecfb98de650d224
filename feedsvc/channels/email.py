"""The email message of a delivery (RFC 5322), shared by the maildir and SMTP channels.

An email delivery's payload:

    {"to": "Zoë Müller <zoe@example.org>" or "zoe@example.org",
     "subject": str, "text": str, "html": str | None, "reply_to": str | None,
     "from_name": str | None,   # the From display name instead of mail.from's
     "headers": {"List-Unsubscribe": str, "List-Unsubscribe-Post": str,
                 "List-Id": str, "Auto-Submitted": str} | None,
     "return_path": "bounces+<id>-<mac>@example.org" | None,
     "kind": "preview" | None}  # what the letter is, for the outbox's own use (issue 17)

A `kind` changes nothing of the message: it lets `feedsvc preview revoke` tell an
embargoed preview's waiting emails (previews/letter.py) from a share's.

`return_path` (issue 16: alerts' VERP envelope sender) is the MAIL FROM instead of the
From address: one addr-spec in the From address's domain or the bounce domain
(alerts.bounce_domain, else site.id_authority), so the site cannot be made to send with
someone else's envelope.

From is the letterhead's sender (`mail.from`). Date and Message-ID come from the delivery, so every
attempt sends the same message and receivers can drop duplicates. Headers are ASCII:
non-ASCII names and subjects become RFC 2047 encoded words; addresses must be ASCII
(no SMTPUTF8). A share carries no Auto-Submitted header (it is sent on behalf of a
person); alerts add `Auto-Submitted: auto-generated` (RFC 3834) themselves.

The bytes are written here rather than by `email.message.EmailMessage`: its header
parsing and refolding cost a millisecond a message, several times the SMTP exchange.
Every header value is checked first (one address, no control characters), so what is
written is what was checked; tests parse the result with the standard library.
"""

from __future__ import annotations

import binascii
import functools
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from email.header import Header
from email.utils import format_datetime
from typing import Any

from feedsvc.channels import PermanentFailure, TransientFailure
from feedsvc.config import Settings
from feedsvc.model import Delivery

# Line and paragraph separators too: some mail software splits header lines on them.
# Format characters (a soft hyphen, the joiner in an emoji, a bidi mark in an Arabic or
# Hebrew title) are not refused: they are never ASCII, so they are always written as
# RFC 2047 encoded words and cannot end a line (issue 11: such titles made every share
# email of the release die).
_FORBIDDEN = {"Cc", "Zl", "Zp"}
# RFC 5322 dot-atom local part @ a host name: no quoted local parts, no address literals.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_ADDR_SPEC = re.compile(
    rf"{_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)
_NAME_AND_ADDRESS = re.compile(r"(?P<name>.*?)\s*<(?P<addr>[^<>]*)>")
_QUOTED = re.compile(r'"(?P<text>(?:[^"\\]|\\.)*)"')
# What an unquoted display name may not hold: it would make a list, a group or a route.
# (A "." is allowed: "J. Smith <j@example.org>" is common, and RFC 5322 4.1 accepts it.)
_SPECIALS = re.compile(r'[()<>\[\]:;@\\,"]')
_NEEDS_QUOTES = re.compile(r'[()<>\[\]:;@\\,."]')


class PayloadRefused(PermanentFailure):
    """No message can be made of this payload (not a refusal by any server)."""


@dataclass(frozen=True)
class Address:
    name: str
    addr_spec: str

    def header(self, field: str) -> str:
        """The address as the `field` header writes it: the name quoted or RFC 2047
        encoded as needed, folded to 78 characters a line."""
        if not self.name:
            return self.addr_spec
        # ASCII is written as it is, unless it would read as an encoded word (RFC 2047).
        if self.name.isascii() and "=?" not in self.name:
            name = self.name
            if _NEEDS_QUOTES.search(name):
                name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
            written = f"{name} <{self.addr_spec}>"
            # RFC 5322 2.1.1: a line is at most 998 bytes; a longer name goes as encoded words.
            if len(field) + 2 + len(written) <= 998:
                return written
        words = Header(self.name, "utf-8", header_name=field).encode(linesep="\r\n")
        last = words.rsplit("\r\n", 1)[-1]
        fold = "\r\n " if len(last) + len(self.addr_spec) + 3 > 78 else " "
        return f"{words}{fold}<{self.addr_spec}>"


@dataclass(frozen=True)
class Letterhead:
    """What every email of the site carries whatever it says: the From address (always the
    site's own: DMARC) and the domain of its Message-IDs. Made once from the mail and site
    sections, so a channel needs neither (issue 13)."""

    sender: str
    domain: str
    # The domain of alerts' VERP return paths (issue 16); "": `domain`.
    bounce_domain: str = ""

    @classmethod
    def of(cls, settings: Settings) -> Letterhead:
        authority = settings.site.id_authority
        return cls(settings.mail_sender, authority, settings.alerts.bounce_domain or authority)

    def envelope_domains(self) -> frozenset[str]:
        """The domains a payload's return path may be in: the From address's, the bounce
        domain (lower case: domains are compared without case, RFC 5321 2.4)."""
        return _envelope_domains(self.sender, self.bounce_domain or self.domain)


@dataclass(frozen=True)
class Composed:
    """A message ready for the wire: its envelope and its bytes (ASCII, CRLF line ends)."""

    sender: str  # MAIL FROM: the return path if the payload gave one, else From's address
    recipients: tuple[str, ...]
    data: bytes
    return_path: str | None = None  # the payload's (a maildir writes it as Return-Path)


@dataclass(frozen=True)
class _Fields:
    to: Address
    subject: str
    text: str
    html: str | None
    reply_to: Address | None
    from_name: str
    extra: list[tuple[str, str]]
    return_path: str | None


def check(payload: Any) -> None:
    """Raise PermanentFailure if no message can be made of this payload: what a producer
    calls before it accepts the work (a share is refused at the door, never accepted and
    then dead)."""
    _fields(payload)


def _fields(payload: Any) -> _Fields:
    if not isinstance(payload, Mapping):
        raise PayloadRefused("email payload: expected a JSON object")
    reply_to = _header_text(payload, "reply_to", optional=True)
    return_path = _header_text(payload, "return_path", optional=True)
    return _Fields(
        to=_address(_header_text(payload, "to"), "to"),
        subject=_header_text(payload, "subject"),
        text=_text(payload, "text"),  # type: ignore[arg-type]
        html=_text(payload, "html", optional=True),
        reply_to=_address(reply_to, "reply_to") if reply_to else None,
        from_name=_header_text(payload, "from_name", optional=True),
        extra=_extra_headers(payload),
        return_path=_return_path(return_path) if return_path else None,
    )


def compose(delivery: Delivery, letterhead: Letterhead) -> Composed:
    fields = _fields(delivery.payload)
    to, subject, text, html = fields.to, fields.subject, fields.text, fields.html
    reply_to, from_name, extra = fields.reply_to, fields.from_name, fields.extra
    try:
        sender = _sender(letterhead.sender)
    except PermanentFailure as error:
        # The configuration is wrong, not this message: every mail waits until it is fixed.
        raise TransientFailure(str(error)) from None
    return_path = fields.return_path
    if return_path is not None:
        domains = letterhead.envelope_domains()
        if return_path.rpartition("@")[2].lower() not in domains:
            # Never someone else's envelope (bounces and SPF go to the envelope's domain).
            raise PayloadRefused(
                f"email payload: return_path must be in {' or '.join(sorted(domains))}"
            )
    if from_name:
        # Only the name changes: the address is always the site's own (DMARC).
        sender = Address(" ".join(from_name.split()), sender.addr_spec)

    lines = [f"From: {sender.header('From')}", f"To: {to.header('To')}"]
    if reply_to is not None:
        lines.append(f"Reply-To: {reply_to.header('Reply-To')}")
    lines += [
        f"Subject: {_subject(subject)}",
        f"Date: {format_datetime(delivery.created_at)}",
        f"Message-ID: <{delivery.stable_id}@{letterhead.domain}>",
        "MIME-Version: 1.0",
        *(f"{name}: {value}" for name, value in extra),
    ]
    head = "\r\n".join(lines).encode("ascii") + b"\r\n"
    if not html:
        body = _part("plain", text)
    else:
        # "=_" never occurs in quoted-printable text, so the boundary cannot either.
        boundary = f"=_{delivery.stable_id}".encode()
        body = (
            b'Content-Type: multipart/alternative;\r\n boundary="' + boundary + b'"\r\n\r\n'
            b"--" + boundary + b"\r\n" + _part("plain", text) + b"\r\n"
            b"--" + boundary + b"\r\n" + _part("html", html) + b"\r\n"
            b"--" + boundary + b"--\r\n"
        )
    envelope = return_path or sender.addr_spec
    return Composed(envelope, (to.addr_spec,), head + body, return_path)


def _part(subtype: str, text: str) -> bytes:
    data = text.replace("\r\n", "\n").replace("\r", "\n")
    if not data.endswith("\n"):
        data += "\n"
    encoded = binascii.b2a_qp(data.encode("utf-8"), istext=True).replace(b"\n", b"\r\n")
    return (
        b"Content-Type: text/" + subtype.encode() + b'; charset="utf-8"\r\n'
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + encoded
    )


def _subject(subject: str) -> str:
    plain = subject.isascii() and "=?" not in subject
    if plain and len(subject) <= 68:
        return subject
    # Plain text folds only between words: a word too long for a line of its own (a URL)
    # would be moved under "Subject:", gaining a space, or make a line over 998 bytes.
    if plain and max(map(len, subject.split(" "))) <= 66:
        return Header(subject, "us-ascii", header_name="Subject").encode(linesep="\r\n")
    return Header(subject, "utf-8", header_name="Subject").encode(linesep="\r\n")


# Headers a producer may add, and nothing else: no Bcc, no Received, no second From.
# Alerts (issue 16) add a list's id (RFC 2919) and say they were sent by a program
# (RFC 3834: no vacation replies).
_EXTRA_HEADERS = ("List-Unsubscribe", "List-Unsubscribe-Post", "List-Id", "Auto-Submitted")
_HEADER_VALUE = re.compile(r"[\x20-\x7e]{1,900}")


def _extra_headers(payload: Mapping[str, Any]) -> list[tuple[str, str]]:
    headers = payload.get("headers") or {}
    if not isinstance(headers, Mapping):
        raise PayloadRefused("email payload: headers must be an object")
    out = []
    for name, value in headers.items():
        if name not in _EXTRA_HEADERS:
            raise PayloadRefused(f"email payload: header {name!r} is not allowed")
        if not isinstance(value, str) or not _HEADER_VALUE.fullmatch(value):
            raise PayloadRefused(f"email payload: header {name} must be printable ASCII")
        out.append((name, value))
    return out


def _text(payload: Mapping[str, Any], field: str, *, optional: bool = False) -> str | None:
    value = payload.get(field)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        kind = "a string or null" if optional else "a string"
        raise PayloadRefused(f"email payload: {field} must be {kind}")
    return value


def _header_text(payload: Mapping[str, Any], field: str, *, optional: bool = False) -> str:
    value = _text(payload, field, optional=optional) or ""
    if not value.isprintable() and any(unicodedata.category(c) in _FORBIDDEN for c in value):
        # A CR or LF here would start a header of the sender's choosing (header injection).
        raise PayloadRefused(f"email payload: {field} contains a line break or control character")
    return value


@functools.lru_cache(maxsize=8)
def _sender(value: str) -> Address:
    return _address(value, "mail.from")


@functools.lru_cache(maxsize=8)
def _envelope_domains(sender: str, bounce_domain: str) -> frozenset[str]:
    own = _sender(sender).addr_spec.rpartition("@")[2]
    return frozenset(domain.lower().rstrip(".") for domain in (own, bounce_domain))


def _address(value: str, field: str) -> Address:
    address = _one_address(value.strip())
    if address is None:
        raise PayloadRefused(
            f"{field}: {value!r} is not one address such as 'Name <name@example.org>'"
        )
    return address


def _return_path(value: str) -> str:
    """One bare addr-spec (RFC 5321 reverse-path without the angle brackets)."""
    if len(value) > 254 or not _ADDR_SPEC.fullmatch(value):
        raise PayloadRefused(f"email payload: return_path {value!r} is not one address")
    return value


def _one_address(value: str) -> Address | None:
    match = _NAME_AND_ADDRESS.fullmatch(value)
    if match is None:
        name, addr = "", value
    else:
        name, addr = match["name"].strip(), match["addr"].strip()
        quoted = _QUOTED.fullmatch(name)
        if quoted is not None:
            name = re.sub(r"\\(.)", r"\1", quoted["text"])
        elif _SPECIALS.search(name):
            return None  # a list, a group or a route, not one name
    if len(addr) > 254 or not _ADDR_SPEC.fullmatch(addr):
        return None
    return Address(" ".join(name.split()), addr)
