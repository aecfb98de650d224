"""Bounces and complaints: real report shapes from Postfix, Exim and a mailbox provider's
feedback loop, read one by one and from a Maildir on disk."""

from __future__ import annotations

import mailbox
from collections.abc import Callable
from email.message import EmailMessage, Message
from email.mime.base import MIMEBase
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path

import pytest

from feedsvc.alerts.bounces import (
    MAX_MESSAGE_BYTES,
    Report,
    read_report,
    return_path,
    scan_maildir,
    subscriber_of,
)

DOMAIN = "alerts.example.org"
KEY = b"bounce-key-for-tests-0123456789"
ALICE = return_path("41", DOMAIN, KEY)
BOB = return_path("7f3a9c2e-5b1d-4e8a-9c0f-2d6b8e1a4c37", DOMAIN, KEY)


def _alert(envelope_from: str, to: str = "reader@example.net") -> EmailMessage:
    """The alert as it went out (and as the receiving MTA stored it, Return-Path first)."""
    alert = EmailMessage()
    alert["Return-Path"] = f"<{envelope_from}>"
    alert["From"] = "Press Office <press@example.org>"
    alert["To"] = to
    alert["Subject"] = "New release: Harbour works begin"
    alert["Message-ID"] = "<alert-1@example.org>"
    alert["List-Id"] = "Releases <releases.example.org>"
    alert.set_content("Harbour works begin on Monday.\n")
    return alert


def _fields(**fields: str) -> Message:
    block = Message()
    for name, value in fields.items():
        block[name.replace("_", "-")] = value
    return block


def _report(report_type: str, headers: dict[str, str], parts: list[Message]) -> bytes:
    report = MIMEMultipart("report", report_type=report_type)
    for name, value in headers.items():
        report[name] = value
    for part in parts:
        report.attach(part)
    return report.as_bytes()


def _status_part(*recipients: Message, mta: str = "mail.example.net") -> MIMEBase:
    # RFC 3464 §2.1: one per-message block, then one block per recipient.
    part = MIMEBase("message", "delivery-status")
    del part["MIME-Version"]
    part.set_payload([_fields(Reporting_MTA=f"dns; {mta}"), *recipients])
    return part


def _headers_part(original: EmailMessage) -> MIMEText:
    text = "".join(f"{name}: {value}\n" for name, value in original.items())
    part = MIMEText(text, "rfc822-headers")
    part["Content-Description"] = "Undelivered Message Headers"
    return part


def postfix_hard(envelope_to: str = ALICE, diagnostic: str | None = None) -> bytes:
    recipient = _fields(
        # RFC 3464 §2.3.1: the alias we sent to, then where it led.
        Final_Recipient="rfc822; r.reader@mailhost.example.net",
        Original_Recipient="rfc822;reader@example.net",
        Action="failed",
        Status="5.1.1",
        Remote_MTA="dns; mx.example.net",
        Diagnostic_Code=diagnostic
        or "smtp; 550 5.1.1 <reader@example.net>: Recipient address rejected: User unknown",
    )
    headers = {
        "X-Original-To": envelope_to,
        "Delivered-To": envelope_to,
        "From": "MAILER-DAEMON@mail.example.org (Mail Delivery System)",
        "To": envelope_to,
        "Subject": "Undelivered Mail Returned to Sender",
        "Auto-Submitted": "auto-replied",
    }
    notice = MIMEText("I'm sorry to have to inform you that your message could not be delivered.\n")
    parts = [notice, _status_part(recipient), _headers_part(_alert(envelope_to))]
    return _report("delivery-status", headers, parts)


def postfix_expired(envelope_to: str = ALICE) -> bytes:
    """Postfix gives up after the queue lifetime: Action failed, but a 4.x.x status."""
    recipient = _fields(
        Final_Recipient="rfc822; reader@example.net",
        Action="failed",
        Status="4.4.1",
        Diagnostic_Code="X-Postfix; connect to mx.example.net[192.0.2.9]:25: Connection timed out",
    )
    headers = {"Delivered-To": envelope_to, "To": envelope_to, "Subject": "Undelivered Mail"}
    parts = [MIMEText("Delivery gave up.\n"), _status_part(recipient)]
    return _report("delivery-status", headers, parts)


