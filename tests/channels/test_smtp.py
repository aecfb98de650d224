from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from feedsvc.channels import PermanentFailure, TransientFailure
from feedsvc.channels.email import Letterhead
from feedsvc.channels.smtp import SmtpChannel
from feedsvc.config import SMTP_PASSWORD_ENV, Settings, settings_from_dict
from tests.channels.smtp_server import (
    CREATED,
    PASSWORD,
    TLS,
    USERNAME,
    Recorder,
    authenticate,
    make_delivery,
    make_tls,
    smtp_server,
)


@pytest.fixture(scope="module")
def tls() -> TLS:
    return make_tls()


def smtp_channel(settings: Settings, ssl_context: ssl.SSLContext | None = None) -> SmtpChannel:
    return SmtpChannel(settings.mail, Letterhead.of(settings), ssl_context)


def smtp_settings(tmp_path: Path, port: int, security: str = "none", **mail) -> Settings:
    mail = {
        "transport": "smtp",
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_security": security,
        "smtp_timeout_seconds": 2.0,
        **mail,
    }
    return settings_from_dict(
        {"site": {"id_authority": "press.example.org"}, "mail": mail}, root=tmp_path
    )


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def plain(tmp_path: Path, recorder: Recorder) -> Iterator[SmtpChannel]:
    """A channel to a plain (loopback) server that records what it receives."""
    with smtp_server(recorder) as server:
        channel = smtp_channel(smtp_settings(tmp_path, server.port))
        yield channel
        channel.close()


@pytest.fixture
def starttls(tmp_path: Path, tls: TLS, recorder: Recorder, monkeypatch) -> Iterator[Settings]:
    monkeypatch.setenv(SMTP_PASSWORD_ENV, PASSWORD)
    server = smtp_server(
        recorder,
        tls_context=tls.server,
        require_starttls=True,
        authenticator=authenticate,
        auth_require_tls=True,
        auth_required=True,
    )
    with server as controller:
        yield smtp_settings(tmp_path, controller.port, "starttls", smtp_username=USERNAME)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- what the server receives ------------------------------------------------------------


def test_the_message_and_its_envelope(plain: SmtpChannel, recorder: Recorder) -> None:
    delivery = make_delivery(to="王小明 <wang@example.org>", html="<p>你好，王小明</p>")
    plain.send(delivery)
    [received] = recorder.received
    assert received.mail_from == "noreply@press.example.org"
    assert received.rcpt_tos == ["wang@example.org"]
    assert b"To: =?utf-8?b?546L5bCP5piO?= <wang@example.org>" in received.raw
    message = received.message
    assert message["To"].addresses[0].display_name == "王小明"
    assert message["Date"].datetime == CREATED
    assert message["Message-ID"] == f"<{delivery.stable_id}@press.example.org>"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert text == delivery.payload["text"]
    assert message.get_body(("html",)).get_content().strip() == "<p>你好，王小明</p>"


def test_message_id_is_stable_across_sends(plain: SmtpChannel, recorder: Recorder) -> None:
    plain.send(make_delivery("share:1"))
    plain.send(make_delivery("share:1"))
    plain.send(make_delivery("share:2"))
    first, again, other = (r.message["Message-ID"] for r in recorder.received)
    assert first == again
    assert other != first


@pytest.mark.parametrize(
    ("field", "value"),
    [("to", "a@example.org\r\nBcc: evil@example.org"), ("subject", "Hi\r\nBcc: evil@example.org")],
)
def test_header_injection_sends_nothing(plain: SmtpChannel, recorder: Recorder, field, value):
    with pytest.raises(PermanentFailure, match=field):
        plain.send(make_delivery(**{field: value}))
    assert recorder.received == []
    assert recorder.peers == []  # refused before connecting


# -- replies ------------------------------------------------------------------------------


def test_4xx_is_transient_and_the_retry_goes_through(plain: SmtpChannel, recorder: Recorder):
    recorder.data_replies.append("451 4.3.0 Try again later")
    with pytest.raises(TransientFailure, match=r"451 4\.3\.0 Try again later"):
        plain.send(make_delivery())
    plain.send(make_delivery())
    assert len(recorder.received) == 1
    assert len(recorder.peers) == 1  # RSET after the refusal: the session went on


def test_550_for_the_recipient_is_permanent(plain: SmtpChannel, recorder: Recorder) -> None:
    recorder.rcpt_replies.append("550 5.1.1 No such user")
    with pytest.raises(PermanentFailure, match=r"zoe@example.org refused: 550 5\.1\.1 No such"):
        plain.send(make_delivery())
    plain.send(make_delivery("share:2", to="other@example.org"))
    assert [r.rcpt_tos for r in recorder.received] == [["other@example.org"]]


def test_452_for_the_recipient_is_transient(plain: SmtpChannel, recorder: Recorder) -> None:
    recorder.rcpt_replies.append("452 4.2.2 Mailbox full")
    with pytest.raises(TransientFailure, match="452"):
        plain.send(make_delivery())


def test_554_for_the_data_is_permanent(plain: SmtpChannel, recorder: Recorder) -> None:
    recorder.data_replies.append("554 5.7.1 Message rejected as spam")
    with pytest.raises(PermanentFailure, match=r"554 5\.7\.1 Message rejected as spam"):
        plain.send(make_delivery())
    assert recorder.received == []


