"""Share benchmark: accepted shares/s through `POST /api/shares` beside `/healthz`, in one run.

    .venv/bin/python bench/shares.py [--requests 5000] [--concurrency 32] [--rounds 5] [--quick]

Run on demand, never as a test: every figure is a median beside a baseline measured in the
same run (see bench/README.md). All traffic goes to 127.0.0.1; every load loop is bounded.
"""

import argparse
import contextlib
import datetime as dt
import http.client
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from statistics import median

from serve import STARTED, start, stop  # bench/serve.py: start a server and wait; stop it

from feedsvc.config import database_url, load_settings

BENCH = Path(__file__).resolve().parent
SEED = BENCH.parent / "items" / "2020-09-11-wang-yi-china-russia-stability.txt"
RELEASE = SEED.stem
TARGET_RATE, TARGET_P99_MS = 1000, 50.0
README, START, END = BENCH / "README.md", "<!-- shares-results -->", "<!-- /shares-results -->"
FEEDSVC = [sys.executable, "-m", "feedsvc"]
UNLIMITED = 10**9
# Dispatcher off: the first tick is at start (nothing is due yet), the next one an hour later.
MODES = OFF, ON = "dispatcher off", "dispatcher on"
TICK = {OFF: 3600.0, ON: 2.0}  # outbox.tick_seconds; 2.0 is the default
ALL_ANSWERED = "ALL ANSWERED"

# wrk, one thread: `post BODIES IDS` sends each line of BODIES once, as the body of a POST,
# and says ALL ANSWERED when every one has its answer (the bench then stops wrk); `get`
# repeats one GET until wrk's -d ends. Both ways run the same Lua per request, so the
# client costs the same. delay() runs before every request: it reserves a body for the
# connection, or parks the connection for an hour once none is left, so exactly N are sent.
LUA = r"""
local ffi = require("ffi")
ffi.cdef[[
struct bench_timespec { long tv_sec; long tv_nsec; };
int clock_gettime(int clock, struct bench_timespec *ts);
]]
local ts = ffi.new("struct bench_timespec")
local function now()  -- CLOCK_MONOTONIC, seconds
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end

local threads, requests, total, reserved = {}, {}, 0, 0
sent, answered, first, last, statuses, ids, ids_path = 0, 0, 0, 0, {}, {}, nil

function setup(thread)
  threads[#threads + 1] = thread
end

function init(args)
  if args[1] == "post" then
    local headers = {["Content-Type"] = "application/json"}
    for body in io.lines(args[2]) do
      total = total + 1
      requests[total] = wrk.format("POST", nil, headers, body)
    end
    ids_path = args[3]
  else
    requests[1] = wrk.format("GET")
    total = math.huge
  end
end

function delay()
  if reserved < total then
    reserved = reserved + 1
    return 0
  end
  return 3600000
end

function request()
  if reserved == 0 then  -- wrk parses one request before the run: nothing is sent
    return requests[1]
  end
  if sent == 0 then first = now() end
  sent = sent + 1
  return requests[total == math.huge and 1 or sent]
end

function response(status, headers, body)
  answered = answered + 1
  last = now()
  statuses[status] = (statuses[status] or 0) + 1
  if status == 202 then ids[#ids + 1] = body:match('"id":"([^"]+)"') end
  if answered == total then
    io.stdout:write("ALL ANSWERED\n")
    io.stdout:flush()
  end
end

function done(summary, latency, _)
  local t, e = threads[1], summary.errors
  io.write(string.format("RESULT %d %d %.6f %.0f %.0f %.0f %.0f\n", t:get("sent"),
    t:get("answered"), t:get("last") - t:get("first"), latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max))
  for status, n in pairs(t:get("statuses")) do
    io.write(string.format("STATUS %d %d\n", status, n))
  end
  io.write(string.format("ERRORS %d %d %d %d\n", e.connect, e.read, e.write, e.timeout))
  local path = t:get("ids_path")
  if path then
    local f = io.open(path, "w")
    for _, id in ipairs(t:get("ids")) do f:write(id, "\n") end
    f:close()
  end
end
"""


@dataclass(frozen=True)
class Load:  # one wrk run
    sent: int
    answered: int
    seconds: float  # first request sent -> last answer
    p50: float  # ms, as wrk reports them
    p90: float
    p99: float
    statuses: dict[int, int]
    server_cpu: float  # seconds of CPU the server used (all its threads)
    client_cpu: float  # seconds of CPU wrk used

    @property
    def rate(self) -> float:
        return self.answered / self.seconds


