"""Instances benchmark: email dispatch by 1, 2 and 3 `feedsvc serve` on one PostgreSQL,
beside one `feedsvc serve` on SQLite, in one run.

    .venv/bin/python bench/instances.py [--emails 3000] [--rounds 3] [--quick] [--no-readme]

Run on demand, never as a test (see bench/README.md). PostgreSQL is a throwaway cluster
(tests/pg.py); the SMTP sink runs in a process of its own on 127.0.0.1 and counts every
message and every distinct Message-ID: a run after which a message is missing or came
twice stops the benchmark.
"""

import argparse
import contextlib
import datetime as dt
import json
import multiprocessing
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any

import psycopg
import requests
from sqlalchemy import text

from feedsvc.clock import SystemClock
from feedsvc.config import settings_from_dict
from feedsvc.model import Outgoing
from feedsvc.service import dispatcher
from feedsvc.store import Store

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests/pg.py and bench/outbox.py, run as a script
from bench.outbox import SENDER, share_email  # noqa: E402
from tests import pg  # noqa: E402

BENCH = ROOT / "bench"
README = BENCH / "README.md"
START, END = "<!-- instances-results -->", "<!-- /instances-results -->"
SQLITE, PG = "sqlite", "postgresql"
TICK_SECONDS = 0.1  # each instance looks for due deliveries this often
POLL_SECONDS = 0.02  # the bench counts delivered rows this often
WARM = 60  # emails through the instances, untimed, before each timed burst
CLOCK = SystemClock()
CLK_TCK = os.sysconf("SC_CLK_TCK")
SPAWN = multiprocessing.get_context("spawn")  # the sink shares neither our GIL nor our state
MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*<([^>\r\n]+)>", re.M | re.I)
DELIVERED_METRIC = re.compile(
    r'^feedsvc_deliveries_total\{channel="email",outcome="delivered"\} (\d+)$', re.M
)


@dataclass(frozen=True)
class Setup:
    database: str  # SQLITE or PG
    instances: int
    connections: int = 2  # mail.smtp_connections of each instance (the default)

    @property
    def label(self) -> str:
        name = "PostgreSQL" if self.database == PG else "SQLite"
        what = f"{self.instances} instance{'s' if self.instances > 1 else ''} on {name}"
        return what if self.connections == 2 else f"{what}, {self.connections} SMTP connections"


BASELINE, ONE = Setup(SQLITE, 1), Setup(PG, 1)
# The last one has the SMTP lanes of three instances in one process: what more lanes alone
# give, without more processes.
SETUPS = (BASELINE, ONE, Setup(PG, 2), Setup(PG, 3), Setup(PG, 1, connections=6))


# -- CPU, from /proc -------------------------------------------------------------------------


def _processes() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds of it and of its children it waited for)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        # utime + stime + cutime + cstime: the times of children that ended are counted once,
        # in the parent that reaped them (a PostgreSQL backend that closed, for one).
        found[int(entry.name)] = (int(fields[1]), sum(map(int, fields[11:15])) / CLK_TCK)
    return found


def tree_cpu(roots: dict[str, int]) -> dict[str, float]:
    """CPU seconds used so far by each root process and everything under it."""
    processes = _processes()
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in processes.items():
        children.setdefault(parent, []).append(pid)
    totals = {}
    for name, root in roots.items():
        total, todo = 0.0, [root]
        while todo:
            pid = todo.pop()
            if pid in processes:
                total += processes[pid][1]
                todo += children.get(pid, [])
        totals[name] = total
    return totals


