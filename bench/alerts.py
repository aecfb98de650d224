"""Email alerts benchmark (issue 16): a release fanned out to 100,000 subscribers, the alerts
dispatched beside raw smtplib, a daily digest, and instances on PostgreSQL sharing the
dispatch, in one run.

    .venv/bin/python bench/alerts.py [--subscribers 100000] [--send 100000] [--instances 3]
                                     [--rounds 3] [--quick] [--no-readme]

Run on demand, never as a test (see bench/README.md). Subscribers are inserted in bulk;
the release is published through the real path (a file in items/, `ingest`, the fan-out in
the publish transaction; in phase 3 `feedsvc serve` scans it itself). The SMTP sink
(bench/instances.py's: aiosmtpd in a process of its own) counts every message and every
distinct Message-ID: a run after which a message is missing or came twice stops the
benchmark. Figures are medians of `--rounds`; the README is not written (the table is
printed, as `bench/all.py` collects it).
"""

import argparse
import contextlib
import datetime as dt
import os
import re
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path
from statistics import median
from typing import Any

import requests

from feedsvc.clock import SystemClock
from feedsvc.config import Settings, settings_from_dict
from feedsvc.ingest import ingest
from feedsvc.service import announcing, dispatcher
from feedsvc.store import Store
from feedsvc.store.alert_admin import NewSubscriber, import_subscribers

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests/pg.py and bench/instances.py, run as a script
from bench.instances import (  # noqa: E402
    Instance,
    Sink,
    free_port,
    start_sink,
    stop_instances,
    toml,
)
from tests import pg  # noqa: E402
from tests.conftest import newsroom_text  # noqa: E402

CLOCK = SystemClock()
SENDER = "Press Office <press@press.example.org>"
SQLITE, PG = "SQLite", "PostgreSQL"
FAN_OUT_TARGET, DIGEST_TARGET, RATIO_TARGET, RSS_TARGET = 2.0, 60.0, 0.5, 300.0
ALERT_DELIVERED = re.compile(
    r'^feedsvc_deliveries_total\{channel="alert",outcome="delivered"\} (\d+)$', re.M
)
os.environ.setdefault("FEEDSVC_SECRET_KEY", "bench-alerts-" + "k" * 40)  # every instance's


# -- a store with subscribers --------------------------------------------------------------


def config(folder: Path, url: str, sink: Sink, **more: dict[str, Any]) -> dict[str, Any]:
    tables: dict[str, Any] = {
        "site": {"base_url": "https://press.example.org/", "id_authority": "press.example.org"},
        "database": {"url": url},
        "items": {"dir": str(folder / "items")},
        "mail": {
            "transport": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": sink.port,
            "smtp_security": "none",
            "from": SENDER,
        },
    }
    for name, values in more.items():
        tables.setdefault(name, {}).update(values)
    return tables


def subscribe(store: Store, n: int, frequency: str) -> float:
    """n confirmed subscribers of everything, inserted in bulk; the seconds it took."""
    now = CLOCK.now()
    rows = [
        NewSubscriber(f"{i:064x}", f"reader{i}@example.org", frequency, None, None, now, "b", "b")
        for i in range(n)
    ]
    t0 = time.perf_counter()
    if import_subscribers(store.engine, rows, now) != n:
        sys.exit("bench: the subscribers were not all inserted")
    return time.perf_counter() - t0


def new_url(database: str, folder: Path) -> str:
    return pg.fresh_database() if database == PG else f"sqlite:///{folder}/feedsvc.db"


def release_file(folder: Path, name: str) -> None:
    """Today's release, so it is news (not an archive import, which is not alerted)."""
    today = CLOCK.now().strftime("%B %d, %Y").replace(" 0", " ")
    paragraphs = ["the ministry approved the harbour works.", "Work begins on Monday."]
    (folder / "items").mkdir(exist_ok=True)
    (folder / "items" / f"{name}.txt").write_text(newsroom_text(name, today, paragraphs))