@dataclass(frozen=True)
class Round:  # one mode of one round, on its own server
    shares: Load
    healthz: Load
    delivered: int  # emails the dispatcher had delivered when the last share was answered


def write_config(folder: Path, port: int, tick: float) -> Path:
    """A site holding the seed release, every share limit raised, min_fill 0."""
    (folder / "items").mkdir(parents=True)
    shutil.copyfile(SEED, folder / "items" / SEED.name)
    limits = "".join(
        f"{key} = {UNLIMITED}\n"
        for key in ("per_ip_per_hour", "per_recipient_per_day", "per_sender_per_day")
    )
    cfg = folder / "config.toml"
    cfg.write_text(
        f'[site]\ntimezone = "UTC"\nbase_url = "http://127.0.0.1:{port}/"\n\n'
        f"[server]\nport = {port}\n\n"
        f"[share]\nmin_fill_seconds = 0\n{limits}global_per_hour = {UNLIMITED}\n\n"
        f'[mail]\ntransport = "maildir"\n\n[outbox]\ntick_seconds = {tick}\n',
        encoding="utf-8",
    )
    return cfg


def fetch_tokens(port: int, n: int) -> list[str]:
    """n form tokens, one GET each on a kept-open connection (untimed: no database write)."""
    conn, tokens = http.client.HTTPConnection("127.0.0.1", port, timeout=10), []
    for _ in range(n):
        conn.request("GET", f"/api/shares/token?release={RELEASE}")
        answer = conn.getresponse()
        body = answer.read()
        if answer.status != 200:
            sys.exit(f"bench: /api/shares/token answered {answer.status}: {body[:200]!r}")
        tokens.append(json.loads(body)["token"])
    conn.close()
    return tokens


def share_bodies(tokens: list[str], tag: str) -> str:
    """One JSON body a line: one distinct recipient each, a sender and a short message."""
    lines = []
    for i, token in enumerate(tokens):
        body = {
            "release": RELEASE,
            "to": [f"reader-{tag}-{i}@example.org"],
            "from_name": "Ana Pereira",
            "from_email": f"sharer-{tag}-{i}@example.net",
            "message": "Thought you would want to see this one.",
            "token": token,
        }
        lines.append(json.dumps(body, separators=(",", ":")))
    return "\n".join(lines) + "\n"


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, all its threads (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url: str, lua: Path, concurrency: int, args: list[str], seconds: int, pid: int) -> Load:
    """One wrk run; with `post` args it is stopped (SIGINT) once every body has its answer."""
    cmd = ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "30s"]
    cmd += ["-s", str(lua), url, *args]
    cpu0 = cpu_seconds(pid)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    out = []
    for line in proc.stdout or ():
        out.append(line)
        if line.strip() == ALL_ANSWERED:
            proc.send_signal(signal.SIGINT)  # wrk prints its summary and runs done()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    server_cpu = cpu_seconds(pid) - cpu0
    text = "".join(out)
    got = re.search(r"^RESULT (\d+) (\d+) ([\d.]+) (\d+) (\d+) (\d+) (\d+)$", text, re.M)
    if proc.returncode != 0 or got is None:
        sys.exit(f"bench: wrk failed ({proc.returncode}):\n{text}")
    statuses = {int(k): int(v) for k, v in re.findall(r"^STATUS (\d+) (\d+)$", text, re.M)}
    errors = re.search(r"^ERRORS (\d+) (\d+) (\d+) (\d+)$", text, re.M)
    if errors is None or any(int(e) for e in errors.groups()):
        sys.exit(f"bench: socket errors (connect, read, write, timeout) from {url}:\n{text}")
    sent, answered, secs, p50, p90, p99, _ = got.groups()
    us = [float(v) / 1000 for v in (p50, p90, p99)]
    client = usage.ru_utime + usage.ru_stime
    return Load(int(sent), int(answered), float(secs), *us, statuses, server_cpu, client)


def check_stored(db: Path, ids_file: Path, n: int) -> int:
    """Read the database while the server still runs: every 202 is a committed share, with
    its recipient, its email in the outbox and its token spent. Emails delivered by then."""
    ids = ids_file.read_text().split()
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=rw", uri=True, timeout=30)) as conn:

        def count(sql: str) -> int:
            return conn.execute(sql).fetchone()[0]

        stored = {row[0] for row in conn.execute("SELECT id FROM shares")}
        got = {
            "shares": len(stored),
            "share_recipients": count("SELECT count(*) FROM share_recipients"),
            "email deliveries": count("SELECT count(*) FROM deliveries WHERE channel = 'email'"),
            "used_tokens": count("SELECT count(*) FROM used_tokens"),
        }
        sent = count("SELECT count(*) FROM deliveries WHERE status = 'delivered'")
    missing = len(set(ids) - stored)
    wrong = {table: rows for table, rows in got.items() if rows != n}
    if len(ids) != n or missing or wrong:
        sys.exit(f"bench: {len(ids)} ids answered, {missing} not stored; rows {got} != {n}")
    print(f"    stored: {n:,} rows in each of {', '.join(got)}; {sent:,} emails delivered")
    return sent


