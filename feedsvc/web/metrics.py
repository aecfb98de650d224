"""Counters for /metrics, in the Prometheus text exposition format."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Mapping


class Metrics:
    def __init__(self) -> None:
        self.requests: Counter[tuple[str, int]] = Counter()  # (route, status)
        self.job_runs: Counter[str] = Counter()
        self.job_failures: Counter[str] = Counter()
        self.read_errors = 0  # problems reported since start
        self.gauges: dict[str, Callable[[], float]] = {}  # name -> how to read it now
        # The outbox: outcomes since start by (channel, outcome); deliveries by (channel,
        # status) now.
        self.deliveries: Callable[[], Mapping[tuple[str, str], int]] | None = None
        self.outbox_depth: Callable[[], Mapping[tuple[str, str], int]] | None = None
        self.shares: Callable[[], Mapping[str, int]] | None = None  # outcome -> count
        # Email alerts (issue 16): subscribers by (status, frequency) now (the store's
        # subscribers.counts); the subscribe desk's requests by outcome since start; what
        # the bounce job read and the digests queued since start (bounces_read, digests).
        # The alert emails' outcomes are the deliveries' of channel "alert".
        self.subscribers: Callable[[], Mapping[tuple[str, str], int]] | None = None
        self.alerts: Callable[[], Mapping[str, int]] | None = None
        self.bounces: Counter[str] = Counter()
        self.digests: Counter[str] = Counter()  # frequency -> digest emails queued
        self._lock = threading.Lock()  # jobs count from their own threads

    def job(self, name: str, ok: bool) -> None:
        with self._lock:
            self.job_runs[name] += 1
            if not ok:
                self.job_failures[name] += 1

    def bounces_read(self, counts: Mapping[str, int]) -> None:
        """Add one run of the bounce job (alerts/bounce_job.read_bounces' counts)."""
        with self._lock:
            self.bounces.update({outcome: n for outcome, n in counts.items() if n})

    def digests_queued(self, frequency: str, queued: int) -> None:
        with self._lock:
            self.digests[frequency] += queued

    def render(self) -> bytes:
        lines: list[str] = []

        def family(name: str, kind: str, help_text: str) -> None:
            lines.append(f"# HELP {name} {help_text}")
            lines.append(f"# TYPE {name} {kind}")

        family("feedsvc_http_requests_total", "counter", "HTTP requests by route and status.")
        requests = sorted(self.requests.items())
        for (route, status), count in requests:
            lines.append(
                f'feedsvc_http_requests_total{{route="{route}",status="{status}"}} {count}'
            )
        total = sum(count for _, count in requests)
        not_modified = sum(count for (_, status), count in requests if status == 304)
        family("feedsvc_http_not_modified_ratio", "gauge", "Share of requests answered 304.")
        lines.append(f"feedsvc_http_not_modified_ratio {not_modified / total if total else 0:.6f}")
        family("feedsvc_read_errors_total", "counter", "Release file problems reported.")
        lines.append(f"feedsvc_read_errors_total {self.read_errors}")
        family("feedsvc_job_runs_total", "counter", "Scheduler job runs.")
        for job, count in sorted(self.job_runs.items()):
            lines.append(f'feedsvc_job_runs_total{{job="{job}"}} {count}')
        family("feedsvc_job_failures_total", "counter", "Scheduler job runs that failed.")
        for job in sorted(self.job_runs):
            lines.append(f'feedsvc_job_failures_total{{job="{job}"}} {self.job_failures[job]}')
        if self.deliveries is not None:
            family("feedsvc_deliveries_total", "counter", "Delivery attempts by outcome.")
            for (channel, outcome), count in sorted(self.deliveries().items()):
                lines.append(
                    f'feedsvc_deliveries_total{{channel="{channel}",outcome="{outcome}"}} {count}'
                )
        if self.outbox_depth is not None:
            family("feedsvc_outbox_deliveries", "gauge", "Deliveries in the outbox by status.")
            for (channel, status), count in sorted(self.outbox_depth().items()):
                lines.append(
                    f'feedsvc_outbox_deliveries{{channel="{channel}",status="{status}"}} {count}'
                )
        if self.shares is not None:
            family("feedsvc_shares_total", "counter", "Share requests by outcome since start.")
            for outcome, count in sorted(self.shares().items()):
                lines.append(f'feedsvc_shares_total{{outcome="{outcome}"}} {count}')
        self._render_alerts(lines, family)
        for name, read in sorted(self.gauges.items()):
            family(name, "gauge", name.removeprefix("feedsvc_").replace("_", " ") + ".")
            lines.append(f"{name} {read()}")
        return ("\n".join(lines) + "\n").encode()

    def _render_alerts(self, lines: list[str], family: Callable[[str, str, str], None]) -> None:
        if self.subscribers is not None:
            family("feedsvc_alert_subscribers", "gauge", "Alert subscribers by status.")
            for (status, frequency), count in sorted(self.subscribers().items()):
                lines.append(
                    f'feedsvc_alert_subscribers{{status="{status}",frequency="{frequency}"}} '
                    f"{count}"
                )
        if self.alerts is not None:
            family("feedsvc_alert_requests_total", "counter", "Subscribe requests by outcome.")
            for outcome, count in sorted(self.alerts().items()):
                lines.append(f'feedsvc_alert_requests_total{{outcome="{outcome}"}} {count}')
        if self.bounces:
            family("feedsvc_alert_bounces_total", "counter", "Bounce maildir messages read.")
            for outcome, count in sorted(self.bounces.items()):
                lines.append(f'feedsvc_alert_bounces_total{{outcome="{outcome}"}} {count}')
        if self.digests:
            family("feedsvc_alert_digests_total", "counter", "Digest emails queued.")
            for frequency, count in sorted(self.digests.items()):
                lines.append(f'feedsvc_alert_digests_total{{frequency="{frequency}"}} {count}')
