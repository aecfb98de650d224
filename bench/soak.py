"""Soak benchmark: `feedsvc serve` under wrk load for minutes while releases are added, edited
and withdrawn and shares are posted, beside the same load on the idle server, in one run.

    .venv/bin/python bench/soak.py [--minutes 5] [--concurrency 16] [--quick] [--no-readme]

Run on demand, never as a test (see bench/README.md). Bounded: at most 10 minutes of soak.
Everything runs on 127.0.0.1 out of a temporary folder; the SMTP sink runs in a process of
its own and records every message it receives (Message-ID, recipient, share id).
"""

import argparse
import contextlib
import datetime as dt
import email
import email.policy
import html
import json
import math
import multiprocessing
import os
import random
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from statistics import linear_regression, median
from typing import Any

import requests
from instances import MESSAGE_ID, free_port, toml  # bench/instances.py: the sink's parts
from serve import STARTED, start, stop  # bench/serve.py: start a server and wait; stop it
from shares import RELEASE, SEED, UNLIMITED, cpu_seconds  # bench/shares.py

BENCH = Path(__file__).resolve().parent
README, START, END = BENCH / "README.md", "<!-- soak-results -->", "<!-- /soak-results -->"
FEEDSVC = [sys.executable, "-m", "feedsvc"]
SENDER = "Press Office <press@press.example.org>"
MAX_MINUTES = 10
TARGET_GROWTH = 1.0  # MiB a minute of the server's RSS after warm-up: "flat" below this
JUDGE_SECONDS = 120  # the growth is held to the target over at least this long a fit
SAMPLE_SECONDS = 5.0  # the server's RSS is read this often
EVERY = {"add": 2.0, "edit": 3.0, "withdraw": 20.0}  # seconds between the press office's moves
SHARE_POOL = 20  # corpus releases shared (with the seed); never withdrawn
SPAWN = multiprocessing.get_context("spawn")  # the sink shares neither our GIL nor our state
SHARE_LINK = re.compile(r"/s/([A-Za-z0-9_-]{1,40})")
ATOM = "{http://www.w3.org/2005/Atom}"
TERMINAL = ("delivered", "dead", "cancelled")
# The documents wrk asks for, in turn (weights by repetition). PATH|CONTENT-TYPE is a
# conditional GET: If-None-Match carries the ETag of the latest 200 of that content type,
# as a feed reader polls; it turns into a 200 each time the feed changes.
MIX = [
    "/feed.xml",
    "/feed.xml|application/rss+xml",
    "/feed.xml|application/rss+xml",
    "/feed.xml",
    "/feed.xml|application/rss+xml",
    "/atom.xml|application/atom+xml",
    "/atom.xml",
    "/feed.json",
    f"/releases/{RELEASE}/",
    "/",
]

# wrk, one thread: GETs rotating over MIX, all with Accept-Encoding: gzip; counts every
# status; done() writes wrk's totals, latency percentiles (µs), errors and statuses.
LUA = r"""
local threads, mix, etags, by_type, n = {}, {}, {}, {}, 0
statuses = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function init(args)
  for i = 1, #args do
    local path, ctype = args[i]:match("^([^|]+)|?(.*)$")
    mix[#mix + 1] = {path = path, conditional = ctype ~= ""}
    if ctype ~= "" then by_type[ctype] = path end
  end
end

function request()
  n = n % #mix + 1
  local m = mix[n]
  local headers = {["Accept-Encoding"] = "gzip"}
  if m.conditional and etags[m.path] then headers["If-None-Match"] = etags[m.path] end
  return wrk.format("GET", m.path, headers)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 200 then
    local ctype, etag
    for k, v in pairs(headers) do
      local key = k:lower()
      if key == "content-type" then ctype = v:match("^[^;]+") end
      if key == "etag" then etag = v end
    end
    local path = ctype and by_type[ctype]
    if path and etag then etags[path] = etag end
  end
end

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %.0f %.0f %.0f %.0f\n", summary.requests,
    summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max))
  io.write(string.format("ERRORS %d %d %d %d %d\n", e.connect, e.read, e.write, e.status,
    e.timeout))
  for status, count in pairs(threads[1]:get("statuses")) do
    io.write(string.format("STATUS %d %d\n", status, count))
  end
end
"""


# -- the SMTP sink ---------------------------------------------------------------------------


