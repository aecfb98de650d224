"""Real SMTP servers (aiosmtpd) on 127.0.0.1 for the email channel tests."""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from feedsvc.model import Delivery

USERNAME = "press"
PASSWORD = "s3cret-Passw0rd"
CREATED = dt.datetime(2024, 3, 5, 9, 30, 15, tzinfo=dt.UTC)


def make_delivery(key: str = "share:1", **payload: Any) -> Delivery:
    body = {
        "to": "Zoë Müller <zoe@example.org>",
        "subject": "Wang Yi: China and Russia — a release",
        "text": "Hello Zoë,\n\nA release you may like: https://press.example.org/r/1\n",
        "html": "<p>Hello Zoë,</p><p>A release you may like.</p>",
        "reply_to": None,
    }
    body.update(payload)
    return Delivery(
        id=1,
        channel="email",
        target="zoe@example.org",
        payload=body,
        key=key,
        status="sending",
        attempts=1,
        created_at=CREATED,
        next_attempt_at=CREATED,
    )


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return BytesParser(policy=default).parsebytes(self.raw)  # type: ignore[return-value]


@dataclass
class Recorder:
    """Keeps what it receives and the connections that said EHLO. Replies put in
    `mail_replies`, `rcpt_replies` or `data_replies` are given, first to last, instead of 250."""

    received: list[Received] = field(default_factory=list)
    peers: list[Any] = field(default_factory=list)
    quits: int = 0
    mail_replies: list[str] = field(default_factory=list)
    rcpt_replies: list[str] = field(default_factory=list)
    data_replies: list[str] = field(default_factory=list)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if session.peer not in self.peers:  # a second EHLO follows STARTTLS
            self.peers.append(session.peer)
        return responses

    async def handle_MAIL(self, server, session, envelope, address, options):
        if self.mail_replies:
            return self.mail_replies.pop(0)
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):
        if self.rcpt_replies:
            return self.rcpt_replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_replies:
            return self.data_replies.pop(0)
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
        )
        return "250 Message accepted"

    async def handle_QUIT(self, server, session, envelope):
        self.quits += 1
        return "221 Bye"


class _LocalController(Controller):
    """A Controller on an ephemeral port: the port is read back once the server listens."""

    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@contextmanager
def smtp_server(handler: Recorder, **kwargs: Any) -> Iterator[Controller]:
    controller = _LocalController(handler, hostname="127.0.0.1", port=0, **kwargs)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data == (
        USERNAME.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 535


@dataclass(frozen=True)
class TLS:
    """A test CA and a certificate it signed for 127.0.0.1 and localhost."""

    server: ssl.SSLContext
    client: ssl.SSLContext  # trusts the test CA only


def make_tls() -> TLS:
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return TLS(server, client)
