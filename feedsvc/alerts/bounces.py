"""Bounces and complaints read from a maildir (issue 16).

A delivery status notification (RFC 3464) or a complaint (RFC 5965) becomes a
`Report`; the VERP return path each alert was sent with names the subscriber,
and a keyed MAC in it means a forged bounce cannot suspend someone else.
"""

from __future__ import annotations

import base64
import hmac
import os
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import policy
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from email.utils import parseaddr
from pathlib import Path
from typing import Literal

MAX_MESSAGE_BYTES = 1024 * 1024
MAC_CHARS = 16  # 80 bits of base32: far beyond guessing by sending bounces
DIAGNOSTIC_CHARS = 200
_PREFIX = "bounces+"
# Relays may lower-case the local part, so an id must survive that unchanged.
_SUBSCRIBER_ID = re.compile(r"[0-9a-z][0-9a-z._-]{0,63}")
# RFC 3464 §2.3.4: status-code = DIGIT "." 1*3DIGIT "." 1*3DIGIT
_STATUS = re.compile(r"\s*([245])\.(\d{1,3})\.(\d{1,3})\b")
# RFC 3464 §2.1: the envelope recipient as the final MTA recorded it, best first.
_ENVELOPE_HEADERS = ("X-Original-To", "Delivered-To", "To", "Envelope-To")
# RFC 5965 §7.3 and RFC 6650 §4: "not-spam" is the opposite of a complaint.
_NOT_COMPLAINTS = frozenset({"not-spam"})
_UNPRINTABLE = frozenset({"Cc", "Cf", "Cs"})

Kind = Literal["hard", "soft", "complaint"]


@dataclass(frozen=True)
class Report:
    kind: Kind
    envelope_to: str
    recipient: str | None = None
    status: str | None = None
    diagnostic: str | None = None


# -- VERP return paths --------------------------------------------------------