def recording_sink(port: int, path: str) -> None:
    """aiosmtpd on uvloop: one JSON line a message, written before the 250, with its
    Message-ID, its envelope recipients and the share id of the link in its text."""
    import asyncio

    import uvloop
    from aiosmtpd.smtp import SMTP as Server

    out = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 (open until killed)

    class Record:
        async def handle_DATA(self, server, session, envelope) -> str:
            data = envelope.original_content or envelope.content
            found = MESSAGE_ID.search(data.split(b"\r\n\r\n", 1)[0])
            text = email.message_from_bytes(data, policy=email.policy.default)
            plain = text.get_body(("plain",))
            link = SHARE_LINK.search(plain.get_content()) if plain is not None else None
            line = {
                "message_id": found[1].decode() if found else None,
                "to": envelope.rcpt_tos,
                "share": link[1] if link else None,
            }
            out.write(json.dumps(line) + "\n")
            return "250 OK"

    async def serve() -> None:
        make = lambda: Server(Record(), hostname="sink.bench", ident="sink")  # noqa: E731
        server = await asyncio.get_running_loop().create_server(make, "127.0.0.1", port)
        await server.serve_forever()

    uvloop.run(serve())


def start_sink(path: Path) -> tuple[Any, int]:
    port = free_port()
    process = SPAWN.Process(target=recording_sink, args=(port, str(path)), daemon=True)
    process.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.is_alive():
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return process, port
        time.sleep(0.05)
    sys.exit(f"bench: the SMTP sink did not start listening on port {port}")


def received(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# -- the site --------------------------------------------------------------------------------


def write_config(folder: Path, port: int, sink_port: int) -> Path:
    """Access log on (to a file), SMTP to the sink, a tick of 0.5 s, share limits raised."""
    config = {
        "site": {
            "timezone": "UTC",
            "base_url": f"http://127.0.0.1:{port}/",
            "id_authority": "press.example.org",
        },
        "items": {"dir": "items"},
        "database": {"url": f"sqlite:///{folder}/feedsvc.db"},
        "server": {"port": port, "cache_dir": "cache"},
        "share": {
            "min_fill_seconds": 0,
            "per_ip_per_hour": UNLIMITED,
            "per_recipient_per_day": UNLIMITED,
            "per_sender_per_day": UNLIMITED,
            "global_per_hour": UNLIMITED,
        },
        "mail": {
            "transport": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": sink_port,
            "smtp_security": "none",
            "from": SENDER,
        },
        "outbox": {"tick_seconds": 0.5},
    }
    (folder / "config.toml").write_text(toml(config), encoding="utf-8")
    return folder / "config.toml"


@dataclass
class Published:
    titles: dict[str, str]  # release id -> title, over feed.xml and every archive page
    newest: list[str]  # the ids of feed.xml, in its order
    conflicts: list[str]  # ids whose title differs between two documents


def published(session: requests.Session, base: str) -> Published:
    """Read `/feed.xml` and every RFC 5005 archive page it leads to (prev-archive links)."""
    titles: dict[str, str] = {}
    newest: list[str] = []
    conflicts = []
    url: str | None = base + "feed.xml"
    while url:
        answer = session.get(url, timeout=30)
        answer.raise_for_status()
        channel = ET.fromstring(answer.content).find("channel")
        assert channel is not None, f"{url}: no <channel>"
        for item in channel.iter("item"):
            rid = (item.findtext("guid") or "").rsplit(":release:", 1)[-1]
            title = item.findtext("title") or ""
            if rid in titles and titles[rid] != title:
                conflicts.append(rid)
            titles[rid] = title
            if url == base + "feed.xml":
                newest.append(rid)
        prev = [
            link.get("href")
            for link in channel.iter(f"{ATOM}link")
            if link.get("rel") == "prev-archive"
        ]
        url = prev[0] if prev else None
    return Published(titles, newest, conflicts)


def wait_published(session: requests.Session, base: str, count: int) -> Published:
    """The first import: until every release of items/ is in the feeds."""
    deadline = time.monotonic() + 300
    while len((got := published(session, base)).titles) < count:
        if time.monotonic() > deadline:
            sys.exit(f"bench: {len(got.titles)} of {count} releases in the feeds after 300 s")
        time.sleep(0.5)
    return got


# -- the press office and the sharers (threads of this process) --------------------------------


@dataclass
class PressOffice:
    """Adds a release every 2 s, edits one every 3 s (a new title), withdraws one every 20 s."""

    items: Path
    titles: dict[str, str]  # live release id -> the title it must end with
    keep: set[str]  # never withdrawn: the seed and the shared ones
    rng: random.Random
    added: list[str] = field(default_factory=list)
    edited: set[str] = field(default_factory=set)
    withdrawn: set[str] = field(default_factory=set)
    edits: int = 0
    failures: list[str] = field(default_factory=list)
    last_change: float = 0.0
    dates: dict[str, dt.datetime] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Dated in the past, one after another: each new release leads the feed.
        self.base = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=1)

    def run(self, stop: threading.Event) -> None:
        t0 = time.monotonic()
        due = {"add": t0, "edit": t0 + 1.0, "withdraw": t0 + EVERY["withdraw"] / 2}
        try:
            while True:
                move = min(due, key=lambda k: due[k])
                if stop.wait(max(0.0, due[move] - time.monotonic())):
                    return
                getattr(self, move)()
                self.last_change = time.monotonic()
                due[move] += EVERY[move]
        except Exception:
            self.failures.append(traceback.format_exc())

    def _markdown(self, rid: str, title: str) -> str:
        when = self.dates[rid]
        return (
            f'+++\ntitle = {json.dumps(title)}\nsection = "Press Releases"\n'
            f'date = "{when.isoformat()}"\n+++\n\n'
            f"On {when:%B} {when.day}, {when.year}, the press office published {rid}, one of the"
            " releases of the soak, while readers polled the feeds.\n\n"
            "The two sides agreed to continue their dialogue & cooperation.\n"
        )

    def add(self) -> None:
        k = len(self.added) + 1
        rid = f"soak-{k:04d}"
        self.dates[rid] = self.base + dt.timedelta(seconds=10 * k)
        title = f"Soak release {k}: Dialogue & Cooperation"
        (self.items / f"{rid}.md").write_text(self._markdown(rid, title), encoding="utf-8")
        self.added.append(rid)
        self.titles[rid] = title

    def edit(self) -> None:
        live = sorted(set(self.titles) - {RELEASE})
        rid = self.rng.choice(live)
        self.edits += 1
        title = f"Soak edit {self.edits}: {rid} & partners"
        if rid in self.dates:  # one of ours
            text = self._markdown(rid, title)
        else:  # the corpus' plain text: the line under the breadcrumb is the title
            lines = (self.items / f"{rid}.txt").read_text(encoding="utf-8").split("\n")
            lines[1] = title
            text = "\n".join(lines)
        path = self.items / f"{rid}{'.md' if rid in self.dates else '.txt'}"
        path.write_text(text, encoding="utf-8")
        self.edited.add(rid)
        self.titles[rid] = title

    def withdraw(self) -> None:
        rid = self.rng.choice(sorted(set(self.titles) - self.keep - set(self.dates)))
        (self.items / f"{rid}.txt").unlink()
        del self.titles[rid]
        self.withdrawn.add(rid)