@contextlib.contextmanager
def office(database: str, sink: Sink, **more: dict[str, Any]) -> Iterator[tuple[Settings, Store]]:
    with tempfile.TemporaryDirectory(prefix="feedsvc-alerts-bench-") as tmp:
        folder = Path(tmp)
        settings = settings_from_dict(
            config(folder, new_url(database, folder), sink, **more), root=folder
        )
        store = Store.open(settings.database.url)
        announcing(store, settings)
        try:
            yield settings, store
        finally:
            store.close()


def alerts_queued(store: Store) -> int:
    return sum(n for (channel, _), n in store.outbox.counts().items() if channel == "alert")


# -- 1. the fan-out in the publish transaction, and a daily digest --------------------------


@dataclass(frozen=True)
class Publish:
    seconds: float  # ingest of the new release file, its fan-out included
    fan_out: float  # the fan-out's own part of the publish transaction
    queued: int


def publish(settings: Settings, store: Store, name: str) -> Publish:
    timed = {"fan_out": 0.0}
    inner = store.releases.fan_out

    def fan_out(*args: Any) -> int:
        t0 = time.perf_counter()
        try:
            return inner(*args) if inner else 0
        finally:
            timed["fan_out"] += time.perf_counter() - t0

    store.releases.fan_out = fan_out
    release_file(settings.items.dir.parent, name)
    before = alerts_queued(store)
    t0 = time.perf_counter()
    ingest(settings, store, CLOCK)
    seconds = time.perf_counter() - t0
    return Publish(seconds, timed["fan_out"], alerts_queued(store) - before)


def fan_out_round(database: str, n: int, sink: Sink) -> tuple[Publish, Publish, float]:
    """(the publish with n subscribers, the same publish with none, the insert's seconds)."""
    with office(database, sink) as (settings, store):
        alone = publish(settings, store, "first")  # nobody subscribes yet: the baseline
        inserted = subscribe(store, n, "immediate")
        fanned = publish(settings, store, "second")
    if fanned.queued != n:
        sys.exit(f"bench: the fan-out queued {fanned.queued} alerts, not {n}")
    return fanned, alone, inserted


def digest_round(database: str, n: int, sink: Sink) -> float:
    """Seconds to queue the daily digests of n daily subscribers one release matched."""
    with office(database, sink) as (settings, store):
        subscribe(store, n, "daily")
        publish(settings, store, "news")
        until = CLOCK.now() + dt.timedelta(seconds=1)
        t0 = time.perf_counter()
        queued = store.alerts.enqueue_digests("daily", until.date().isoformat(), until, CLOCK.now())
        seconds = time.perf_counter() - t0
    if queued != n:
        sys.exit(f"bench: {queued} digests queued, not {n}")
    return seconds


# -- 2. dispatch through the outbox beside raw smtplib ---------------------------------------


@dataclass(frozen=True)
class Dispatch:
    seconds: float
    peak_rss_mib: float  # this process while it dispatched (sampled every 20 ms)
    duplicates: int


