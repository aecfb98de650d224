"""Webhooks as Standard Webhooks 1.0 has them: the event JSON, signed with each of the
endpoint's secrets, POSTed to the endpoint.

payload: the event, {"type", "timestamp", "data"}, as the producer built it.
target: the endpoint's URL, as configured in [[webhooks]].
"""

from __future__ import annotations

import datetime as dt
import json

import requests
from standardwebhooks.webhooks import EmptyWebhookSecretError, Webhook

from feedsvc.channels import EndpointGone, PermanentFailure, TransientFailure
from feedsvc.channels.net import HttpChannel, Resolver, describe, failure_for, post, resolve_host
from feedsvc.clock import Clock
from feedsvc.config import OutboxSettings, WebhookSettings
from feedsvc.model import Delivery

MAX_BODY_BYTES = 20_000  # Standard Webhooks, "Payload size": smaller than 20 kB


class WebhookChannel(HttpChannel):
    name = "webhook"

    def __init__(
        self,
        outbox: OutboxSettings,
        endpoints: tuple[WebhookSettings, ...],
        session: requests.Session | None = None,
        *,
        clock: Clock | None = None,
        resolve: Resolver = resolve_host,
    ) -> None:
        super().__init__(outbox, session, clock=clock, resolve=resolve)
        self._endpoints = endpoints  # [[webhooks]]

    def send(self, delivery: Delivery) -> None:
        endpoint = self._endpoint(delivery.target)
        # Minified, and signed exactly as sent (Standard Webhooks, "Signature scheme").
        body = json.dumps(dict(delivery.payload), separators=(",", ":"), ensure_ascii=False)
        data = body.encode()
        if len(data) > MAX_BODY_BYTES:
            raise PermanentFailure(
                f"the event is {len(data)} bytes of JSON, more than the {MAX_BODY_BYTES} "
                "a webhook may carry"
            )
        # The timestamp is the attempt's, fresh on every retry; the id stays the same, so
        # receivers can de-duplicate on it (Standard Webhooks, "Webhook metadata").
        now = self._clock.now().astimezone(dt.UTC)
        headers = {
            "Content-Type": "application/json",
            **signature_headers(endpoint, f"msg_{delivery.stable_id}", now, body),
        }
        outbox = self._outbox
        reply = post(
            self._session,
            endpoint.url,
            body=data,
            headers=headers,
            timeout=outbox.webhook_timeout_seconds,
            allow_private=outbox.allow_private_targets,
            resolve=self._resolve,
        )
        if reply.status == 410:
            # Standard Webhooks, "Delivery success and failure": the receiver wants no more.
            raise EndpointGone(describe(reply))
        failure = failure_for(reply, now)
        if failure is not None:
            raise failure

    def _endpoint(self, url: str) -> WebhookSettings:
        for endpoint in self._endpoints:
            if endpoint.url == url:
                return endpoint
        raise PermanentFailure(f"{url} is no longer a configured endpoint ([[webhooks]])")


def signature_headers(
    endpoint: WebhookSettings, msg_id: str, now: dt.datetime, body: str
) -> dict[str, str]:
    """The webhook-* headers (Standard Webhooks, "Webhook headers"): one signature per
    secret, newest first, space separated, so a secret can rotate without downtime."""
    secrets = endpoint.secrets
    if not secrets:
        raise TransientFailure(
            f"the environment variable {endpoint.secret_env} is not set or empty: it must "
            f"hold the whsec_... secret of {endpoint.url}"
        )
    try:
        signatures = [Webhook(secret).sign(msg_id, now, body) for secret in secrets]
    except (ValueError, EmptyWebhookSecretError):
        # Never the value itself in the message: it is (close to) a secret.
        raise TransientFailure(
            f"the environment variable {endpoint.secret_env} holds something that is not a "
            "whsec_... secret (whsec_ followed by base64)"
        ) from None
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
