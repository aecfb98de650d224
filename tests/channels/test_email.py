from __future__ import annotations

import dataclasses
import re
from email.header import decode_header, make_header
from email.parser import BytesParser
from email.policy import default
from email.utils import format_datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as settings_for_hypothesis
from hypothesis import strategies as st

from feedsvc.channels import PermanentFailure, TransientFailure
from feedsvc.channels.email import Letterhead, compose
from feedsvc.channels.mail import email_channel
from feedsvc.channels.maildir import MaildirChannel
from feedsvc.channels.smtp import SmtpChannel
from feedsvc.config import Settings, settings_from_dict
from tests.channels.smtp_server import CREATED, make_delivery


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_from_dict(
        {"site": {"title": "Press Office", "id_authority": "press.example.org"}}, root=tmp_path
    )


def parsed(delivery, settings):
    return BytesParser(policy=default).parsebytes(compose(delivery, Letterhead.of(settings)).data)


def content(part) -> str:
    """The decoded text: MIME's canonical form ends lines with CRLF (RFC 2046 4.1.1)."""
    return part.get_content().replace("\r\n", "\n")


def test_headers(settings: Settings) -> None:
    message = parsed(make_delivery(reply_to="Desk <desk@example.org>"), settings)
    assert message["From"].addresses[0].addr_spec == "noreply@press.example.org"
    assert message["From"].addresses[0].display_name == "Press Office"
    assert message["To"].addresses[0].display_name == "Zoë Müller"
    assert message["To"].addresses[0].addr_spec == "zoe@example.org"
    assert message["Reply-To"].addresses[0].addr_spec == "desk@example.org"
    assert message["Subject"] == "Wang Yi: China and Russia — a release"
    assert message["Date"].datetime == CREATED
    assert str(message["Date"]) == "Tue, 05 Mar 2024 09:30:15 +0000"
    assert message["MIME-Version"] == "1.0"
    assert "Auto-Submitted" not in message


def test_no_reply_to_unless_given(settings: Settings) -> None:
    assert "Reply-To" not in parsed(make_delivery(), settings)


def test_date_and_message_id_are_stable_across_attempts(settings: Settings) -> None:
    first = make_delivery("share:7")
    retry = dataclasses.replace(first, attempts=3, id=99)
    other = make_delivery("share:8")
    a, b, c = (parsed(d, settings) for d in (first, retry, other))
    assert a["Message-ID"] == b["Message-ID"] == f"<{first.stable_id}@press.example.org>"
    assert a["Date"] == b["Date"] == format_datetime(CREATED)
    assert c["Message-ID"] != a["Message-ID"]


@pytest.mark.parametrize("name", ["Zoë Müller", "王小明", "Müller, Zoë"])
def test_non_ascii_display_names_are_encoded_words(settings: Settings, name: str) -> None:
    raw = compose(make_delivery(to=f'"{name}" <zoe@example.org>'), Letterhead.of(settings)).data
    assert raw.isascii()  # no SMTPUTF8 needed: RFC 2047 encoded words and a 7bit-safe body
    to_line = next(line for line in raw.split(b"\r\n") if line.startswith(b"To: "))
    assert to_line.startswith(b"To: =?utf-8?")
    assert to_line.endswith(b" <zoe@example.org>")
    message = BytesParser(policy=default).parsebytes(raw)
    assert message["To"].addresses[0].display_name == name


def test_text_and_html_alternatives_decode(settings: Settings) -> None:
    d = make_delivery(text="Grüße, 你好\n" + "long line " * 40 + "\n", html="<p>Grüße, 你好</p>")
    message = parsed(d, settings)
    assert message.get_content_type() == "multipart/alternative"
    plain, html = message.iter_parts()
    assert plain.get_content_type() == "text/plain"
    assert plain.get_content_charset() == "utf-8"
    assert content(plain) == d.payload["text"]
    assert html.get_content_type() == "text/html"
    assert content(html) == "<p>Grüße, 你好</p>\n"
    assert all(len(line) <= 78 for line in compose(d, Letterhead.of(settings)).data.split(b"\r\n"))


def test_text_only_without_html(settings: Settings) -> None:
    message = parsed(make_delivery(html=None), settings)
    assert message.get_content_type() == "text/plain"
    assert content(message) == make_delivery().payload["text"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("to", "a@example.org\r\nBcc: evil@example.org"),
        ("to", "a@example.org\nBcc: evil@example.org"),
        ("to", "Eve\x00 <a@example.org>"),
        ("subject", "Hello\r\nBcc: evil@example.org"),
        ("subject", "Hello\rX-Evil: 1"),
        ("subject", "Hello\u2028Bcc: evil@example.org"),
        ("reply_to", "a@example.org\r\nBcc: evil@example.org"),
    ],
)
def test_header_injection_is_refused(settings: Settings, field: str, value: str) -> None:
    with pytest.raises(PermanentFailure, match=rf"\b{field}\b.*(line break|control)"):
        compose(make_delivery(**{field: value}), Letterhead.of(settings))