def rss_mib(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@contextlib.contextmanager
def peak_rss(pids: Callable[[], list[int | str]]) -> Iterator[dict[str, float]]:
    """The highest RSS of each process of `pids()` while the block runs."""
    peaks: dict[str, float] = {}
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            for pid in pids():
                with contextlib.suppress(OSError):
                    peaks[str(pid)] = max(peaks.get(str(pid), 0.0), rss_mib(pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peaks
    finally:
        done.set()
        sampler.join()


def exactly_once(sink: Sink, before: tuple[int, int], n: int) -> int:
    """Check that the sink got n distinct Message-IDs since `before`; the duplicates."""
    time.sleep(0.3)  # anything sent twice would arrive by now
    count, distinct = (a - b for a, b in zip(sink.tally(), before, strict=True))
    if distinct != n:
        sys.exit(f"bench: the sink got {distinct} distinct Message-IDs of {n} ({count} messages)")
    return count - distinct


def ours(n: int, sink: Sink) -> Dispatch:
    """n alerts of one release, fanned out, then sent by the dispatcher `feedsvc serve`
    builds (its alert lanes: mail.smtp_connections), composed at send time."""
    with office(SQLITE, sink) as (settings, store):
        subscribe(store, n, "immediate")
        publish(settings, store, "harbour-works")
        send, before = dispatcher(settings, store, CLOCK), sink.tally()
        with peak_rss(lambda: ["self"]) as peaks:
            t0 = time.perf_counter()
            while (done := store.outbox.counts()["alert", "delivered"]) < n:
                report = send.run(budget=60)
                if set(report.outcomes) - {("alert", "delivered")}:
                    sys.exit(f"bench: {done} of {n} delivered: {report.outcomes}")
            seconds = time.perf_counter() - t0
    return Dispatch(seconds, peaks.get("self", 0.0), exactly_once(sink, before, n))


def alert_template() -> bytes:
    """An alert as a mail client would get it (text and HTML, List-Unsubscribe), built once;
    each message differs in its recipient and Message-ID."""
    message = EmailMessage(policy=SMTP)
    message["From"], message["To"] = SENDER, "reader{i}@example.org"
    message["Subject"] = "New release: harbour works begin on Monday"
    message["Date"] = format_datetime(CLOCK.now())
    message["Message-ID"] = "<raw-{i}@bench.example.org>"  # {i} made unique a run
    message["List-Id"] = "Releases <releases.press.example.org>"
    message["List-Unsubscribe"] = "<https://press.example.org/alerts/unsubscribe?t={i}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    text = "The ministry approved the harbour works. Work begins on Monday.\n" * 6
    message.set_content(text)
    message.add_alternative("<p>" + text.replace("\n", "</p><p>") + "</p>", subtype="html")
    return message.as_bytes()


def raw_smtplib(n: int, sink: Sink, connections: int) -> Dispatch:
    """n alerts over `connections` smtplib connections in threads (each message its bytes
    from the template: a format, no composing)."""
    template = alert_template().replace(b"raw-{i}", f"raw-{time.time_ns()}-{{i}}".encode())

    def send(share: range) -> None:
        with smtplib.SMTP("127.0.0.1", sink.port) as connection:
            for i in share:
                data = template.replace(b"{i}", str(i).encode())
                connection.sendmail(SENDER, [f"reader{i}@example.org"], data)

    before = sink.tally()
    threads = [
        threading.Thread(target=send, args=(range(k, n, connections),)) for k in range(connections)
    ]
    with peak_rss(lambda: ["self"]) as peaks:
        t0 = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - t0
    return Dispatch(seconds, peaks.get("self", 0.0), exactly_once(sink, before, n))


# -- 3. instances of `feedsvc serve` on PostgreSQL sharing the dispatch ----------------------


@dataclass(frozen=True)
class Shared:
    seconds: float  # from the release file dropped into items/ to the last alert delivered
    sent: list[int]  # alerts each instance delivered
    duplicates: int
    peak_rss_mib: list[float]  # each instance's highest RSS meanwhile
    feed_p99_idle_ms: float
    feed_p99_fan_out_ms: float  # /feed.xml of instance 1 from the file dropped to all queued
    feed_p99_sending_ms: float  # ... and from then until the last alert was delivered


def start_serves(k: int, url: str, sink: Sink, folder: Path) -> list[Instance]:
    """k `feedsvc serve` on one store and one items/ folder (each may become the leader)."""
    instances = []
    for n in range(k):
        root, port = folder / f"instance{n + 1}", free_port()
        root.mkdir()
        tables = config(
            folder,
            url,
            sink,
            database={"auto_upgrade": False},
            items={"scan_seconds": 1},
            outbox={"tick_seconds": 0.1},
            server={"port": port, "access_log": False},
        )
        (root / "config.toml").write_text(toml(tables), encoding="utf-8")
        with (root / "serve.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "feedsvc", "serve", "--config", str(root / "config.toml")],
                cwd=root,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        instances.append(Instance(root, port, process))
    for instance in instances:
        wait_healthy(instance, instances)
    return instances


def wait_healthy(instance: Instance, instances: list[Instance]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if instance.process.poll() is not None:
            break
        with contextlib.suppress(requests.ConnectionError):
            if requests.get(f"http://127.0.0.1:{instance.port}/healthz", timeout=2).ok:
                return
        time.sleep(0.05)
    stop_instances(instances)
    sys.exit(f"bench: feedsvc serve did not start:\n{instance.log()}")


def alert_delivered(instance: Instance) -> int:
    reply = requests.get(f"http://127.0.0.1:{instance.port}/metrics", timeout=5)
    found = ALERT_DELIVERED.search(reply.text)
    return int(found[1]) if found else 0


class FeedProbe:
    """GET /feed.xml of one instance, one request after another, keeping each latency."""

    def __init__(self, instance: Instance) -> None:
        self.url = f"http://127.0.0.1:{instance.port}/feed.xml"
        self.latencies: list[float] = []
        self.started: list[float] = []  # perf_counter when each request began
        self.failures = 0  # answers other than 200
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with requests.Session() as session:
            session.trust_env = False
            while not self._stop.is_set():
                t0 = time.perf_counter()
                status = session.get(self.url, timeout=10).status_code
                self.latencies.append(time.perf_counter() - t0)
                self.started.append(t0)
                if status != 200:
                    self.failures += 1
                time.sleep(0.005)

    def __enter__(self) -> "FeedProbe":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def p99_ms(self, since: float = 0.0, until: float = float("inf")) -> float:
        """p99 of the requests begun in [since, until)."""
        ordered = sorted(
            took for t, took in zip(self.started, self.latencies, strict=True) if since <= t < until
        )
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000 if ordered else 0.0


def shared_round(k: int, n: int, sink: Sink) -> Shared:
    with tempfile.TemporaryDirectory(prefix="feedsvc-alerts-instances-") as tmp:
        folder = Path(tmp)
        (folder / "items").mkdir()
        url = pg.fresh_database()
        store = Store.open(url)  # the schema, made once before any instance starts
        subscribe(store, n, "immediate")
        instances = start_serves(k, url, sink, folder)
        try:
            time.sleep(2)  # the start's first scan and renders are over
            with FeedProbe(instances[0]) as idle:
                time.sleep(5)
            before, sent0 = sink.tally(), [alert_delivered(i) for i in instances]
            pids = [i.process.pid for i in instances]
            with peak_rss(lambda: list(pids)) as peaks, FeedProbe(instances[0]) as busy:
                t0 = time.perf_counter()
                release_file(folder, "harbour-works")
                queued = wait_alerts(store, n, instances, 600)
                seconds = time.perf_counter() - t0
            duplicates = exactly_once(sink, before, n)
            sent = [alert_delivered(i) - s for i, s in zip(instances, sent0, strict=True)]
        finally:
            stop_instances(instances)
            store.close()
    if idle.failures or busy.failures:
        sys.exit(f"bench: /feed.xml failed {idle.failures + busy.failures} times")
    if sum(sent) != n:
        sys.exit(f"bench: the instances say they delivered {sent}, not {n} in all")
    rss = [peaks.get(str(pid), 0.0) for pid in pids]
    fan_out, sending = busy.p99_ms(until=queued), busy.p99_ms(since=queued)
    return Shared(seconds, sent, duplicates, rss, idle.p99_ms(), fan_out, sending)


def wait_alerts(store: Store, n: int, instances: list[Instance], seconds: float) -> float:
    """Wait for n alerts delivered; the perf_counter when they were first seen all queued."""
    deadline, queued = time.monotonic() + seconds, float("inf")
    while (done := (counts := store.outbox.counts())["alert", "delivered"]) < n:
        if queued == float("inf") and sum(v for (c, _), v in counts.items() if c == "alert") >= n:
            queued = time.perf_counter()
        if time.monotonic() > deadline:
            sys.exit(f"bench: {done} of {n} alerts delivered: {dict(store.outbox.counts())}")
        if dead := [i for i in instances if i.process.poll() is not None]:
            sys.exit(f"bench: an instance exited:\n{dead[0].log()}")
        time.sleep(0.05)
    return min(queued, time.perf_counter())


# -- the run and its table -------------------------------------------------------------------


def rounds(args: argparse.Namespace, sink: Sink) -> dict[str, list[Any]]:
    runs: dict[str, list[Any]] = {}

    def keep(name: str, value: Any, said: str) -> None:
        runs.setdefault(name, []).append(value)
        print(f"  round {k} {name:>24}: {said}", flush=True)

    s, n = args.subscribers, args.send
    for k in range(1, args.rounds + 1):
        for database in (SQLITE, PG):
            fanned, alone, inserted = fan_out_round(database, s, sink)
            keep(
                f"fan-out {database}",
                (fanned, alone),
                f"publish {fanned.seconds:.2f} s (fan-out {fanned.fan_out:.2f} s, {fanned.queued:,}"
                f" queued) vs {alone.seconds:.2f} s alone; {s:,} inserted in {inserted:.1f} s",
            )
            seconds = digest_round(database, s, sink)
            keep(f"digest {database}", seconds, f"{s:,} daily digests queued in {seconds:.2f} s")
        contenders: dict[str, Callable[[], Dispatch]] = {
            "ours": lambda: ours(n, sink),
            "raw 1": lambda: raw_smtplib(n, sink, 1),
            "raw 2": lambda: raw_smtplib(n, sink, 2),
        }
        names = list(contenders)
        for name in names[k % 3 :] + names[: k % 3]:  # each first in turn
            got = contenders[name]()
            keep(name, got, f"{n / got.seconds:,.0f} alerts/s, peak RSS {got.peak_rss_mib:.0f} MiB")
        if args.instances:
            got = shared_round(args.instances, n, sink)
            keep(
                "instances",
                got,
                f"{n / got.seconds:,.0f} alerts/s file to sink, sent {got.sent}, peak RSS "
                f"{max(got.peak_rss_mib):.0f} MiB, feed p99 {got.feed_p99_fan_out_ms:.1f} ms"
                f" (fan-out), {got.feed_p99_sending_ms:.1f} ms (sending) vs "
                f"{got.feed_p99_idle_ms:.1f} ms idle",
            )
    return runs


def table(args: argparse.Namespace, runs: dict[str, list[Any]]) -> str:
    lines = ["| what | ours (median) | baseline (median) | ratio | target | pass/fail |"]
    lines.append("| --- | ---: | ---: | ---: | --- | --- |")

    def row(what: str, a: float, b: float | None, fmt: str, goal: str = "—", ok=None) -> None:
        base, ratio = ("—", "—") if b is None else (fmt.format(b), f"{a / b:.2f}")
        verdict = "—" if ok is None else ("pass" if ok else "**FAIL**")
        lines.append(f"| {what} | {fmt.format(a)} | {base} | {ratio} | {goal} | {verdict} |")

    s, n = args.subscribers, args.send
    for database in (SQLITE, PG):
        pairs = runs[f"fan-out {database}"]
        publish_s = median(f.seconds for f, _ in pairs)
        fan_s = median(f.fan_out for f, _ in pairs)
        what = f"{database}: a release published to {s:,} subscribers (ingest, the fan-out "
        what += f"{fan_s:.2f} s of it), s, vs the same publish with none"
        alone = median(a.seconds for _, a in pairs)
        row(what, publish_s, alone, "{:.2f}", f"<= {FAN_OUT_TARGET:.0f} s", publish_s <= 2)
    for database in (SQLITE, PG):
        digest = median(runs[f"digest {database}"])
        what = f"{database}: daily digests of {s:,} subscribers queued, s"
        row(what, digest, None, "{:.2f}", f"<= {DIGEST_TARGET:.0f} s", digest <= DIGEST_TARGET)
    rate = {name: median(n / d.seconds for d in runs[name]) for name in ("ours", "raw 1", "raw 2")}
    what = f"alerts/s, {n:,} fanned out -> dispatcher (composed at send) -> SMTP sink, vs raw"
    ok = rate["ours"] >= RATIO_TARGET * rate["raw 1"]
    row(f"{what} smtplib (one connection)", rate["ours"], rate["raw 1"], "{:,.0f}", ">= 0.5 x", ok)
    row(f"{what} smtplib (two connections)", rate["ours"], rate["raw 2"], "{:,.0f}")
    rss = max(d.peak_rss_mib for d in runs["ours"])
    what = "peak RSS of the dispatching process (the bench itself, its store and lists), MiB,"
    row(f"{what} vs the raw run's", rss, max(d.peak_rss_mib for d in runs["raw 1"]), "{:.0f}")
    duplicates = sum(d.duplicates for d in runs["ours"])
    row(
        "alerts received twice at the sink (Message-IDs)",
        duplicates,
        None,
        "{:.0f}",
        "0",
        not duplicates,
    )
    if "instances" in runs:
        instance_rows(args.instances, n, runs["instances"], rate["ours"], row)
    return "\n".join(lines)


def instance_rows(
    k: int, n: int, shared: list[Shared], in_process: float, row: Callable[..., None]
) -> None:
    rate_k = median(n / x.seconds for x in shared)
    row(
        f"{k} x `feedsvc serve` on PostgreSQL: alerts/s, file in items/ to the last at the"
        " sink, vs one dispatcher in process",
        rate_k,
        in_process,
        "{:,.0f}",
    )
    twice = sum(x.duplicates for x in shared)
    spread = " / ".join(f"{v:,}" for v in shared[-1].sent)
    row(
        f"{k} instances: alerts received twice (each sent {spread})",
        twice,
        None,
        "{:.0f}",
        "0",
        not twice,
    )
    peak = max(max(x.peak_rss_mib) for x in shared)
    row(
        f"{k} instances: peak RSS of a `feedsvc serve` throughout, MiB",
        peak,
        None,
        "{:.0f}",
        f"<= {RSS_TARGET:.0f} MiB",
        peak <= RSS_TARGET,
    )
    idle = median(x.feed_p99_idle_ms for x in shared)
    busy = median(x.feed_p99_fan_out_ms for x in shared)
    what = "/feed.xml p99 (instance 1) from the release file dropped to its alerts queued, ms,"
    row(f"{what} vs idle", busy, idle, "{:.1f}", "<= 2 x", busy <= 2 * idle)
    sending = median(x.feed_p99_sending_ms for x in shared)
    what = f"/feed.xml p99 while {k} instances send the alerts, ms, vs idle"
    row(what, sending, idle, "{:.1f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subscribers", type=int, default=100_000, help="for the fan-out and digest")
    ap.add_argument("--send", type=int, default=100_000, help="alerts dispatched a run")
    ap.add_argument("--instances", type=int, default=3, help="serve on PostgreSQL (0: none)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds, each contender once a round")
    ap.add_argument("--quick", action="store_true", help="a smoke run: small N, one round")
    ap.add_argument("--no-readme", action="store_true", help="accepted; the README is not written")
    args = ap.parse_args()
    if args.quick:
        args.subscribers, args.send, args.rounds = 20_000, 5_000, 1
    if pg.binaries() is None:
        sys.exit("bench: PostgreSQL binaries not found (tests/pg.py)")
    model = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
    machine = f"nproc {len(os.sched_getaffinity(0))}, {model[1] if model else 'unknown CPU'}"
    sink = start_sink()
    try:
        print(f"{args.rounds} rounds; the SMTP sink in its own process on 127.0.0.1:", flush=True)
        runs = rounds(args, sink)
    finally:
        sink.process.terminate()
        sink.process.join(5)
        pg.stop()
    git = ["git", "-C", str(ROOT), "describe", "--always", "--dirty"]
    note = f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {machine}; medians of"
    code = subprocess.run(git, capture_output=True, text=True).stdout.strip()
    note += f" {args.rounds} rounds. Code: {code}."
    print(f"\n{table(args, runs)}\n\n{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