def one_round(tmp: Path, i: int, mode: str, args: argparse.Namespace, port: int) -> Round:
    """A fresh server and database: N shares and the /healthz run, in an order that
    alternates; the database checked after the shares, while the server still runs."""
    folder = tmp / f"round{i}-{mode.replace(' ', '-')}"
    cfg = write_config(folder, port, TICK[mode])
    ready = f"http://127.0.0.1:{port}/api/shares/token?release={RELEASE}"  # once ingested
    pid = start([*FEEDSVC, "serve", "--config", str(cfg)], folder / "serve", ready, 120)[0]
    try:
        tokens = fetch_tokens(port, args.requests)
        (folder / "bodies.jsonl").write_text(share_bodies(tokens, f"{i}{mode[-2:]}"))
        ids = folder / "ids.txt"
        post = ["post", str(folder / "bodies.jsonl"), str(ids)]
        bound = 60 + args.requests // 50  # seconds: a run this slow is a failure anyway
        first_shares = (i + MODES.index(mode)) % 2 == 0
        loads, delivered = {}, 0
        for what in ("shares", "healthz") if first_shares else ("healthz", "shares"):
            url = f"http://127.0.0.1:{port}/" + ("api/shares" if what == "shares" else "healthz")
            how = post if what == "shares" else ["get"]
            seconds = bound if what == "shares" else args.healthz_seconds
            x = loads[what] = wrk(url, tmp / "shares.lua", args.concurrency, how, seconds, pid)
            cpu = f"server CPU {x.server_cpu / x.seconds:4.0%}, wrk {x.client_cpu / x.seconds:4.0%}"
            print(
                f"  round {i + 1} {mode:>14} {what:>7}: {x.rate:8,.0f}/s ({x.answered:,} in"
                f" {x.seconds:5.2f} s), p50 {x.p50:6.2f} ms, p90 {x.p90:6.2f}, p99 {x.p99:6.2f};"
                f" {cpu}",
                flush=True,
            )
            if what == "healthz" and set(x.statuses) != {200}:
                sys.exit(f"bench: /healthz answered {x.statuses}")
            if what == "shares":
                if x.statuses != {202: args.requests} or x.sent != args.requests:
                    sys.exit(f"bench: {x.sent} sent, answers {x.statuses}: all must be 202")
                delivered = check_stored(load_db(cfg), ids, args.requests)
    finally:
        stop(pid)
    return Round(loads["shares"], loads["healthz"], delivered)


def load_db(cfg: Path) -> Path:
    return Path(database_url(load_settings(cfg)).removeprefix("sqlite:///"))


