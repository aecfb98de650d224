from __future__ import annotations

from email.parser import BytesParser
from email.policy import default
from pathlib import Path

import pytest

from feedsvc.channels import PermanentFailure, TransientFailure
from feedsvc.channels.email import Letterhead
from feedsvc.channels.maildir import MaildirChannel
from feedsvc.config import Settings, settings_from_dict
from tests.channels.smtp_server import CREATED, make_delivery


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_from_dict(
        {"site": {"id_authority": "press.example.org"}, "mail": {"maildir": "var/mail"}},
        root=tmp_path,
    )


def test_a_message_lands_in_new(settings: Settings) -> None:
    channel = MaildirChannel(settings.mail.maildir, Letterhead.of(settings))
    delivery = make_delivery()
    channel.send(delivery)
    channel.close()
    files = list((settings.mail.maildir / "new").iterdir())
    assert len(files) == 1
    raw = files[0].read_bytes()
    assert b"\r\n" not in raw  # a maildir file ends lines with LF
    message = BytesParser(policy=default).parsebytes(raw)
    assert message["To"].addresses[0].display_name == "Zoë Müller"
    assert b"\nTo: =?utf-8?" in raw and b"?= <zoe@example.org>\n" in raw
    assert message["Message-ID"] == f"<{delivery.stable_id}@press.example.org>"
    assert message["Date"].datetime == CREATED
    assert (
        message.get_body(("plain",)).get_content().replace("\r\n", "\n")
        == (delivery.payload["text"])
    )
    assert "A release you may like." in message.get_body(("html",)).get_content()


def test_a_bad_payload_writes_nothing(settings: Settings) -> None:
    with pytest.raises(PermanentFailure, match="subject"):
        MaildirChannel(settings.mail.maildir, Letterhead.of(settings)).send(
            make_delivery(subject="Hi\r\nBcc: evil@example.org")
        )
    assert not settings.mail.maildir.exists()


def test_a_write_error_is_transient(settings: Settings) -> None:
    settings.mail.maildir.parent.mkdir(parents=True)
    settings.mail.maildir.write_text("a file where the maildir should be")
    with pytest.raises(TransientFailure, match="could not write to the maildir"):
        MaildirChannel(settings.mail.maildir, Letterhead.of(settings)).send(make_delivery())