@pytest.mark.parametrize(
    "value",
    [
        "not an address",
        "a@",
        "@example.org",
        "a@@example.org",
        "<a@example.org",
        "a@example.org, b@example.org",
        "Friends: a@example.org;",
        "",
        "zoë@example.org",
    ],
)
def test_malformed_addresses_are_refused(settings: Settings, value: str) -> None:
    with pytest.raises(PermanentFailure, match=r"^to: "):
        compose(make_delivery(to=value), Letterhead.of(settings))
    with pytest.raises(PermanentFailure, match=r"^reply_to: "):
        compose(make_delivery(reply_to=value or "x"), Letterhead.of(settings))


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"subject": None}, "subject"),
        ({"text": 3}, "text"),
        ({"html": ["<p>"]}, "html"),
        ({"to": None}, "to"),
    ],
)
def test_wrong_payload_types_name_the_field(settings: Settings, payload, field) -> None:
    with pytest.raises(PermanentFailure, match=rf"email payload: {field} must be"):
        compose(make_delivery(**payload), Letterhead.of(settings))


def test_a_bad_sender_is_transient(tmp_path: Path) -> None:
    settings = settings_from_dict({"mail": {"from": "Desk <desk@a@example.org>"}}, root=tmp_path)
    with pytest.raises(TransientFailure, match=r"mail\.from"):
        compose(make_delivery(), Letterhead.of(settings))


def test_envelope(settings: Settings) -> None:
    message = compose(make_delivery(), Letterhead.of(settings))
    assert (message.sender, message.recipients) == (
        "noreply@press.example.org",
        ("zoe@example.org",),
    )


def test_factory_picks_the_transport(tmp_path: Path) -> None:
    maildir = settings_from_dict({"mail": {"transport": "maildir"}}, root=tmp_path)
    smtp = settings_from_dict({"mail": {"transport": "smtp"}}, root=tmp_path)
    assert isinstance(email_channel(maildir.mail, Letterhead.of(maildir)), MaildirChannel)
    assert isinstance(email_channel(smtp.mail, Letterhead.of(smtp)), SmtpChannel)
    assert (
        email_channel(smtp.mail, Letterhead.of(smtp)).name
        == email_channel(maildir.mail, Letterhead.of(maildir)).name
        == "email"
    )


def to_name(raw: bytes) -> str:
    """The To display name as RFC 2047 reads it: policy.default's address parser puts a
    space between adjacent encoded words, which RFC 2047 section 6.2 says to drop."""
    match = re.search(rb"^To: (.*?) ?<zoe@example.org>\r\n", raw, re.M | re.S)
    if match is None:
        return ""
    decoded = str(make_header(decode_header(match[1].decode().replace("\r\n", ""))))
    if match[1].startswith(b'"'):  # a quoted ASCII name
        decoded = re.sub(r"\\(.)", r"\1", decoded[1:-1])
    return decoded


def test_long_subjects_and_names_are_folded_and_read_back(settings: Settings) -> None:
    subject = "Ministry statement on the " + "very " * 30 + "long négociations"
    name = "Zoë " * 30 + "Müller"
    d = make_delivery(subject=subject, to=f"{name} <zoe@example.org>")
    raw = compose(d, Letterhead.of(settings)).data
    assert all(len(line) <= 78 for line in raw.split(b"\r\n"))
    message = parsed(d, settings)
    assert message["Subject"] == subject
    assert to_name(raw) == name


@pytest.mark.parametrize(
    ("written", "name"),
    [
        ("J. Smith <j@example.org>", "J. Smith"),
        ('"Smith, \\"JJ\\" John" <j@example.org>', 'Smith, "JJ" John'),
        ("j@example.org", ""),
        ("  Ana   Lima   <ana@example.org>  ", "Ana Lima"),
    ],
)
def test_address_forms_people_write(settings: Settings, written: str, name: str) -> None:
    message = parsed(make_delivery(to=written), settings)
    [address] = message["To"].addresses
    assert (address.display_name, address.addr_spec) == (
        name,
        written.split("<")[-1].strip(" >") if "<" in written else written,
    )


_printable = st.text(
    st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")), max_size=120
)


@settings_for_hypothesis(max_examples=150, deadline=None)
@given(name=_printable, subject=_printable)
def test_any_name_and_subject_read_back_without_extra_headers(name: str, subject: str) -> None:
    config = settings_from_dict({"site": {"id_authority": "press.example.org"}}, root=Path("."))
    quoted = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    d = make_delivery(to=f"{quoted} <zoe@example.org>", subject=subject)
    raw = compose(d, Letterhead.of(config)).data
    assert raw.isascii()
    message = BytesParser(policy=default).parsebytes(raw)
    assert sorted(message.keys()) == sorted(
        ["From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type"]
    )
    # Outer blanks of a plain subject are folding whitespace to the parser (RFC 5322).
    assert message["Subject"] in (subject, subject.strip(" \t"))
    assert message["To"].addresses[0].addr_spec == "zoe@example.org"
    assert to_name(raw) == " ".join(name.split())