def test_5xx_for_the_sender_is_permanent(plain: SmtpChannel, recorder: Recorder) -> None:
    recorder.mail_replies.append("552 5.3.4 Message too big")
    with pytest.raises(PermanentFailure, match="552"):
        plain.send(make_delivery())


# -- connections --------------------------------------------------------------------------


def test_one_connection_for_a_batch(plain: SmtpChannel, recorder: Recorder) -> None:
    for n in range(5):
        plain.send(make_delivery(f"share:{n}"))
    assert len(recorder.received) == 5
    assert len(recorder.peers) == 1
    plain.close()
    assert recorder.quits == 1
    plain.send(make_delivery("share:after"))
    assert len(recorder.peers) == 2


def test_reconnects_when_the_server_dropped_the_idle_connection(tmp_path: Path) -> None:
    recorder = Recorder()
    with smtp_server(recorder, timeout=0.2) as server:  # aiosmtpd hangs up after 0.2 s idle
        channel = smtp_channel(smtp_settings(tmp_path, server.port))
        channel.send(make_delivery("share:1"))
        time.sleep(0.5)
        channel.send(make_delivery("share:2"))
        channel.close()
    assert len(recorder.received) == 2
    assert len(recorder.peers) == 2


def test_reconnects_after_421_on_a_kept_connection(plain: SmtpChannel, recorder: Recorder):
    plain.send(make_delivery("share:1"))
    recorder.mail_replies.append("421 4.4.2 Idle timeout, closing connection")
    plain.send(make_delivery("share:2"))
    assert len(recorder.received) == 2
    assert len(recorder.peers) == 2


def test_421_on_a_new_connection_is_not_retried(plain: SmtpChannel, recorder: Recorder):
    recorder.mail_replies.append("421 4.3.2 Too busy")
    with pytest.raises(TransientFailure, match=r"421 4\.3\.2 Too busy"):
        plain.send(make_delivery())
    assert len(recorder.peers) == 1


def test_connection_refused_is_transient(tmp_path: Path) -> None:
    channel = smtp_channel(smtp_settings(tmp_path, free_port()))
    with pytest.raises(TransientFailure, match=r"127\.0\.0\.1:\d+: .*[Rr]efused"):
        channel.send(make_delivery())


def test_a_silent_server_times_out(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()  # the kernel accepts the connection; nobody ever answers
        port = listener.getsockname()[1]
        channel = smtp_channel(smtp_settings(tmp_path, port, smtp_timeout_seconds=0.3))
        started = time.monotonic()
        with pytest.raises(TransientFailure, match="no answer in time"):
            channel.send(make_delivery())
    assert time.monotonic() - started < 2


# -- TLS and login ------------------------------------------------------------------------


def test_starttls_and_login(starttls: Settings, tls: TLS, recorder: Recorder) -> None:
    channel = smtp_channel(starttls, ssl_context=tls.client)
    channel.send(make_delivery("share:1"))
    channel.send(make_delivery("share:2"))
    channel.close()
    assert len(recorder.received) == 2
    assert len(recorder.peers) == 1


def test_a_wrong_password_is_transient_and_not_shown(
    starttls: Settings, tls: TLS, recorder: Recorder, monkeypatch
) -> None:
    monkeypatch.setenv(SMTP_PASSWORD_ENV, "wrong-Passw0rd")
    with pytest.raises(TransientFailure, match="login refused: 535") as failure:
        smtp_channel(starttls, ssl_context=tls.client).send(make_delivery())
    assert "wrong-Passw0rd" not in str(failure.value)
    assert recorder.received == []


def test_a_missing_password_names_the_variable(
    starttls: Settings, tls: TLS, recorder: Recorder, monkeypatch
) -> None:
    monkeypatch.delenv(SMTP_PASSWORD_ENV)
    with pytest.raises(TransientFailure, match=SMTP_PASSWORD_ENV):
        smtp_channel(starttls, ssl_context=tls.client).send(make_delivery())
    assert recorder.peers == []


def test_an_untrusted_certificate_is_transient(starttls: Settings, recorder: Recorder) -> None:
    with pytest.raises(TransientFailure, match="certificate not trusted"):
        smtp_channel(starttls).send(make_delivery())  # the default context: not the test CA
    assert recorder.received == []


def test_no_starttls_offered_is_transient(tmp_path: Path, tls: TLS, recorder: Recorder) -> None:
    with smtp_server(recorder) as server:
        settings = smtp_settings(tmp_path, server.port, "starttls")
        with pytest.raises(TransientFailure, match="does not offer STARTTLS"):
            smtp_channel(settings, ssl_context=tls.client).send(make_delivery())
    assert recorder.received == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtps(tmp_path: Path, tls: TLS, recorder: Recorder, monkeypatch) -> None:
    monkeypatch.setenv(SMTP_PASSWORD_ENV, PASSWORD)
    # auth_require_tls=False: aiosmtpd counts only STARTTLS as TLS; this whole connection is.
    server = smtp_server(
        recorder,
        ssl_context=tls.server,
        authenticator=authenticate,
        auth_require_tls=False,
        auth_required=True,
    )
    with server as controller:
        settings = smtp_settings(tmp_path, controller.port, "ssl", smtp_username=USERNAME)
        channel = smtp_channel(settings, ssl_context=tls.client)
        channel.send(make_delivery())
        channel.close()
        with pytest.raises(TransientFailure, match="certificate not trusted"):
            smtp_channel(settings).send(make_delivery())
    assert len(recorder.received) == 1
