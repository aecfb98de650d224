"""An email payload's `return_path` (issue 16: alerts' VERP envelope sender) and the
headers alerts add (List-Id, Auto-Submitted): at a real SMTP server and in a maildir."""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import default
from pathlib import Path

import pytest

from feedsvc.channels import PermanentFailure
from feedsvc.channels.email import Letterhead, PayloadRefused, check, compose
from feedsvc.channels.maildir import MaildirChannel
from feedsvc.channels.smtp import SenderRefused, SmtpChannel
from feedsvc.config import Settings, settings_from_dict
from tests.channels.smtp_server import Recorder, make_delivery, smtp_server

VERP = "bounces+0123abcd-abcdefghijklmnop@press.example.org"


def settings_of(tmp_path: Path, port: int = 25, **alerts: str) -> Settings:
    raw = {
        "site": {"id_authority": "press.example.org"},
        "mail": {
            "from": "Press <press@ministry.example.net>",
            "maildir": "var/mail",
            "transport": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_security": "none",
            "smtp_timeout_seconds": 2.0,
        },
        "alerts": alerts,
    }
    return settings_from_dict(raw, root=tmp_path)


def test_the_return_path_is_the_envelope_sender_at_the_server(tmp_path: Path) -> None:
    recorder = Recorder()
    with smtp_server(recorder) as server:
        settings = settings_of(tmp_path, server.port)
        channel = SmtpChannel(settings.mail, Letterhead.of(settings))
        channel.send(make_delivery("alert:1", return_path=VERP))
        channel.send(make_delivery("share:1"))
        channel.close()
    with_verp, share = recorder.received
    assert with_verp.mail_from == VERP
    assert with_verp.message["From"] == "Press <press@ministry.example.net>"  # From unchanged
    assert "Return-Path" not in with_verp.message  # the receiving MTA writes that
    assert share.mail_from == "press@ministry.example.net"


def test_a_refused_sender_is_told_apart_from_a_refused_recipient(tmp_path: Path) -> None:
    recorder = Recorder(mail_replies=["553 5.7.1 Sender address rejected"])
    recorder.rcpt_replies.append("550 5.1.1 No such user")
    with smtp_server(recorder) as server:
        settings = settings_of(tmp_path, server.port)
        channel = SmtpChannel(settings.mail, Letterhead.of(settings))
        with pytest.raises(SenderRefused, match="553"):
            channel.send(make_delivery("alert:1", return_path=VERP))
        with pytest.raises(PermanentFailure, match="550") as refused:
            channel.send(make_delivery("alert:2", return_path=VERP))
        assert not isinstance(refused.value, SenderRefused)
        channel.close()


def test_the_maildir_writes_the_return_path_first(tmp_path: Path) -> None:
    settings = settings_of(tmp_path)
    channel = MaildirChannel(settings.mail.maildir, Letterhead.of(settings))
    channel.send(make_delivery("alert:1", return_path=VERP))
    channel.send(make_delivery("share:1"))
    files = sorted((settings.mail.maildir / "new").iterdir(), key=lambda p: p.stat().st_mtime_ns)
    raws = {f.read_bytes().startswith(b"Return-Path:"): f.read_bytes() for f in files}
    assert raws[True].startswith(f"Return-Path: <{VERP}>\nFrom: ".encode())
    message = BytesParser(policy=default).parsebytes(raws[True])
    assert message["Return-Path"] == f"<{VERP}>"
    assert raws[False].startswith(b"From: ")  # a share's file as before


@pytest.mark.parametrize(
    ("bounce_domain", "domain"),
    [
        ("", "press.example.org"),  # alerts.bounce_domain unset: site.id_authority
        ("", "PRESS.example.org"),
        ("", "ministry.example.net"),  # the From address's domain
        ("bounce.example", "bounce.example"),
        ("bounce.example", "ministry.example.net"),
    ],
)
def test_a_return_path_in_our_domains_is_taken(
    tmp_path: Path, bounce_domain: str, domain: str
) -> None:
    letterhead = Letterhead.of(settings_of(tmp_path, bounce_domain=bounce_domain))
    composed = compose(make_delivery(return_path=f"bounces+x-y@{domain}"), letterhead)
    assert composed.sender == f"bounces+x-y@{domain}"
    assert composed.return_path == composed.sender


def test_with_a_bounce_domain_the_site_domain_is_not_an_envelope(tmp_path: Path) -> None:
    letterhead = Letterhead.of(settings_of(tmp_path, bounce_domain="bounce.example"))
    with pytest.raises(PayloadRefused, match=r"bounce\.example or ministry\.example\.net"):
        compose(make_delivery(return_path="bounces+x-y@press.example.org"), letterhead)


@pytest.mark.parametrize(
    "value",
    [
        "bounces+x@evil.example",  # someone else's domain
        "bounces+x@press.example.org.evil.example",
        "bounces+x@press.example.org\r\nRCPT TO:<victim@example.net>",
        "bounces+x@press.example.org\n",
        "Name <bounces+x@press.example.org>",  # one bare addr-spec, nothing else
        "a@b@press.example.org",
        "<>",
    ],
)
def test_any_other_return_path_is_refused(tmp_path: Path, value: str) -> None:
    letterhead = Letterhead.of(settings_of(tmp_path))
    with pytest.raises(PayloadRefused, match="return_path"):
        compose(make_delivery(return_path=value), letterhead)


def test_a_return_path_must_be_text(tmp_path: Path) -> None:
    with pytest.raises(PayloadRefused, match="return_path"):
        check(make_delivery(return_path=["a@press.example.org"]).payload)


def test_alerts_may_add_list_id_and_auto_submitted_only_as_printable_ascii(
    tmp_path: Path,
) -> None:
    letterhead = Letterhead.of(settings_of(tmp_path))
    headers = {
        "List-Id": "Press alerts <alerts.press.example.org>",
        "Auto-Submitted": "auto-generated",
    }
    raw = compose(make_delivery(headers=headers), letterhead).data
    message = BytesParser(policy=default).parsebytes(raw)
    assert message["List-Id"] == headers["List-Id"]
    assert message["Auto-Submitted"] == "auto-generated"
    for bad in ("Préss <alerts.press.example.org>", "x\r\nBcc: victim@example.net"):
        with pytest.raises(PayloadRefused, match="printable ASCII"):
            compose(make_delivery(headers={"List-Id": bad}), letterhead)
    with pytest.raises(PayloadRefused, match="not allowed"):
        compose(make_delivery(headers={"Precedence": "bulk"}), letterhead)