def exim_delayed(envelope_to: str = BOB) -> bytes:
    recipient = _fields(
        Action="delayed",
        Final_Recipient="rfc822;writer@example.com",
        Status="4.0.0",
        Remote_MTA="dns; mx.example.com",
        Diagnostic_Code="smtp; 451 4.7.1 Greylisted, please try again later",
        Will_Retry_Until="Tue, 08 Dec 2026 14:00:00 +0000",
    )
    headers = {
        "Envelope-To": envelope_to,
        "From": "Mail Delivery System <Mailer-Daemon@mail.example.org>",
        "To": envelope_to,
        "Subject": "Warning: message 1kTz3a-0004Xy-2b delayed 24 hours",
        "Auto-Submitted": "auto-replied",
    }
    notice = MIMEText("This message was created automatically by mail delivery software.\n")
    original = MIMEMessage(_alert(envelope_to, "writer@example.com"))
    return _report("delivery-status", headers, [notice, _status_part(recipient), original])


def exim_failed_and_delivered(envelope_to: str = BOB) -> bytes:
    """One report for three recipients: delivered, still trying, refused for good."""
    delivered = _fields(Action="delivered", Final_Recipient="rfc822;ok@example.com", Status="2.0.0")
    delayed = _fields(Action="delayed", Final_Recipient="rfc822;slow@example.com", Status="4.4.7")
    failed = _fields(
        Action="failed",
        Final_Recipient="rfc822;gone@example.com",
        Status="5.2.1 (mailbox disabled)",
        Diagnostic_Code="smtp; 550 5.2.1 The email account that you tried to reach is disabled",
    )
    # The relay rewrote To:; X-Original-To keeps the envelope recipient.
    headers = {"X-Original-To": envelope_to, "To": "Bounces <bounces@example.org>"}
    blocks = _status_part(delivered, delayed, failed)
    return _report("delivery-status", headers, [MIMEText("x\n"), blocks])


def relayed_only(envelope_to: str = ALICE) -> bytes:
    """A NOTIFY=SUCCESS report: the mail was relayed, nothing bounced."""
    relayed = _fields(Action="relayed", Final_Recipient="rfc822;r@example.net", Status="2.0.0")
    return _report(
        "delivery-status", {"To": envelope_to}, [MIMEText("ok\n"), _status_part(relayed)]
    )


def arf_complaint(
    envelope_from: str = ALICE, with_mail_from: bool = True, with_original: bool = True
) -> bytes:
    # RFC 5965 §2: human-readable part, machine-readable part, the original.
    fields = {"Feedback_Type": "abuse", "User_Agent": "SomeFBL/1.0", "Version": "1"}
    if with_mail_from:
        fields["Original_Mail_From"] = f"<{envelope_from}>"
        fields["Original_Rcpt_To"] = "<reader@example.net>"
    fields |= {"Arrival_Date": "Sun, 06 Dec 2026 09:12:00 +0000", "Source_IP": "192.0.2.25"}
    feedback = MIMEBase("message", "feedback-report")
    del feedback["MIME-Version"]
    feedback.set_payload([_fields(**fields)])
    headers = {
        "From": "Mail Provider Feedback <feedback@fbl.example.com>",
        "To": "fbl@example.org",
        "Subject": "FW: New release: Harbour works begin",
    }
    notice = MIMEText("This is an email abuse report for an email message received.\n")
    original = [MIMEMessage(_alert(envelope_from))] if with_original else []
    return _report("feedback-report", headers, [notice, feedback, *original])


def vacation_reply() -> bytes:
    reply = EmailMessage()
    reply["From"] = "reader@example.net"
    reply["To"] = ALICE
    reply["Subject"] = "Out of office: New release: Harbour works begin"
    reply["Auto-Submitted"] = "auto-replied"
    reply["X-Autoreply"] = "yes"
    reply.set_content("I am away until Monday and will read your message then.\n")
    return reply.as_bytes()


def read_receipt() -> bytes:
    """RFC 8098: a multipart/report that is not a bounce."""
    mdn = MIMEBase("message", "disposition-notification")
    del mdn["MIME-Version"]
    mdn.set_payload([_fields(Disposition="manual-action/MDN-sent-manually; displayed")])
    return _report("disposition-notification", {"To": ALICE}, [MIMEText("read\n"), mdn])


GARBAGE = bytes(range(256)) * 40 + b"\r\n\r\n--\x00\xff"
BROKEN_MIME = (
    b"To: " + ALICE.encode() + b"\r\nContent-Type: multipart/report; report-type=delivery-status;"
    b' boundary="unterminated\r\n\r\n--unterminated\r\nContent-Type: message/delivery-status\r\n'
    b"\r\nFinal-Recipient: \xff\xfe;;;\r\nAction: \x00\r\n"
)

