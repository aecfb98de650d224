"""Channels: one method each, `send(delivery)`, that either returns (delivered) or raises
one of the failures below. Each channel maps its library's errors to these at its own
edge; the outbox decides from them whether to retry, wait, give up or disable an endpoint.
"""

from __future__ import annotations

from typing import Protocol

from feedsvc.model import Delivery


class DeliveryFailed(Exception):
    """The message was not delivered. `retry_after`: seconds the receiver asked us to wait."""

    transient = True

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TransientFailure(DeliveryFailed):
    """Worth trying again later: a timeout, a refused connection, SMTP 4xx, HTTP 5xx/429."""


class PermanentFailure(DeliveryFailed):
    """Trying again will not help: SMTP 5xx for the recipient, HTTP 4xx, a forbidden target."""

    transient = False


class Cancelled(PermanentFailure):
    """Nothing is to be sent after all (issue 16): the release was withdrawn, the
    subscriber left, a digest found nothing. Recorded as cancelled, not dead."""


class EndpointGone(PermanentFailure):
    """The receiver said it wants no more messages (HTTP 410): the endpoint is disabled."""


class Channel(Protocol):
    name: str  # the channel column of the deliveries it sends

    def send(self, delivery: Delivery) -> None: ...

    def close(self) -> None:
        """The batch is over: let go of connections kept open across sends."""
        ...