@dataclass
class Sharers:
    """Shares at `rate` a second through the API: a form token, then the POST, each share to
    one or two new recipients."""

    base: str
    pool: list[str]
    rate: float
    rng: random.Random
    accepted: dict[str, list[str]] = field(default_factory=dict)  # share id -> recipients
    refused: list[str] = field(default_factory=list)
    post_ms: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def run(self, stop: threading.Event) -> None:
        t0, session = time.monotonic(), requests.Session()
        try:
            for i in range(10**9):
                if stop.wait(max(0.0, t0 + i / self.rate - time.monotonic())):
                    return
                self.share(session, i)
        except Exception:
            self.failures.append(traceback.format_exc())

    def share(self, session: requests.Session, i: int) -> None:
        release = self.rng.choice(self.pool)
        url = f"{self.base}api/shares/token?release={release}"
        answer = session.get(url, timeout=30)
        if answer.status_code != 200:
            self.refused.append(f"token for {release}: {answer.status_code} {answer.text[:200]}")
            return
        to = [f"reader-{i}-{j}@example.org" for j in range(1 + i % 2)]
        body = {
            "release": release,
            "to": to,
            "from_name": "Ana Pereira",
            "from_email": f"sharer-{i}@example.net",
            "message": "Thought you would want to see this one.",
            "token": answer.json()["token"],
        }
        t0 = time.perf_counter()
        answer = session.post(f"{self.base}api/shares", json=body, timeout=30)
        self.post_ms.append((time.perf_counter() - t0) * 1e3)
        if answer.status_code == 202:
            self.accepted[answer.json()["id"]] = to
        else:
            self.refused.append(f"share of {release}: {answer.status_code} {answer.text[:200]}")


