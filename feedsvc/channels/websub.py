"""WebSub pings: tell a hub that a feed (the topic) changed, so it fetches the feed and
pushes it to its subscribers.

payload: {"topic": <the feed's URL>}.
target: the hub's URL, as configured in websub.hubs.
"""

from __future__ import annotations

from urllib.parse import urlencode

import requests

from feedsvc.channels import PermanentFailure
from feedsvc.channels.net import HttpChannel, Resolver, failure_for, post, resolve_host
from feedsvc.clock import Clock
from feedsvc.config import OutboxSettings
from feedsvc.model import Delivery


class WebSubChannel(HttpChannel):
    name = "websub"

    def __init__(
        self,
        outbox: OutboxSettings,
        hubs: tuple[str, ...],
        session: requests.Session | None = None,
        *,
        clock: Clock | None = None,
        resolve: Resolver = resolve_host,
    ) -> None:
        super().__init__(outbox, session, clock=clock, resolve=resolve)
        self._hubs = hubs  # websub.hubs

    def send(self, delivery: Delivery) -> None:
        hub = delivery.target
        if hub not in self._hubs:
            raise PermanentFailure(f"{hub} is no longer a configured hub (websub.hubs)")
        topic = delivery.payload.get("topic")
        if not isinstance(topic, str) or not topic:
            raise PermanentFailure("a WebSub ping needs the feed's URL as payload['topic']")
        # WebSub (W3C Recommendation) section 7 leaves how a publisher tells its hub to the
        # two of them; hubs take the PubSubHubbub 0.4 form: hub.mode=publish, hub.url.
        body = urlencode({"hub.mode": "publish", "hub.url": topic}).encode()
        outbox = self._outbox
        reply = post(
            self._session,
            hub,
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=outbox.webhook_timeout_seconds,
            allow_private=outbox.allow_private_targets,
            resolve=self._resolve,
        )
        # 410 is a PermanentFailure like any 4xx: a hub is configured, not an endpoint
        # the outbox may disable.
        failure = failure_for(reply, self._clock.now())
        if failure is not None:
            raise failure