def _mac(subscriber_id: str, key: bytes) -> str:
    # 10 bytes are 16 base32 characters: the first 16 of the whole digest's, encoded alone
    # (a fan-out computes 100,000 of these).
    digest = hmac.digest(key, subscriber_id.encode("ascii"), "sha256")[: MAC_CHARS * 5 // 8]
    return base64.b32encode(digest).decode("ascii").lower()


def return_path(subscriber_id: str, domain: str, key: bytes) -> str:
    """The envelope sender an alert to this subscriber goes out with."""
    if not key:
        raise ValueError("the bounce key is empty")
    if not _SUBSCRIBER_ID.fullmatch(subscriber_id):
        raise ValueError(
            f"subscriber id {subscriber_id!r}: expected 1-64 of a-z 0-9 . _ - "
            "(relays may lower-case the address)"
        )
    return f"{_PREFIX}{subscriber_id}-{_mac(subscriber_id, key)}@{domain}"


def subscriber_of(address: str, domain: str, key: bytes) -> str | None:
    """The subscriber a bounce address names, or None if it is not one of ours."""
    if not key:
        return None
    _, bare = parseaddr(address)
    local, at, host = bare.rpartition("@")
    if not at or host.lower().rstrip(".") != domain.lower().rstrip("."):
        return None
    local = local.lower()
    if not local.startswith(_PREFIX):
        return None
    subscriber_id, dash, mac = local[len(_PREFIX) :].rpartition("-")
    if not dash or not _SUBSCRIBER_ID.fullmatch(subscriber_id):
        return None
    if not hmac.compare_digest(mac, _mac(subscriber_id, key)):
        return None
    return subscriber_id


# -- reading one message ------------------------------------------------------


def read_report(data: bytes) -> Report | None:
    """A bounce or a complaint, or None for anything else (never raises on bad input)."""
    if len(data) > MAX_MESSAGE_BYTES:
        return None
    try:
        message = BytesParser(policy=policy.default).parsebytes(data)
        if message.get_content_type() != "multipart/report":
            return None  # RFC 6522 §3: reports are multipart/report at the top
        report_type = str(message.get_param("report-type", "")).lower()
        if report_type == "delivery-status":
            return _delivery_status(message)
        if report_type == "feedback-report":
            return _feedback_report(message)
        return None
    except Exception:
        # Bounces are written by strangers: whatever the email package trips on
        # in a malformed message means "not a report we can read", not a crash.
        return None


def _header(fields: Message, name: str) -> str | None:
    try:
        value = fields.get(name)
    except Exception:
        return None
    if value is None:
        return None
    # Drop control, format (bidi) and surrogate-escaped (non-UTF-8 bytes)
    # characters: what comes back here ends up in logs and the store.
    kept = "".join(c for c in str(value) if unicodedata.category(c) not in _UNPRINTABLE)
    return " ".join(kept.split()) or None


def _address_value(value: str | None) -> str | None:
    """RFC 3464 §2.3.2: "rfc822; user@example.org"; the address after the type."""
    if value is None:
        return None
    _, semicolon, rest = value.partition(";")
    address = (rest if semicolon else value).strip().strip("<>").strip()
    return address or None


def _diagnostic(value: str | None) -> str | None:
    """RFC 3464 §2.3.6: "smtp; 550 5.1.1 …"; the text after the type, cut short."""
    if value is None:
        return None
    _, semicolon, rest = value.partition(";")
    return (rest if semicolon else value).strip()[:DIAGNOSTIC_CHARS] or None


def _envelope_to(message: Message) -> str:
    for name in _ENVELOPE_HEADERS:
        value = _header(message, name)
        if value:
            _, address = parseaddr(value)
            if address:
                return address
    return ""


def _field_blocks(message: Message, content_type: str) -> list[Message]:
    """The header blocks of a message/delivery-status or message/feedback-report part."""
    for part in message.iter_parts():
        if part.get_content_type() != content_type:
            continue
        payload = part.get_payload()
        if isinstance(payload, list):
            return [block for block in payload if isinstance(block, Message)]
        # Encoded (base64, quoted-printable) parts arrive as text: split the
        # blocks ourselves (RFC 3464 §2.1: blocks are separated by blank lines).
        raw = part.get_payload(decode=True) or b""
        chunks = re.split(rb"\r?\n[ \t]*\r?\n", raw)
        return [BytesHeaderParser(policy=policy.default).parsebytes(c) for c in chunks if c]
    return []


def _enclosed_headers(message: Message) -> Message | None:
    """RFC 6522 §3 / RFC 5965 §2: the third part, the original message or its headers."""
    for part in message.iter_parts():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            payload = part.get_payload()
            if isinstance(payload, list) and payload:
                return payload[0]
        elif kind == "text/rfc822-headers":
            raw = part.get_payload(decode=True) or b""
            return BytesHeaderParser(policy=policy.default).parsebytes(raw)
    return None


# -- RFC 3464 delivery status notifications ------------------------------------


def _recipient_report(fields: Message, envelope_to: str) -> Report | None:
    """One per-recipient block (RFC 3464 §2.3) as a bounce, or None if delivered."""
    action = (_header(fields, "Action") or "").lower().split(" ")[0]
    status_text = _header(fields, "Status") or ""
    match = _STATUS.match(status_text)
    status = ".".join(match.groups()) if match else None
    if action == "delayed":  # §2.3.3: still being tried, so transient at worst
        kind: Kind = "soft"
    elif action == "failed":  # §2.3.4: class 4 is persistent transient, 5 permanent
        kind = "soft" if status and status.startswith("4.") else "hard"
    else:  # delivered, relayed, expanded: not a bounce
        return None
    final = _address_value(_header(fields, "Final-Recipient"))
    original = _address_value(_header(fields, "Original-Recipient"))
    diagnostic = _diagnostic(_header(fields, "Diagnostic-Code"))
    return Report(kind, envelope_to, original or final, status, diagnostic)


def _delivery_status(message: Message) -> Report | None:
    envelope_to = _envelope_to(message)
    blocks = _field_blocks(message, "message/delivery-status")
    # §2.1: the first block is per-message; the per-recipient blocks follow.
    found = [_recipient_report(block, envelope_to) for block in blocks[1:]]
    bounces = [report for report in found if report is not None]
    hard = [report for report in bounces if report.kind == "hard"]
    return (hard or bounces or [None])[0]


# -- RFC 5965 abuse reports ------------------------------------------------------


def _feedback_report(message: Message) -> Report | None:
    blocks = _field_blocks(message, "message/feedback-report")
    if not blocks:
        return None
    fields = blocks[0]
    feedback_type = (_header(fields, "Feedback-Type") or "").lower()  # §3.1, required
    if not feedback_type or feedback_type in _NOT_COMPLAINTS:
        return None
    original = _enclosed_headers(message)
    # The original's envelope sender is the VERP address that names the
    # subscriber: §3.2 Original-Mail-From, else the Return-Path the receiving
    # MTA wrote into the original; the report's own recipient last.
    sender = _address_value(_header(fields, "Original-Mail-From"))
    if not sender and original is not None:
        sender = parseaddr(_header(original, "Return-Path") or "")[1] or None
    recipient = _address_value(_header(fields, "Original-Rcpt-To"))
    if not recipient and original is not None:
        recipient = parseaddr(_header(original, "To") or "")[1] or None
    envelope_to = sender or _envelope_to(message)
    return Report("complaint", envelope_to, recipient, None, _diagnostic(feedback_type))


# -- the maildir -----------------------------------------------------------------


def _unseen(root: Path) -> Iterator[Path]:
    """Maildir new/ then cur/ messages not yet flagged S (seen); dot files are not mail."""
    for sub in ("new", "cur"):
        try:
            names = sorted(os.listdir(root / sub))
        except FileNotFoundError:
            continue
        for name in names:
            if name.startswith("."):
                continue
            _, colon, info = name.partition(":")
            if sub == "cur" and colon and "S" in info.partition(",")[2]:
                continue
            yield root / sub / name


def _mark_seen(path: Path, root: Path) -> None:
    """Move to cur/ with the S flag added (Maildir: info "2," then sorted flags)."""
    base, colon, info = path.name.partition(":")
    flags = info.partition(",")[2] if colon and info.startswith("2,") else ""
    target = root / "cur" / f"{base}:2,{''.join(sorted(set(flags) | {'S'}))}"
    os.rename(path, target)


def scan_maildir(
    path: str | os.PathLike[str], handle: Callable[[Report | None, str], None]
) -> None:
    """Read each unseen message, call handle(report, name), then mark it seen.

    A message is marked only after handle returns: if handle raises (a store
    that is down), the message stays and the next scan reads it again.
    """
    root = Path(path)
    for message_path in list(_unseen(root)):
        name = f"{message_path.parent.name}/{message_path.name}"
        try:
            with open(message_path, "rb") as file:
                data = file.read(MAX_MESSAGE_BYTES + 1)
        except FileNotFoundError:
            continue  # another scanner took it
        except OSError:
            data = None  # unreadable: reported as None and moved aside all the same
        handle(read_report(data) if data is not None else None, name)
        try:
            _mark_seen(message_path, root)
        except OSError:
            continue  # gone already, or a maildir we may not write: nothing better to do