@dataclass
class Memory:
    """The server's VmRSS (MiB), read every SAMPLE_SECONDS: (monotonic seconds, MiB)."""

    pid: int
    samples: list[tuple[float, float]] = field(default_factory=list)

    def read(self) -> float:
        status = Path(f"/proc/{self.pid}/status").read_text()
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        assert found, f"no VmRSS for {self.pid}"
        return int(found[1]) / 1024

    def run(self, stop: threading.Event) -> None:
        while True:
            with contextlib.suppress(OSError):
                self.samples.append((time.monotonic(), self.read()))
            if stop.wait(SAMPLE_SECONDS):
                return

    def between(self, t0: float, t1: float) -> list[tuple[float, float]]:
        return [(t - t0, mib) for t, mib in self.samples if t0 <= t <= t1]


def growth(samples: list[tuple[float, float]]) -> float:
    """MiB a minute, the slope of a least-squares line through (seconds, MiB)."""
    if len(samples) < 3:
        return math.nan
    slope, _ = linear_regression([t for t, _ in samples], [mib for _, mib in samples])
    return slope * 60


# -- wrk ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:  # one wrk run
    requests: int
    seconds: float
    p50: float  # ms, as wrk reports them
    p90: float
    p99: float
    max: float
    errors: Counter  # connect, read, write, status (non-2xx/3xx), timeout
    statuses: Counter
    server_cpu: float  # seconds of CPU the server used meanwhile (all its threads)


@dataclass
class Loads:
    """wrk runs one after another: counts added up, latencies the median of the runs'."""

    runs: list[Load] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(x.requests for x in self.runs)

    @property
    def seconds(self) -> float:
        return sum(x.seconds for x in self.runs)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu(self) -> float:
        return sum(x.server_cpu for x in self.runs) / self.seconds

    @property
    def failed(self) -> int:
        return sum(sum(x.errors.values()) for x in self.runs)

    @property
    def statuses(self) -> Counter:
        return sum((x.statuses for x in self.runs), Counter())

    def latency(self, attr: str) -> float:
        return median(getattr(x, attr) for x in self.runs)

    def worst(self, attr: str) -> float:
        return max(getattr(x, attr) for x in self.runs)


def wrk(base: str, lua: Path, concurrency: int, seconds: int, pid: int) -> Load:
    cmd = ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "5s"]
    cmd += ["-s", str(lua), base, *MIX]
    cpu0 = cpu_seconds(pid)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120)
    cpu = cpu_seconds(pid) - cpu0
    out = done.stdout
    got = re.search(r"^RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)$", out, re.M)
    errors = re.search(r"^ERRORS (\d+) (\d+) (\d+) (\d+) (\d+)$", out, re.M)
    if done.returncode != 0 or got is None or errors is None:
        sys.exit(f"bench: wrk failed ({done.returncode}):\n{out[-3000:]}\n{done.stderr}")
    kinds = ("connect", "read", "write", "status", "timeout")
    statuses = re.findall(r"^STATUS (\d+) (\d+)$", out, re.M)
    return Load(
        int(got[1]),
        int(got[2]) / 1e6,
        *(int(us) / 1e3 for us in got.groups()[2:]),
        Counter(dict(zip(kinds, map(int, errors.groups()), strict=True))),
        Counter({int(code): int(n) for code, n in statuses}),
        cpu,
    )


def chunks(total: int, each: int) -> list[int]:
    """Seconds of each wrk run: `total` cut into runs of `each`."""
    return [min(each, total - start) for start in range(0, total, each)]


def describe(x: Load) -> str:
    codes = ", ".join(f"{code} {n:,}" for code, n in sorted(x.statuses.items()))
    return (
        f"{x.requests / x.seconds:7,.0f} req/s, p50 {x.p50:5.2f} ms, p99 {x.p99:6.2f} ms,"
        f" max {x.max:6.1f} ms, server CPU {x.server_cpu / x.seconds:4.0%},"
        f" errors {sum(x.errors.values())} ({codes})"
    )


# -- the checks at the end ---------------------------------------------------------------------


def drain(db: Path, sink_file: Path, seconds: float) -> dict[str, int]:
    """Wait until no email is pending or being sent, then for the sink to hold as many
    lines as emails were delivered; then two seconds more for any duplicate to arrive."""
    deadline = time.monotonic() + seconds
    while True:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)) as c:
            sql = "SELECT status, count(*) FROM deliveries WHERE channel = 'email' GROUP BY status"
            counts = dict(c.execute(sql).fetchall())
        waiting = sum(n for status, n in counts.items() if status not in TERMINAL)
        if not waiting and len(received(sink_file)) >= counts.get("delivered", 0):
            break
        if time.monotonic() > deadline:
            print(f"  the outbox did not drain in {seconds:.0f} s: {counts}", flush=True)
            break
        time.sleep(0.2)
    time.sleep(2)
    return counts


