"""The SMTP transport: one connection kept open across a batch of sends.

How failures map (the outbox retries transient ones):

- no connection, a timeout, a TLS or certificate error, the server hanging up, a server
  without STARTTLS, no FEEDSVC_SMTP_PASSWORD, a refused login (535): transient. They are
  about the server or the configuration, not the message: once fixed, queued mail flows.
- the reply to MAIL FROM, RCPT TO or DATA: 4xx transient, 5xx permanent. A 5xx to MAIL
  FROM is a `SenderRefused`: the server refuses our envelope, not the recipient, so the
  alert channel does not count it as the subscriber's bounce (issue 16).
"""

from __future__ import annotations

import smtplib
import ssl
import threading
from collections.abc import Sequence

from feedsvc.channels import DeliveryFailed, PermanentFailure, TransientFailure
from feedsvc.channels.email import Letterhead, compose
from feedsvc.config import SMTP_PASSWORD_ENV, MailSettings
from feedsvc.model import Delivery


class SenderRefused(PermanentFailure):
    """A 5xx reply to MAIL FROM: about the sender or the message, not the recipient."""


class SmtpChannel:
    name = "email"

    def __init__(
        self,
        mail: MailSettings,
        letterhead: Letterhead,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._mail = mail
        self._letterhead = letterhead
        self._server = f"{self._mail.smtp_host}:{self._mail.smtp_port}"
        if ssl_context is None and self._mail.smtp_security != "none":
            ssl_context = ssl.create_default_context()
        self._ssl_context = ssl_context
        # One kept-open connection a sending thread (the dispatcher's email lanes).
        self._local = threading.local()
        self._open: set[smtplib.SMTP] = set()
        self._lock = threading.Lock()

    @property
    def _connection(self) -> smtplib.SMTP | None:
        return getattr(self._local, "connection", None)

    @_connection.setter
    def _connection(self, connection: smtplib.SMTP | None) -> None:
        old = self._connection
        with self._lock:
            if old is not None:
                self._open.discard(old)
            if connection is not None:
                self._open.add(connection)
        self._local.connection = connection

    def send(self, delivery: Delivery) -> None:
        message = compose(delivery, self._letterhead)
        sender, recipients, data = message.sender, list(message.recipients), message.data
        for attempt in (1, 2):
            reused = self._connection is not None
            connection = self._connection or self._connect()
            try:
                connection.sendmail(sender, recipients, data)
                return
            except OSError as error:  # smtplib's exceptions are OSErrors too
                if not _refusal(error) or connection.sock is None:
                    self._drop()  # in doubt about the session's state: start the next one clean
                # A kept-open connection may have been closed by the server while idle.
                if not (reused and attempt == 1 and _hung_up(error)):
                    raise _failure(error, self._server) from error

    def close(self) -> None:
        """Say QUIT on every connection (called once the dispatcher's lanes are idle)."""
        with self._lock:
            connections, self._open = self._open, set()
        for connection in connections:
            try:
                connection.quit()
            except OSError:
                connection.close()
        self._local = threading.local()

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def _connect(self) -> smtplib.SMTP:
        mail = self._mail
        password = mail.smtp_password if mail.smtp_username else None
        if mail.smtp_username and not password:
            raise TransientFailure(
                f"mail.smtp_username is set but {SMTP_PASSWORD_ENV} is not: "
                "set it to the SMTP password"
            )
        connection: smtplib.SMTP | None = None
        try:
            if mail.smtp_security == "ssl":
                connection = _SMTP_SSL(
                    mail.smtp_host,
                    mail.smtp_port,
                    timeout=mail.smtp_timeout_seconds,
                    context=self._ssl_context,
                )
            else:
                connection = _SMTP(
                    mail.smtp_host, mail.smtp_port, timeout=mail.smtp_timeout_seconds
                )
            connection.ehlo()
            if mail.smtp_security == "starttls":
                if not connection.has_extn("starttls"):
                    raise TransientFailure(
                        f"{self._server} does not offer STARTTLS; mail is not sent in "
                        'clear text (set mail.smtp_security = "ssl" if it speaks SMTPS)'
                    )
                connection.starttls(context=self._ssl_context)
                connection.ehlo()
            if password is not None:
                connection.login(mail.smtp_username, password)
        except (OSError, DeliveryFailed) as error:
            if connection is not None:
                connection.close()
            if isinstance(error, DeliveryFailed):
                raise
            raise TransientFailure(_describe(error, self._server)) from error
        self._connection = connection
        return connection


class _BareAddresses(smtplib.SMTP):
    """MAIL FROM and RCPT TO without smtplib's quoteaddr, which parses every address with
    email.utils.parseaddr: 13% of sending an alert (issue 16). The addresses here are bare
    addr-specs already (channels/email.py checked each), so `<addr>` is what RFC 5321
    wants and all quoteaddr would have written."""

    def mail(self, sender: str, options: Sequence[str] = ()) -> tuple[int, bytes]:
        if any(option.lower() == "smtputf8" for option in options):
            return super().mail(sender, options)  # never asked for: no SMTPUTF8 here
        extra = " " + " ".join(options) if options and self.does_esmtp else ""
        self.putcmd("mail", f"FROM:<{sender}>{extra}")
        return self.getreply()

    def rcpt(self, recip: str, options: Sequence[str] = ()) -> tuple[int, bytes]:
        extra = " " + " ".join(options) if options and self.does_esmtp else ""
        self.putcmd("rcpt", f"TO:<{recip}>{extra}")
        return self.getreply()


class _SMTP(_BareAddresses):
    pass


class _SMTP_SSL(_BareAddresses, smtplib.SMTP_SSL):
    pass


def _refusal(error: OSError) -> bool:
    """A reply refusing the message: smtplib has sent RSET, the connection is reusable."""
    return isinstance(error, smtplib.SMTPRecipientsRefused | smtplib.SMTPResponseException)


def _code(error: OSError) -> int | None:
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code
    if isinstance(error, smtplib.SMTPRecipientsRefused) and error.recipients:
        return max(code for code, _ in error.recipients.values())
    return None


def _hung_up(error: OSError) -> bool:
    # 421: the server is closing the channel, e.g. Postfix after an idle timeout (RFC 5321 4.2.2).
    return isinstance(error, smtplib.SMTPServerDisconnected) or _code(error) == 421


def _failure(error: OSError, server: str) -> DeliveryFailed:
    code = _code(error)
    message = _describe(error, server)
    if code is not None and 500 <= code < 600:
        if isinstance(error, smtplib.SMTPSenderRefused):
            return SenderRefused(message)
        return PermanentFailure(message)
    return TransientFailure(message)


def _describe(error: OSError, server: str) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        refused = "; ".join(
            f"{address} refused: {code} {_text(reply)}"
            for address, (code, reply) in error.recipients.items()
        )
        return f"SMTP {server}: {refused}"
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return f"SMTP {server}: login refused: {error.smtp_code} {_text(error.smtp_error)}"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"SMTP {server}: {error.smtp_code} {_text(error.smtp_error)}"
    if isinstance(error, TimeoutError) or isinstance(error.__context__, TimeoutError):
        return f"SMTP {server}: no answer in time"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"SMTP {server}: certificate not trusted: {error.verify_message}"
    return f"SMTP {server}: {error}"


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