def table(args: argparse.Namespace, runs: dict[str, list[Round]]) -> tuple[str, dict[str, bool]]:
    lines = ["| what | ours (median) | baseline (median) | ratio | target | pass/fail |"]
    lines.append("| --- | ---: | ---: | ---: | --- | --- |")

    def row(what: str, a: float, b: float | None, fmt: str, goal: str = "—", ok=None) -> None:
        base, ratio = ("—", "—") if b is None else (fmt.format(b), f"{a / b:.2f}")
        verdict = "—" if ok is None else ("pass" if ok else "**FAIL**")
        lines.append(f"| {what} | {fmt.format(a)} | {base} | {ratio} | {goal} | {verdict} |")

    verdicts = {}
    for mode in MODES:
        shares, health = [r.shares for r in runs[mode]], [r.healthz for r in runs[mode]]

        def med(loads: list[Load], attr: str) -> float:
            return median(getattr(x, attr) for x in loads)

        rate, base = med(shares, "rate"), med(health, "rate")
        tick = f"outbox.tick_seconds {TICK[mode]:g}"
        what = f"{mode} ({tick}): accepted shares/s, {args.requests:,} POSTs at"
        what += f" {args.concurrency} connections, vs `/healthz` req/s (same server, same client)"
        fast = rate >= TARGET_RATE
        row(what, rate, base, "{:,.0f}", f">= {TARGET_RATE:,}/s", fast)
        lat = " vs ".join(f"{med(x, 'p50'):.1f}/{med(x, 'p90'):.1f}" for x in (shares, health))
        what = f"{mode}: p99 latency, shares vs `/healthz` (p50/p90 {lat} ms)"
        p99 = med(shares, "p99")
        quick = p99 < TARGET_P99_MS
        row(what, p99, med(health, "p99"), "{:.1f} ms", f"< {TARGET_P99_MS:.0f} ms", quick)
        cpu = [median(x.server_cpu * 1e3 / x.answered for x in loads) for loads in (shares, health)]
        row(f"{mode}: server CPU a request, share vs `/healthz`", *cpu, "{:.2f} ms")
        if mode == ON:
            what = f"{mode}: emails delivered (maildir) by the time every share was answered"
            row(what, median(r.delivered for r in runs[mode]), None, "{:,.0f}")
        verdicts[mode] = fast and quick
    what = "durable: every answered id read back from the database while the server ran, with"
    what += " its recipient, its email in the outbox and its spent token"
    what += f" ({args.requests:,} rows in each table), every round"
    lines.append(f"| {what} | yes | — | — | all | pass |")
    return "\n".join(lines), verdicts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=5000, help="POST /api/shares a round")
    ap.add_argument("--concurrency", type=int, default=32, help="connections kept open")
    ap.add_argument("--rounds", type=int, default=5, help="rounds, each a fresh server a mode")
    ap.add_argument("--healthz-seconds", type=int, default=5, help="seconds of each /healthz run")
    ap.add_argument("--quick", action="store_true", help="a smoke run: small N, README untouched")
    ap.add_argument("--no-readme", action="store_true", help="do not update bench/README.md")
    args = ap.parse_args()
    if args.quick:
        args.requests, args.rounds, args.healthz_seconds = 500, 2, 2
    if shutil.which("wrk") is None:
        ap.error("wrk is needed: apt-get install wrk")  # exits 2
    model = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
    machine = f"nproc {len(os.sched_getaffinity(0))}, {model[1] if model else 'unknown CPU'}"
    runs: dict[str, list[Round]] = {mode: [] for mode in MODES}
    try:
        with tempfile.TemporaryDirectory(prefix="feedsvc-shares-bench-") as tmp_name:
            tmp = Path(tmp_name)
            (tmp / "shares.lua").write_text(LUA)
            with contextlib.closing(socket.create_server(("127.0.0.1", 0))) as s:
                port = s.getsockname()[1]
            print(f"{args.rounds} rounds, a fresh server and database for each mode:", flush=True)
            for i in range(args.rounds):
                for mode in MODES if i % 2 == 0 else MODES[::-1]:
                    runs[mode].append(one_round(tmp, i, mode, args, port))
    finally:
        for pid in list(STARTED):
            stop(pid)
    text, verdicts = table(args, runs)
    loads = [x for rounds in runs.values() for r in rounds for x in (r.shares, r.healthz)]
    busiest = max(x.client_cpu / x.seconds for x in loads)
    note = f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {machine}; medians of"
    note += f" {args.rounds} rounds, each mode on a fresh server and SQLite database (WAL, on"
    note += " disk), shares and `/healthz` in alternating order. Client: wrk -t1 with a Lua"
    note += f" script (at most {busiest:.0%} of a core); latencies as wrk reports them. Our"
    note += " access log is on (to a file)."
    git = ["git", "-C", str(BENCH), "describe", "--always", "--dirty"]
    note += f" Code: {subprocess.run(git, capture_output=True, text=True).stdout.strip()}."
    goal = f">= {TARGET_RATE:,}/s and p99 < {TARGET_P99_MS:.0f} ms"
    said = ", ".join(f"{mode} {'PASS' if ok else 'FAIL'}" for mode, ok in verdicts.items())
    print(f"\n{text}\n\n{note}\n\n{goal}: {said}")
    if not (args.quick or args.no_readme):  # between our markers in bench/README.md
        cmd = f"bench/shares.py --requests {args.requests} --concurrency {args.concurrency}"
        block = f"{START}\n{note}\n\n`{cmd} --rounds {args.rounds}`:\n\n{text}\n{END}"
        page = README.read_text()
        if not re.search(f"{START}.*{END}", page, flags=re.S):
            sys.exit(f"bench: no {START} markers in {README}; not written")
        README.write_text(re.sub(f"{START}.*{END}", lambda _: block, page, flags=re.S))
    return 0


if __name__ == "__main__":
    sys.exit(main())