@dataclass(frozen=True)
class Mail:
    expected: int  # (share, recipient) pairs accepted
    messages: int  # messages the sink received
    missing: int
    duplicates: int  # messages beyond the first for the same (share, recipient)
    unexpected: int  # (share, recipient) pairs nobody was told were accepted
    distinct_ids: int  # distinct Message-IDs


def compare_mail(accepted: dict[str, list[str]], sink_file: Path) -> Mail:
    expected = {(share, to) for share, rcpts in accepted.items() for to in rcpts}
    lines = received(sink_file)
    got = Counter((line["share"], to) for line in lines for to in line["to"])
    return Mail(
        expected=len(expected),
        messages=len(lines),
        missing=len(expected - set(got)),
        duplicates=sum(n - 1 for n in got.values()),
        unexpected=len(set(got) - expected),
        distinct_ids=len({line["message_id"] for line in lines}),
    )


def compare_site(
    session: requests.Session, base: str, office: PressOffice, limit: int, seconds: float
) -> tuple[list[str], float]:
    """Poll the feeds until they hold exactly the live releases with their latest titles (or
    `seconds` pass); then every touched release's page. Problems, and seconds it took."""
    t0 = time.monotonic()
    while True:
        got = published(session, base)
        problems = []
        missing = set(office.titles) - set(got.titles)
        gone = office.withdrawn & set(got.titles)
        wrong = [
            r for r in set(office.titles) & set(got.titles) if got.titles[r] != office.titles[r]
        ]
        newest = office.added[::-1][: min(limit, len(office.added))]
        if missing:
            problems.append(f"{len(missing)} live releases not in the feeds: {sorted(missing)[:5]}")
        if gone:
            problems.append(
                f"{len(gone)} withdrawn releases still in the feeds: {sorted(gone)[:5]}"
            )
        if wrong:
            sample = [(r, got.titles[r], office.titles[r]) for r in sorted(wrong)[:3]]
            problems.append(f"{len(wrong)} releases with an old title (got, expected): {sample}")
        if got.conflicts:
            problems.append(f"titles differ between feed documents: {got.conflicts[:5]}")
        if got.newest[: len(newest)] != newest:
            problems.append(f"`/feed.xml` does not lead with the newest added: {got.newest[:3]}")
        if not problems or time.monotonic() - t0 > seconds:
            break
        time.sleep(0.5)
    settled = time.monotonic() - t0
    for rid in sorted(office.withdrawn):
        status = session.get(f"{base}releases/{rid}/", timeout=30).status_code
        if status != 410:
            problems.append(f"withdrawn `/releases/{rid}/` answered {status}, not 410")
    for rid in sorted((set(office.added) | office.edited) - office.withdrawn):
        page = session.get(f"{base}releases/{rid}/", timeout=30)
        if page.status_code != 200 or html.escape(office.titles[rid]) not in page.text:
            problems.append(f"`/releases/{rid}/` answered {page.status_code} without its title")
    return problems, settled


def server_log(folder: Path) -> tuple[int, int, Counter]:
    """Tracebacks and ERROR lines on the server's stderr; statuses in its access log."""
    err = folder.joinpath("serve.err").read_text(errors="replace")
    statuses: Counter = Counter()
    with folder.joinpath("serve.out").open("rb") as log:
        for chunk in iter(lambda: log.read(1 << 24), b""):
            statuses.update(int(s) for s in re.findall(rb'"status":(\d{3})', chunk))
    return err.count("Traceback"), len(re.findall(r"\bERROR\b", err)), statuses


# -- the report --------------------------------------------------------------------------------


@dataclass
class Result:
    minutes: int
    idle: Loads
    soak: Loads
    warm: float  # seconds of the soak before the growth fit
    idle_rss: list[tuple[float, float]]
    soak_rss: list[tuple[float, float]]
    after_rss: float  # once the outbox drained and the checks ran
    hwm: float
    office: PressOffice
    sharers: Sharers
    mail: Mail
    outbox: dict[str, int]
    site: list[str]
    settled: float
    tracebacks: int
    error_lines: int
    access: Counter
    exit_code: int | None