# CPython 3.11's RFC 2231 parameter decoding raises IndexError on this one.
BAD_PARAMETER = b"To: x@example.org\r\nContent-Type: multipart/report; report-type*=\"'\r\n\r\n"


# -- VERP return paths -----------------------------------------------------------


def test_return_path_names_its_subscriber() -> None:
    assert ALICE.startswith("bounces+41-") and ALICE.endswith("@" + DOMAIN)
    assert subscriber_of(ALICE, DOMAIN, KEY) == "41"
    assert subscriber_of(f"Bounces <{BOB}>", DOMAIN, KEY) == BOB[8:44]


def test_forged_mac_is_not_ours() -> None:
    forged = ALICE.replace("+41-", "+42-")  # Alice's mac on someone else's id
    assert subscriber_of(forged, DOMAIN, KEY) is None
    assert subscriber_of(ALICE, DOMAIN, b"another-key") is None
    assert subscriber_of(ALICE.replace(DOMAIN, "example.com"), DOMAIN, KEY) is None
    assert subscriber_of("bounces+41@" + DOMAIN, DOMAIN, KEY) is None
    assert subscriber_of("MAILER-DAEMON", DOMAIN, KEY) is None


def test_case_folded_address_is_still_found() -> None:
    assert subscriber_of(ALICE.upper(), DOMAIN, KEY) == "41"
    assert subscriber_of(BOB.lower(), DOMAIN.upper(), KEY) == BOB[8:44]


def test_an_id_a_relay_could_change_is_refused() -> None:
    with pytest.raises(ValueError, match="lower-case"):
        return_path("Alice", DOMAIN, KEY)
    with pytest.raises(ValueError, match="key"):
        return_path("41", DOMAIN, b"")


# -- reading reports ------------------------------------------------------------


def test_postfix_user_unknown_is_hard() -> None:
    report = read_report(postfix_hard())
    assert report == Report(
        "hard",
        ALICE,
        "reader@example.net",
        "5.1.1",
        "550 5.1.1 <reader@example.net>: Recipient address rejected: User unknown",
    )


def test_exim_delayed_is_soft() -> None:
    report = read_report(exim_delayed())
    assert report is not None
    assert (report.kind, report.envelope_to, report.status) == ("soft", BOB, "4.0.0")
    assert report.recipient == "writer@example.com"


def test_failed_with_a_transient_status_is_soft() -> None:
    report = read_report(postfix_expired())
    assert report is not None and (report.kind, report.status) == ("soft", "4.4.1")


def test_the_refused_recipient_is_reported_over_a_delivered_one() -> None:
    report = read_report(exim_failed_and_delivered())
    assert report is not None
    assert (report.kind, report.recipient, report.status) == ("hard", "gone@example.com", "5.2.1")
    assert report.envelope_to == BOB  # X-Original-To comes before To


def test_arf_is_a_complaint_naming_the_original_sender() -> None:
    report = read_report(arf_complaint())
    assert report == Report("complaint", ALICE, "reader@example.net", None, "abuse")
    # RFC 5965 §2: the original is optional; Original-Mail-From alone names the sender.
    assert read_report(arf_complaint(with_original=False)) == report


def test_redacted_arf_falls_back_to_the_originals_return_path() -> None:
    report = read_report(arf_complaint(BOB, with_mail_from=False))
    assert report is not None and report.kind == "complaint"
    assert report.envelope_to == BOB


def test_not_spam_feedback_is_not_a_complaint() -> None:
    data = arf_complaint().replace(b"Feedback-Type: abuse", b"Feedback-Type: not-spam")
    assert read_report(data) is None


@pytest.mark.parametrize(
    "data",
    [vacation_reply(), read_receipt(), relayed_only(), GARBAGE, BROKEN_MIME, BAD_PARAMETER, b""],
    ids=["vacation", "read-receipt", "relayed", "garbage", "broken-mime", "bad-parameter", "empty"],
)
def test_anything_else_is_none(data: bytes) -> None:
    assert read_report(data) is None


def test_a_report_missing_its_status_part_is_none() -> None:
    headers = {"To": ALICE}
    assert read_report(_report("delivery-status", headers, [MIMEText("bounced\n")])) is None


