"""/metrics for email alerts (issue 16): subscribers by status and frequency read from a real
store, the subscribe desk's outcomes, and what the bounce job read and digests queued."""

from __future__ import annotations

import datetime as dt
import mailbox

from feedsvc.alerts.bounce_job import read_bounces
from feedsvc.alerts.bounces import return_path
from feedsvc.config import AlertSettings
from feedsvc.web.metrics import Metrics
from tests.alerts.test_bounces import postfix_hard, vacation_reply
from tests.conftest import Newsroom
from tests.web.conftest import parse_metrics

T0 = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)
KEY = b"metrics-test-key-0123456789abcdef"


def sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    return parse_metrics(metrics.render().decode()).get((name, frozenset(labels.items())))


def test_alert_metrics_are_read_from_the_store_and_the_jobs(newsroom: Newsroom) -> None:
    subs = newsroom.store.subscribers
    ids = [
        subs.request(f"h{i}", f"r{i}@example.org", "daily", None, None, T0, "n", "f")
        for i in range(3)
    ]
    subs.confirm(ids[0], T0)
    metrics = Metrics()
    assert "feedsvc_alert" not in metrics.render().decode()  # nothing wired: nothing said
    metrics.subscribers = subs.counts
    metrics.alerts = lambda: {"accepted": 4, "limited": 1}
    assert sample(metrics, "feedsvc_alert_subscribers", status="pending", frequency="daily") == 2
    assert sample(metrics, "feedsvc_alert_subscribers", status="confirmed", frequency="daily") == 1
    subs.unsubscribe(ids[1], T0)  # read when scraped, not when wired
    assert sample(metrics, "feedsvc_alert_subscribers", status="pending", frequency="daily") == 1
    assert sample(metrics, "feedsvc_alert_requests_total", outcome="limited") == 1

    box = mailbox.Maildir(newsroom.root / "bounces", create=True)
    box.add(postfix_hard(return_path(ids[0], "press.example.org", KEY)))
    box.add(vacation_reply())
    for _ in range(2):  # the second run finds nothing new: the counts stay
        counts = read_bounces(
            newsroom.root / "bounces", newsroom.store, KEY, "press.example.org", AlertSettings(), T0
        )
        metrics.bounces_read(counts)
    assert sample(metrics, "feedsvc_alert_bounces_total", outcome="hard") == 1
    assert sample(metrics, "feedsvc_alert_bounces_total", outcome="suspended") == 1
    assert sample(metrics, "feedsvc_alert_bounces_total", outcome="ignored") == 1
    metrics.digests_queued("daily", 3)
    metrics.digests_queued("daily", 2)
    assert sample(metrics, "feedsvc_alert_digests_total", frequency="daily") == 5
    text = metrics.render().decode()
    assert "# TYPE feedsvc_alert_subscribers gauge" in text
    assert "# TYPE feedsvc_alert_bounces_total counter" in text