def table(r: Result, args: argparse.Namespace) -> tuple[str, bool]:
    lines = ["| what | ours (median) | baseline (median) | ratio | target | pass/fail |"]
    lines.append("| --- | ---: | ---: | ---: | --- | --- |")
    verdicts = []

    def row(what: str, a: float, b: float | None, fmt: str, goal: str = "—", ok=None) -> None:
        base = "—" if b is None else fmt.format(b)
        ratio = "—" if b is None or not b or math.isnan(a) or math.isnan(b) else f"{a / b:.2f}"
        cell(what, fmt.format(a), goal, ok, base, ratio)

    def cell(what: str, ours: str, goal: str, ok, base: str = "—", ratio: str = "—") -> None:
        verdict = "—" if ok is None else ("pass" if ok else "**FAIL**")
        lines.append(f"| {what} | {ours} | {base} | {ratio} | {goal} | {verdict} |")
        if ok is not None:
            verdicts.append(ok)

    soak, idle = r.soak, r.idle
    load = f"wrk -t1 -c{args.concurrency}, {len(MIX)} documents in turn"
    what = f"wrk errors (non-2xx/3xx, socket errors), soak vs idle ({load})"
    row(what, soak.failed, idle.failed, "{:,}", "0", soak.failed == 0 and idle.failed == 0)
    row("requests/s, soak vs idle", soak.rate, idle.rate, "{:,.0f}")
    runs = f"medians of the wrk runs' p99, {len(soak.runs)} vs {len(idle.runs)}"
    p50 = f"p50 {soak.latency('p50'):.2f} vs {idle.latency('p50'):.2f} ms"
    worst = f"worst run {soak.worst('p99'):.2f} vs {idle.worst('p99'):.2f} ms"
    what = f"p99 latency, soak vs idle ({runs}; {p50}; {worst})"
    row(what, soak.latency("p99"), idle.latency("p99"), "{:.2f} ms")
    what = "max latency, soak vs idle (the worst run's)"
    row(what, soak.worst("max"), idle.worst("max"), "{:.1f} ms")
    row("server CPU, share of a core, soak vs idle", soak.cpu, idle.cpu, "{:.0%}")
    codes = ", ".join(
        f"{code} {n / soak.requests:.0%}" for code, n in sorted(soak.statuses.items())
    )
    row(f"responses to wrk in the soak ({codes})", soak.requests, None, "{:,}")

    fit = [(t, mib) for t, mib in r.soak_rss if t >= r.warm]
    slope, span = growth(fit), fit[-1][0] - fit[0][0] if fit else 0.0
    # Below two minutes a line through allocator steps of ~1 MiB says nothing either way.
    flat = slope < TARGET_GROWTH if span >= JUDGE_SECONDS else None
    said = {True: "flat", False: "GROWING", None: f"{span:.0f} s: too short to judge"}[flat]
    what = f"server RSS growth, a line fitted to {len(fit)} samples from {r.warm:.0f} s to the"
    what += f" end of the soak ({said}), vs the idle run's"
    goal = f"< {TARGET_GROWTH:g} MiB/min" if flat is not None else "—"
    row(what, slope, growth(r.idle_rss), "{:+.2f} MiB/min", goal, flat)
    begin, end = (fit[0][1], fit[-1][1]) if fit else (math.nan, math.nan)
    idle_end = r.idle_rss[-1][1] if r.idle_rss else None
    what = f"server RSS at {r.warm:.0f} s of the soak (after warm-up), vs at the end of idle"
    row(what, begin, idle_end, "{:.1f} MiB")
    row("server RSS, max in the soak", max(m for _, m in r.soak_rss), None, "{:.1f} MiB")
    row("server RSS at the end of the soak", end, None, "{:.1f} MiB")
    what = f"server RSS after the drain and the checks (VmHWM {r.hwm:.1f} MiB)"
    row(what, r.after_rss, None, "{:.1f} MiB")

    office, sharers, mail = r.office, r.sharers, r.mail
    what = f"releases: {len(office.added)} added, {office.edits} edits of {len(office.edited)},"
    what += f" {len(office.withdrawn)} withdrawn; every live one in the feeds (`/feed.xml` and"
    what += " its archive pages) with its latest title, the newest leading `/feed.xml`,"
    what += " withdrawn ones gone and 410, every touched page 200 with its title (settled"
    what += f" {r.settled:.1f} s after the last change)"
    cell(what, "no" if r.site else "yes", "all", not r.site)
    posts = sorted(sharers.post_ms)
    post = [
        posts[max(0, math.ceil(p / 100 * len(posts)) - 1)] if posts else math.nan for p in (50, 99)
    ]
    what = f"shares accepted (202) at {args.share_rate:g}/s through the API during the soak"
    what += " (POST p50/p99 {:.1f}/{:.1f} ms), vs shares refused".format(*post)
    row(what, len(sharers.accepted), len(sharers.refused), "{:,}", "0 refused", not sharers.refused)
    what = "emails received by the SMTP sink, vs (share, recipient) pairs accepted"
    row(what, mail.messages, mail.expected, "{:,}")
    outbox = ", ".join(f"{k} {v:,}" for k, v in sorted(r.outbox.items()))
    what = f"emails missing / duplicated / unexpected at the sink ({mail.distinct_ids:,}"
    what += f" distinct Message-IDs; emails in the outbox at the end: {outbox})"
    bad = (mail.missing, mail.duplicates, mail.unexpected)
    ok = not any(bad) and not r.outbox.get("dead") and mail.messages == mail.expected
    cell(what, " / ".join(map(str, bad)), "0 / 0 / 0", ok)
    fives = sum(n for code, n in r.access.items() if code >= 500)
    what = f"server: 5xx in its access log ({sum(r.access.values()):,} requests) / tracebacks /"
    what += f" ERROR lines on its stderr; exit code after SIGTERM {r.exit_code}"
    bad = (fives, r.tracebacks, r.error_lines)
    cell(what, " / ".join(map(str, bad)), "0 / 0 / 0", not any(bad) and r.exit_code == 0)
    return "\n".join(lines), all(verdicts)