def machine_busy() -> tuple[float, float]:
    """(busy, all) jiffies of every core since boot (/proc/stat: all but idle and iowait)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return sum(fields) - fields[3] - fields[4], sum(fields)


# -- the SMTP sink ---------------------------------------------------------------------------


def smtp_sink(port: int, count: Any, distinct: Any) -> None:
    """aiosmtpd on uvloop, counting every message and every Message-ID not seen before."""
    import asyncio

    import uvloop
    from aiosmtpd.smtp import SMTP as Server

    seen: set[bytes] = set()

    class Count:
        async def handle_DATA(self, server, session, envelope) -> str:
            data = envelope.original_content or envelope.content
            found = MESSAGE_ID.search(data.split(b"\r\n\r\n", 1)[0])
            count.value += 1
            if found and found[1] not in seen:
                seen.add(found[1])
                distinct.value += 1
            return "250 OK"

    async def serve() -> None:
        # A fixed hostname: aiosmtpd would otherwise look up our FQDN on every connection.
        make = lambda: Server(Count(), hostname="sink.bench", ident="sink")  # noqa: E731
        server = await asyncio.get_running_loop().create_server(make, "127.0.0.1", port)
        await server.serve_forever()

    uvloop.run(serve())


@dataclass
class Sink:
    process: Any
    port: int
    count: Any  # messages received
    distinct: Any  # distinct Message-IDs among them

    def tally(self) -> tuple[int, int]:
        return self.count.value, self.distinct.value


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as s:
        return s.getsockname()[1]


def start_sink() -> Sink:
    port = free_port()
    count, distinct = SPAWN.RawValue("q", 0), SPAWN.RawValue("q", 0)
    process = SPAWN.Process(target=smtp_sink, args=(port, count, distinct), daemon=True)
    process.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.is_alive():
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return Sink(process, port, count, distinct)
        time.sleep(0.05)
    sys.exit(f"bench: the SMTP sink did not start listening on port {port}")


# -- instances -------------------------------------------------------------------------------


@dataclass
class Instance:
    folder: Path
    port: int
    process: subprocess.Popen[bytes]

    def log(self) -> str:
        return (self.folder / "serve.log").read_text(errors="replace")[-3000:]

    def delivered(self) -> int:
        """Emails this instance delivered since it started (its /metrics)."""
        reply = requests.get(f"http://127.0.0.1:{self.port}/metrics", timeout=5)
        found = DELIVERED_METRIC.search(reply.text)
        return int(found[1]) if found else 0


def toml(tables: dict[str, dict[str, Any]]) -> str:
    lines = []
    for name, table in tables.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in table.items()]
        lines.append("")
    return "\n".join(lines)


def start_instances(setup: Setup, url: str, sink: Sink, folder: Path) -> list[Instance]:
    """The setup's `feedsvc serve` on the store at `url` (its schema already made), each with
    a folder and a port of its own; returns once every one answers /healthz."""
    instances = []
    for n in range(setup.instances):
        root, port = folder / f"instance{n + 1}", free_port()
        (root / "items").mkdir(parents=True)
        config = {
            "site": {"base_url": f"http://127.0.0.1:{port}/", "id_authority": "press.example.org"},
            "database": {"url": url, "auto_upgrade": False},
            "items": {"dir": "items"},
            "mail": {
                "transport": "smtp",
                "smtp_host": "127.0.0.1",
                "smtp_port": sink.port,
                "smtp_security": "none",
                "from": SENDER,
                "smtp_connections": setup.connections,
            },
            "outbox": {"tick_seconds": TICK_SECONDS},
            "server": {"port": port, "access_log": False},
        }
        (root / "config.toml").write_text(toml(config), encoding="utf-8")
        with (root / "serve.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "feedsvc", "serve", "--config", str(root / "config.toml")],
                cwd=root,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        instances.append(Instance(root, port, process))
    deadline = time.monotonic() + 60
    for instance in instances:
        while True:
            if instance.process.poll() is not None:
                stop_instances(instances)
                sys.exit(f"bench: feedsvc serve exited at start:\n{instance.log()}")
            with contextlib.suppress(requests.ConnectionError):
                health = requests.get(f"http://127.0.0.1:{instance.port}/healthz", timeout=2)
                if health.status_code == 200:
                    break
            if time.monotonic() > deadline:
                stop_instances(instances)
                sys.exit(f"bench: /healthz did not answer within 60 s:\n{instance.log()}")
            time.sleep(0.05)
    return instances


def stop_instances(instances: list[Instance]) -> None:
    for instance in instances:
        if instance.process.poll() is None:
            instance.process.send_signal(signal.SIGTERM)
    for instance in instances:
        try:
            instance.process.wait(15)
        except subprocess.TimeoutExpired:
            instance.process.kill()
            instance.process.wait()


# -- one run ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    seconds: float
    instance_cpu: list[float]  # CPU seconds of each instance during the burst
    postgres_cpu: float  # every PostgreSQL process
    sink_cpu: float
    bench_cpu: float  # this process: enqueue excluded, the polling included
    machine: float  # cores busy on average, every process of the machine
    sent: list[int]  # emails each instance delivered
    duplicates: int

    @property
    def others(self) -> float:
        """Cores busy with what is none of the above (another job on a shared machine, the
        kernel's own work). Clock ticks are 10 ms: a short run can come out just below 0."""
        ours = sum(self.instance_cpu) + self.postgres_cpu + self.sink_cpu + self.bench_cpu
        return max(0.0, self.machine - ours / self.seconds)


def postmaster(url: str) -> int:
    """The pid of the cluster's postmaster (the parent of every PostgreSQL process)."""
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as conn:
        [(backend,)] = conn.execute("SELECT pg_backend_pid()").fetchall()
    return int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])