def test_diagnostic_is_cleaned_and_cut() -> None:
    data = postfix_hard(diagnostic="smtp; 550 PLACEHOLDER " + "x" * 400)
    data = data.replace(b"PLACEHOLDER", b"caf\xe9 \x1b[31mred\x07 \xe2\x80\xaeevil")
    report = read_report(data)
    assert report is not None and report.diagnostic is not None
    # Non-UTF-8 bytes come out as U+FFFD; ESC, BEL and the bidi override are gone.
    assert report.diagnostic.startswith("550 caf\ufffd [31mred evil x")
    assert len(report.diagnostic) == 200
    assert all(c.isprintable() for c in report.diagnostic)


def test_a_message_over_one_mebibyte_is_refused() -> None:
    data = postfix_hard()
    assert read_report(data + b"x" * (MAX_MESSAGE_BYTES - len(data))) is not None
    assert read_report(data + b"x" * (MAX_MESSAGE_BYTES - len(data) + 1)) is None


def test_huge_headers_under_the_limit_are_still_read() -> None:
    junk = b"X-Junk: " + b"a" * 400_000 + b"\r\n" + b"X-H: y\r\n" * 50_000
    assert read_report(junk + b"\r\nbody") is None
    report = read_report(junk + postfix_hard())
    assert report is not None and report.kind == "hard"


# -- the maildir ---------------------------------------------------------------


def _scan(path: Path) -> list[tuple[Report | None, str]]:
    seen: list[tuple[Report | None, str]] = []
    scan_maildir(path, lambda report, name: seen.append((report, name)))
    return seen


def _maildir(tmp_path: Path) -> Path:
    box = mailbox.Maildir(tmp_path / "bounces", create=True)
    for data in (postfix_hard(), exim_delayed(), arf_complaint(), vacation_reply(), GARBAGE):
        box.add(data)
    old = mailbox.MaildirMessage(postfix_expired())
    old.set_subdir("cur")
    old.set_flags("F")  # read by a person already, not yet by us
    box.add(old)
    done = mailbox.MaildirMessage(postfix_hard(BOB))
    done.set_subdir("cur")
    done.set_flags("S")  # handled by an earlier scan
    box.add(done)
    return tmp_path / "bounces"


def test_scan_reads_each_message_once(tmp_path: Path) -> None:
    path = _maildir(tmp_path)
    seen = _scan(path)
    kinds = sorted(report.kind if report else "none" for report, _ in seen)
    assert kinds == ["complaint", "hard", "none", "none", "soft", "soft"]
    subscribers = {subscriber_of(r.envelope_to, DOMAIN, KEY) for r, _ in seen if r}
    assert subscribers == {"41", BOB[8:44]}
    assert all(name.startswith(("new/", "cur/")) for _, name in seen)
    assert _scan(path) == []
    assert not list((path / "new").iterdir())
    names = sorted(p.name.partition(":")[2] for p in (path / "cur").iterdir())
    assert names == ["2,FS"] + ["2,S"] * 6


def test_unreadable_message_is_moved_aside(tmp_path: Path) -> None:
    path = _maildir(tmp_path)
    (path / "new" / "1700000000.broken.host").mkdir()  # cannot be opened as a file
    seen = _scan(path)
    assert (None, "new/1700000000.broken.host") in seen
    assert _scan(path) == []


def test_a_failing_handler_leaves_the_message_for_the_next_scan(tmp_path: Path) -> None:
    box = mailbox.Maildir(tmp_path / "bounces", create=True)
    box.add(postfix_hard())

    def store_down(report: Report | None, name: str) -> None:
        raise ConnectionError("store is down")

    handler: Callable[[Report | None, str], None] = store_down
    with pytest.raises(ConnectionError):
        scan_maildir(tmp_path / "bounces", handler)
    assert [r.kind for r, _ in _scan(tmp_path / "bounces") if r] == ["hard"]


def test_a_missing_maildir_scans_nothing(tmp_path: Path) -> None:
    assert _scan(tmp_path / "nowhere") == []


def test_a_header_the_email_package_cannot_parse_is_skipped() -> None:
    # CPython 3.11 raises AttributeError reading this To: under policy.default.
    data = exim_delayed().replace(b"\nTo:", b"\nTo: a@[\nX-Was-To:", 1)
    report = read_report(data)
    assert report is not None and (report.kind, report.envelope_to) == ("soft", BOB)