# -- the run -----------------------------------------------------------------------------------


def soak_run(args: argparse.Namespace, tmp: Path) -> Result:
    folder = tmp / "site"
    (folder / "items").mkdir(parents=True)
    gen = [sys.executable, str(args.tools / "gen_corpus.py")]
    subprocess.run([*gen, str(args.releases), str(folder / "items")], check=True)
    shutil.copyfile(SEED, folder / "items" / SEED.name)
    time.sleep(1.5)  # > items.settle_seconds: the first scan takes every file
    sink_file = tmp / "sink.jsonl"
    sink, sink_port = start_sink(sink_file)
    try:
        port = free_port()
        base = f"http://127.0.0.1:{port}/"
        cfg = write_config(folder, port, sink_port)
        ready = f"{base}api/shares/token?release={RELEASE}"
        pid = start([*FEEDSVC, "serve", "--config", str(cfg)], folder / "serve", ready, 300)[0]
        server = STARTED[pid]
        session = requests.Session()
        first = wait_published(session, base, args.releases + 1)
        print(f"  serving {len(first.titles):,} releases at {base}", flush=True)
        for path in dict.fromkeys(p.split("|")[0] for p in MIX):  # once each, untimed
            answer = session.get(base.rstrip("/") + path, timeout=30)
            if answer.status_code != 200:
                sys.exit(f"bench: {path} answered {answer.status_code}")
        (tmp / "soak.lua").write_text(LUA)
        memory, sampling = Memory(pid), threading.Event()
        sampler = threading.Thread(target=memory.run, args=(sampling,), daemon=True)
        sampler.start()

        t_idle, idle = time.monotonic(), Loads()
        for seconds in chunks(args.idle_seconds, args.chunk_seconds):
            idle.runs.append(wrk(base, tmp / "soak.lua", args.concurrency, seconds, pid))
            print(f"  idle {seconds} s: {describe(idle.runs[-1])}", flush=True)
        idle_rss = memory.between(t_idle, time.monotonic())

        rng = random.Random(5)
        corpus = sorted(set(first.titles) - {RELEASE})
        pool = [RELEASE, *rng.sample(corpus, min(SHARE_POOL, len(corpus)))]
        office = PressOffice(folder / "items", dict(first.titles), set(pool), rng)
        sharers = Sharers(base, pool, args.share_rate, random.Random(6))
        stopping = threading.Event()
        drivers = [threading.Thread(target=x.run, args=(stopping,)) for x in (office, sharers)]
        t_soak = time.monotonic()
        for thread in drivers:
            thread.start()
        soak, total = Loads(), args.minutes * 60
        try:
            for seconds in chunks(total, args.chunk_seconds):
                x = wrk(base, tmp / "soak.lua", args.concurrency, seconds, pid)
                soak.runs.append(x)
                at = time.monotonic() - t_soak
                rss = memory.samples[-1][1] if memory.samples else math.nan
                print(
                    f"  soak {at / 60:4.1f} min: {describe(x)}; RSS {rss:.1f} MiB;"
                    f" {len(office.added)} added, {office.edits} edits,"
                    f" {len(office.withdrawn)} withdrawn, {len(sharers.accepted)} shares",
                    flush=True,
                )
                if office.failures or sharers.failures:
                    break
        finally:
            stopping.set()
            for thread in drivers:
                thread.join(60)
        soak_rss = memory.between(t_soak, time.monotonic())
        for failure in office.failures + sharers.failures:
            print(f"bench: a driver failed:\n{failure}", file=sys.stderr)

        outbox = drain(folder / "feedsvc.db", sink_file, 120)
        mail = compare_mail(sharers.accepted, sink_file)
        print(f"  mail: {mail}", flush=True)
        site, settled = compare_site(session, base, office, 50, 60)
        print(f"  site: settled in {settled:.1f} s; {'; '.join(site) or 'as expected'}", flush=True)
        sampling.set()
        sampler.join()
        after = memory.read()
        hwm = int(re.search(r"^VmHWM:\s+(\d+)", Path(f"/proc/{pid}/status").read_text(), re.M)[1])
        stop(pid)
        tracebacks, error_lines, access = server_log(folder)
        return Result(
            args.minutes,
            idle,
            soak,
            min(60.0, total / 4),
            idle_rss,
            soak_rss,
            after,
            hwm / 1024,
            office,
            sharers,
            mail,
            outbox,
            site,
            settled,
            tracebacks,
            error_lines,
            access,
            server.returncode,
        )
    finally:
        for pid in list(STARTED):
            stop(pid)
        sink.terminate()
        sink.join(5)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=int, default=5, help=f"of soak, 1 to {MAX_MINUTES}")
    ap.add_argument("--idle-seconds", type=int, default=30, help="the baseline: idle load")
    ap.add_argument("--concurrency", type=int, default=16, help="wrk's connections")
    ap.add_argument("--releases", type=int, default=1000, help="releases in items/ at start")
    ap.add_argument("--share-rate", type=float, default=3.0, help="shares a second")
    ap.add_argument("--chunk-seconds", type=int, default=30, help="seconds of each wrk run")
    ap.add_argument("--tools", type=Path, default=BENCH.parents[1] / "shared" / "tools")
    ap.add_argument("--quick", action="store_true", help="1 minute, README untouched")
    ap.add_argument("--no-readme", action="store_true", help="do not update bench/README.md")
    args = ap.parse_args()
    if args.quick:
        args.minutes, args.idle_seconds, args.releases = 1, 15, 300
    if not 1 <= args.minutes <= MAX_MINUTES:
        ap.error(f"--minutes must be 1 to {MAX_MINUTES}")
    if shutil.which("wrk") is None:
        ap.error("wrk is needed: apt-get install wrk")  # exits 2
    if not (args.tools / "gen_corpus.py").is_file():
        ap.error(f"{args.tools}/gen_corpus.py not found; give --tools DIR")
    model = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
    machine = f"nproc {len(os.sched_getaffinity(0))}, {model[1] if model else 'unknown CPU'}"
    print(f"soak of {args.minutes} min after {args.idle_seconds} s of idle load:", flush=True)
    with tempfile.TemporaryDirectory(prefix="feedsvc-soak-bench-") as tmp:
        result = soak_run(args, Path(tmp))
    text, ok = table(result, args)
    note = f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {machine}; one run: the"
    note += f" idle load ({args.idle_seconds} s), then {args.minutes} min of the same load while"
    note += " releases are added (every 2 s), edited (every 3 s) and withdrawn (every 20 s) and"
    note += f" shares posted ({args.share_rate:g}/s), on one `feedsvc serve` (SQLite, WAL, on"
    note += f" disk; {args.releases:,} releases at start; access log on, to a file; SMTP to an"
    note += " aiosmtpd sink in its own process; `outbox.tick_seconds = 0.5`). Latencies as wrk"
    note += f" reports them; the load is cut into wrk runs of up to {args.chunk_seconds} s"
    note += f" (medians over them). RSS is the server's VmRSS every {SAMPLE_SECONDS:g} s."
    git = ["git", "-C", str(BENCH), "describe", "--always", "--dirty"]
    note += f" Code: {subprocess.run(git, capture_output=True, text=True).stdout.strip()}."
    print(f"\n{text}\n\n{note}\n\nsoak: {'PASS' if ok else 'FAIL'}")
    if not (args.quick or args.no_readme):  # between our markers in bench/README.md
        cmd = f"bench/soak.py --minutes {args.minutes} --concurrency {args.concurrency}"
        block = f"{START}\n{note}\n\n`{cmd}`:\n\n{text}\n{END}"
        page = README.read_text()
        if not re.search(f"{START}.*{END}", page, flags=re.S):
            sys.exit(f"bench: no {START} markers in {README}; not written")
        README.write_text(re.sub(f"{START}.*{END}", lambda _: block, page, flags=re.S))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