def batch(tag: str, n: int) -> list[Outgoing]:
    return [
        Outgoing("email", f"reader{i}@example.org", share_email(i), f"bench {tag} share {i}")
        for i in range(n)
    ]


def delivered(store: Store) -> int:
    with store.engine.connect() as conn:
        return conn.execute(
            text("SELECT count(*) FROM deliveries WHERE status = 'delivered'")
        ).scalar_one()


def wait_delivered(store: Store, total: int, instances: list[Instance], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while (done := delivered(store)) < total:
        if time.monotonic() > deadline:
            counts = dict(store.outbox.counts())
            sys.exit(f"bench: {done} of {total} delivered after {seconds:.0f} s: {counts}")
        if any(i.process.poll() is not None for i in instances):
            dead = next(i for i in instances if i.process.poll() is not None)
            sys.exit(f"bench: an instance exited:\n{dead.log()}")
        time.sleep(POLL_SECONDS)


def run(setup: Setup, n: int, sink: Sink, postgres: int, tag: str, folder: Path) -> Run:
    """Start the instances on a fresh store, warm them up, then time `n` emails enqueued in
    one transaction: from its commit to the moment the store counts every one delivered."""
    k = setup.instances
    url = pg.fresh_database() if setup.database == PG else f"sqlite:///{folder}/feedsvc.db"
    store = Store.open(url)  # the schema, made once before any instance starts
    instances = start_instances(setup, url, sink, folder)
    try:
        tally = sink.tally()
        store.outbox.enqueue(batch(f"{tag} warm", WARM), CLOCK.now())
        wait_delivered(store, WARM, instances, 60)
        burst = batch(tag, n)  # built before the clock starts
        if sink.tally()[0] != tally[0] + WARM:  # counted before the sink's reply
            sys.exit(f"bench: the sink got {sink.tally()[0] - tally[0]} of {WARM} warm-up emails")
        tally, sent0 = sink.tally(), [i.delivered() for i in instances]
        roots = {f"instance {j}": i.process.pid for j, i in enumerate(instances)}
        roots |= {"postgres": postgres, "sink": sink.process.pid}

        store.outbox.enqueue(burst, CLOCK.now())  # one transaction: all due at once
        t0, bench0 = time.perf_counter(), time.process_time()
        cpu0, busy0 = tree_cpu(roots), machine_busy()
        wait_delivered(store, WARM + n, instances, 300)
        t1, cpu1, busy1 = time.perf_counter(), tree_cpu(roots), machine_busy()
        bench_cpu = time.process_time() - bench0

        time.sleep(0.3)  # anything sent twice would arrive by now
        (count, distinct), (count0, distinct0) = sink.tally(), tally
        count, distinct = count - count0, distinct - distinct0
        if distinct != n:
            sys.exit(f"bench: the sink got {distinct} distinct Message-IDs of {n}")
        sent = [i.delivered() - before for i, before in zip(instances, sent0, strict=True)]
        if sum(sent) != n:
            sys.exit(f"bench: the instances say they delivered {sent}, not {n} in all")
        cores = len(os.sched_getaffinity(0))
        busy = (busy1[0] - busy0[0]) / (busy1[1] - busy0[1]) * cores
        used = {name: cpu1[name] - cpu0[name] for name in roots}
        return Run(
            seconds=t1 - t0,
            instance_cpu=[used[f"instance {j}"] for j in range(k)],
            postgres_cpu=used["postgres"],
            sink_cpu=used["sink"],
            bench_cpu=bench_cpu,
            machine=busy,
            sent=sent,
            duplicates=count - distinct,
        )
    finally:
        stop_instances(instances)
        store.close()


# -- inside one dispatcher -------------------------------------------------------------------


@dataclass(frozen=True)
class Inside:
    """One dispatcher in this process on PostgreSQL, its parts timed (wall, summed over lanes)."""

    lanes: int
    seconds: float
    cpu: float  # this process, all threads
    claims: int  # claims that found deliveries
    claim: float  # seconds in claim_due (the lanes wait meanwhile)
    send: float  # seconds in the channel's send: compose + the SMTP exchange
    record: float  # seconds recording outcomes: one transaction each


class Stopwatch:
    """Wall seconds spent in the methods it wraps, summed over threads."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._lock = threading.Lock()

    def wrap(self, owner: Any, method: str, name: str) -> None:
        inner: Callable[..., Any] = getattr(owner, method)
        self.seconds[name] = 0.0

        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                with self._lock:
                    self.seconds[name] += time.perf_counter() - t0

        setattr(owner, method, timed)  # on this instance only


def inside(lanes: int, n: int, sink: Sink, tag: str) -> Inside:
    """The dispatcher `feedsvc serve` builds, run here on a fresh PostgreSQL database."""
    with tempfile.TemporaryDirectory(prefix="feedsvc-instances-bench-") as tmp:
        url = pg.fresh_database()
        mail = {"transport": "smtp", "smtp_host": "127.0.0.1", "smtp_port": sink.port}
        mail |= {"smtp_security": "none", "from": SENDER, "smtp_connections": lanes}
        raw = {"site": {"id_authority": "press.example.org"}, "database": {"url": url}}
        config = settings_from_dict(raw | {"mail": mail}, root=Path(tmp))
        store = Store.open(url)
        try:
            send = dispatcher(config, store, CLOCK)
            store.outbox.enqueue(batch(f"{tag} warm", WARM), CLOCK.now())
            send.run(budget=60)
            watch = Stopwatch()
            watch.wrap(store.outbox, "claim_due", "claim")
            watch.wrap(store.outbox, "_record", "record")
            watch.wrap(send.channels["email"], "send", "send")
            store.outbox.enqueue(batch(tag, n), CLOCK.now())
            t0, cpu = time.perf_counter(), time.process_time()
            while send.run(budget=120).claimed:
                pass
            seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu
            if (done := delivered(store)) != WARM + n:
                sys.exit(f"bench: the dispatcher delivered {done - WARM} of {n}")
        finally:
            store.close()
    return Inside(
        lanes,
        seconds,
        cpu,
        -(-n // config.outbox.batch),  # all due at once: every claim but the last is full
        watch.seconds["claim"],
        watch.seconds["send"],
        watch.seconds["record"],
    )


def share(cpu: float, seconds: float) -> str:
    return f"{cpu / seconds:.0%}"


def show(round_: int, setup: Setup, n: int, r: Run) -> None:
    each = "/".join(share(c, r.seconds) for c in r.instance_cpu)
    print(
        f"  round {round_} {setup.label:>42}: {n / r.seconds:6,.0f} emails/s ({r.seconds:5.2f} s);"
        f" CPU of a core: instances {each}, PostgreSQL {share(r.postgres_cpu, r.seconds)},"
        f" sink {share(r.sink_cpu, r.seconds)}, bench {share(r.bench_cpu, r.seconds)};"
        f" machine {r.machine:.2f} cores busy ({r.others:.2f} others);"
        f" sent {'/'.join(map(str, r.sent))}; duplicates {r.duplicates}",
        flush=True,
    )


INSIDE_LANES = (2, 6)


def rounds(
    args: argparse.Namespace, sink: Sink, postgres: int
) -> tuple[dict[Setup, list[Run]], dict[int, list[Inside]]]:
    runs: dict[Setup, list[Run]] = {setup: [] for setup in SETUPS}
    probes: dict[int, list[Inside]] = {lanes: [] for lanes in INSIDE_LANES}
    n = args.emails
    for k in range(1, args.rounds + 1):
        for setup in SETUPS[k % len(SETUPS) :] + SETUPS[: k % len(SETUPS)]:  # each first in turn
            with tempfile.TemporaryDirectory(prefix="feedsvc-instances-bench-") as tmp:
                tag = f"round {k}, {setup.label}"
                runs[setup].append(run(setup, n, sink, postgres, tag, Path(tmp)))
            show(k, setup, n, runs[setup][-1])
        for lanes in INSIDE_LANES:
            probe = inside(lanes, n, sink, f"round {k}, inside, {lanes} lanes")
            probes[lanes].append(probe)
            print(
                f"  round {k} {f'one dispatcher in process, {lanes} lanes':>42}:"
                f" {n / probe.seconds:6,.0f} emails/s; CPU {probe.cpu / probe.seconds:.0%};"
                f" claims {probe.claim / probe.seconds:.0%} of the time;"
                f" a lane's email: send {probe.send / n * 1e3:.2f} ms,"
                f" record {probe.record / n * 1e3:.2f} ms",
                flush=True,
            )
    return runs, probes


# -- the tables ------------------------------------------------------------------------------


def table(
    args: argparse.Namespace, runs: dict[Setup, list[Run]], probes: dict[int, list[Inside]]
) -> str:
    n = args.emails

    def rate(setup: Setup) -> float:
        return median(n / r.seconds for r in runs[setup])

    lines = ["| what | ours (median) | baseline (median) | ratio | target | pass/fail |"]
    lines.append("| --- | ---: | ---: | ---: | --- | --- |")
    for setup in SETUPS[1:]:
        for against in (ONE, BASELINE):
            if setup == against:
                continue
            ours, theirs = rate(setup), rate(against)
            what = f"emails/s, {n:,} due at once, {setup.label} vs {against.label}"
            lines.append(f"| {what} | {ours:,.0f} | {theirs:,.0f} | {ours / theirs:.2f} | — | — |")

    lines += [
        "",
        "Where the CPU went (medians over the rounds; % of one core over the burst, and CPU"
        " ms an email):",
        "",
        "| setup | emails/s | each instance | PostgreSQL | sink | bench (polling) "
        "| machine busy, cores (others) | ms an email: instances / PostgreSQL / sink "
        "| sent by each instance | duplicates |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for setup in SETUPS:
        rs = runs[setup]

        def pct(pick: Any, rs: list[Run] = rs) -> str:
            return f"{median(pick(r) / r.seconds for r in rs):.0%}"

        def ms(pick: Any, rs: list[Run] = rs) -> str:
            return f"{median(pick(r) / n * 1e3 for r in rs):.2f}"

        each = " / ".join(pct(lambda r, j=j: r.instance_cpu[j]) for j in range(setup.instances))
        sent = " / ".join(f"{median(r.sent[j] for r in rs):,.0f}" for j in range(setup.instances))
        per_email = " / ".join(
            (
                ms(lambda r: sum(r.instance_cpu)),
                ms(lambda r: r.postgres_cpu) if setup.database == PG else "—",
                ms(lambda r: r.sink_cpu),
            )
        )
        postgres = pct(lambda r: r.postgres_cpu) if setup.database == PG else "—"
        lines.append(
            f"| {setup.label} | {rate(setup):,.0f} | {each} | {postgres}"
            f" | {pct(lambda r: r.sink_cpu)} | {pct(lambda r: r.bench_cpu)}"
            f" | {median(r.machine for r in rs):.2f} ({median(r.others for r in rs):.2f})"
            f" | {per_email} | {sent}"
            f" | {sum(r.duplicates for r in rs)} |"
        )

    lines += [
        "",
        "Where a lane's time goes: the same dispatcher run in the benchmark's process on"
        " PostgreSQL (no `feedsvc serve`), its parts timed (medians):",
        "",
        "| SMTP connections (lanes) | emails/s | CPU of a core | claiming (lanes idle), share"
        " of the time | ms a claim of 50 | a lane's email: send (compose + SMTP), ms"
        " | a lane's email: record (one transaction), ms |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for lanes, ps in probes.items():
        lines.append(
            f"| {lanes} | {median(n / p.seconds for p in ps):,.0f}"
            f" | {median(p.cpu / p.seconds for p in ps):.0%}"
            f" | {median(p.claim / p.seconds for p in ps):.0%}"
            f" | {median(p.claim / max(p.claims, 1) * 1e3 for p in ps):.1f}"
            f" | {median(p.send / n * 1e3 for p in ps):.2f}"
            f" | {median(p.record / n * 1e3 for p in ps):.2f} |"
        )
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--emails", type=int, default=3000, help="emails a timed burst")
    ap.add_argument("--rounds", type=int, default=3, help="rounds, each setup once a round")
    ap.add_argument("--quick", action="store_true", help="a smoke run: small N, README untouched")
    ap.add_argument("--no-readme", action="store_true", help="do not update bench/README.md")
    args = ap.parse_args()
    if args.quick:
        args.emails, args.rounds = 300, 1
    bin_dir = pg.binaries()
    if bin_dir is None:
        print("bench: PostgreSQL is not installed (apt-get install postgresql)", file=sys.stderr)
        return 2
    os.environ["FEEDSVC_SECRET_KEY"] = os.urandom(32).hex()  # one key for every instance
    model = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
    machine = f"nproc {len(os.sched_getaffinity(0))}, {model[1] if model else 'unknown CPU'}"
    version = bin_dir.parent.name
    sink = start_sink()
    try:
        postgres = postmaster(pg.fresh_database())
        print(
            f"{args.rounds} rounds of {args.emails:,} emails; PostgreSQL {version}, the sink in"
            " its own process on 127.0.0.1:",
            flush=True,
        )
        runs, probes = rounds(args, sink, postgres)
    finally:
        sink.process.terminate()
        sink.process.join(5)
        pg.stop()
    tables = table(args, runs, probes)
    note = f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {machine}; medians of"
    note += f" {args.rounds} rounds, the setups in turn, each on a fresh database with its"
    note += f" instances started before the clock. PostgreSQL {version} (tests/pg.py: fsync,"
    note += " synchronous_commit and full_page_writes off); SQLite in WAL mode on disk. One"
    note += " aiosmtpd sink on uvloop in a process of its own; every instance"
    note += f" `outbox.tick_seconds = {TICK_SECONDS}`, 2 SMTP connections unless said otherwise."
    git = ["git", "-C", str(BENCH), "describe", "--always", "--dirty"]
    note += f" Code: {subprocess.run(git, capture_output=True, text=True).stdout.strip()}."
    print(f"\n{tables}\n\n{note}")
    if not (args.quick or args.no_readme):  # between our markers in bench/README.md
        block = (
            f"{START}\n{note}\n\n`bench/instances.py --emails {args.emails}"
            f" --rounds {args.rounds}`:\n\n{tables}\n{END}"
        )
        page = README.read_text()
        if not re.search(f"{START}.*{END}", page, flags=re.S):
            sys.exit(f"bench: no {START} markers in {README}; not written")
        README.write_text(re.sub(f"{START}.*{END}", lambda _: block, page, flags=re.S))
    return 0


if __name__ == "__main__":
    sys.exit(main())
