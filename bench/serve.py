"""Serve benchmark (issue 3): `feedsvc serve` beside a bare ASGI app and nginx, in one run.

    .venv/bin/python bench/serve.py [--n 10000] [--runs 3] [--duration 10] [--n-memory 100000]
        [--only-throughput] [--cpu]

Run on demand, never as a test: every figure is a median beside baselines measured in the
same run (see bench/README.md). All traffic goes to 127.0.0.1; every load loop is bounded.
"""

import argparse
import contextlib
import dataclasses
import datetime as dt
import gzip
import math
import os
import pickle
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import median

import requests

from feedsvc.config import load_settings

BENCH = Path(__file__).resolve().parent
TARGET_RATIO, TARGET_MIB = 0.9, 300
GOAL = f">= {TARGET_RATIO} x bare ASGI"
README, START, END = BENCH / "README.md", "<!-- serve-results -->", "<!-- /serve-results -->"
SERVERS = OURS, NOLOG, BARE, NGINX = "ours", "ours, access log off", "bare ASGI", "nginx"
TESTS = ("304", "gzip 200")
NGINX_BIN = shutil.which("nginx") or "/usr/sbin/nginx"
NGINX_TEMPS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
DATELINE = re.compile(r"On [A-Z][a-z]+ \d{1,2}, \d{4},")  # as gen_corpus.py writes it
FEEDSVC = [sys.executable, "-m", "feedsvc"]
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}
STARTED: dict[int, subprocess.Popen[bytes]] = {}  # all stopped at the end, whatever happens


@dataclass(frozen=True)
class Load:  # one wrk run
    rps: float
    p50: float  # ms
    p99: float  # ms
    size: float  # bytes read per response, headers included
    requests: int = 0
    cpu: float = 0.0  # the server's CPU seconds (user + system, its process tree) meanwhile


def tree_memory(root: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) in MiB, summed over `root` and its children, from /proc."""
    kib = [0, 0]
    for path in Path("/proc").glob("[0-9]*/status"):
        with contextlib.suppress(OSError, KeyError):  # gone already, or a kernel thread
            f = dict(re.findall(r"^(Pid|PPid|VmRSS|VmHWM):\s+(\d+)", path.read_text(), re.M))
            if str(root) in (f["Pid"], f["PPid"]):
                kib = [kib[0] + int(f["VmRSS"]), kib[1] + int(f["VmHWM"])]
    return kib[0] / 1024, kib[1] / 1024


def tree_cpu(root: int) -> float:
    """CPU seconds (user + system) of `root` and its children so far, from /proc."""
    ticks = 0
    for path in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):  # gone already
            pid, rest = path.read_text().split(" ", 1)
            fields = rest.rsplit(")", 1)[1].split()  # after the command's name
            if root in (int(pid), int(fields[1])):  # fields[1]: the parent
                ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def start(cmd: list[str], log: Path, ready: str, timeout: float) -> tuple[int, float, float]:
    """Start a server, wait for `ready`: its pid, seconds that took, largest tree RSS meanwhile."""
    t0, peak = time.perf_counter(), 0.0
    with log.with_suffix(".out").open("wb") as out, log.with_suffix(".err").open("wb") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
    STARTED[proc.pid] = proc
    while time.perf_counter() - t0 < timeout:
        if proc.poll() is not None:
            tail = log.with_suffix(".err").read_text()[-3000:]
            sys.exit(f"bench: {cmd[0]} exited {proc.returncode} at start:\n{tail}")
        peak = max(peak, tree_memory(proc.pid)[0])
        with contextlib.suppress(requests.RequestException):
            if requests.get(ready, timeout=1).status_code == 200:
                return proc.pid, time.perf_counter() - t0, peak
        time.sleep(0.05)
    sys.exit(f"bench: {ready} did not answer within {timeout:.0f} s")


def stop(pid: int) -> None:
    proc = STARTED.pop(pid)
    proc.send_signal(signal.SIGCONT)  # in case it is paused
    proc.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(15)
    proc.kill()  # if it is still there
    proc.wait()


def write_config(run_dir: Path, items: Path, port: int, base_port: int, log: bool = True) -> Path:
    (run_dir / "db").mkdir(parents=True)
    cfg = run_dir / "config.toml"
    cfg.write_text(
        f'[site]\ntimezone = "UTC"\nbase_url = "http://127.0.0.1:{base_port}/"\n\n'
        f'[items]\ndir = "{items}"\n\n[database]\nurl = "sqlite:///{run_dir}/db/feedsvc.db"\n\n'
        f'[build]\nout = "{run_dir}/out"\n\n[server]\nport = {port}\n'
        f'cache_dir = "{run_dir}/cache"\naccess_log = {str(log).lower()}\n',
        encoding="utf-8",
    )
    return cfg


def bare() -> None:
    """Baseline (a): a bare ASGI app on uvicorn, our flags, answering with our /feed.xml's
    responses, headers and all. `python -c "import serve; serve.bare()" RESPONSES.pickle PORT`"""
    import uvicorn

    plain, packed, not_modified, etags = pickle.loads(Path(sys.argv[1]).read_bytes())

    async def app(scope, receive, send) -> None:
        headers = dict(scope["headers"])
        if headers.get(b"if-none-match") in etags:
            status, (out, body) = 304, not_modified
        else:
            gz = b"gzip" in headers.get(b"accept-encoding", b"")
            status, (out, body) = 200, packed if gz else plain
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": body})

    flags = {"loop": "uvloop", "http": "httptools", "access_log": False, "lifespan": "off"}
    flags |= {"log_level": "warning", "server_header": False, "host": "127.0.0.1"}
    # Ours runs without uvicorn's proxy-header middleware (feedsvc/web/server.py): so does
    # the baseline, or it carries ~3% of work ours does not (issue 18).
    flags["proxy_headers"] = False
    uvicorn.run(app, port=int(sys.argv[2]), **flags)


def check(name: str, url: str, ours: bytes = b"") -> tuple[str, list[requests.Response], bytes]:
    """200, gzip and 304 once, so a misconfigured server makes no figure: ETag, responses, gzip."""
    plain = requests.get(url, headers={"Accept-Encoding": "identity"}, timeout=10)
    packed = requests.get(url, headers={"Accept-Encoding": "gzip"}, timeout=10, stream=True)
    raw, etag = packed.raw.read(decode_content=False), plain.headers.get("ETag", "")
    again = requests.get(url, headers={"If-None-Match": etag, "Accept-Encoding": "identity"})
    got = (plain.status_code, packed.headers.get("Content-Encoding"), again.status_code)
    same = etag and packed.headers.get("ETag") and again.headers.get("ETag") == etag
    if got != (200, "gzip", 304) or not same or gzip.decompress(raw) != plain.content:
        sys.exit(f"bench: {name} is misconfigured: 200/gzip/304 gave {got}, ETag {etag!r}")
    same = "" if not ours else " (the same as ours)" if ours == plain.content else " (NOT OURS)"
    print(f"  {name}: 200 {len(plain.content):,} B{same}, gzip {len(raw):,} B, 304, ETag {etag}")
    return etag, [plain, packed, again], raw


def start_servers(tmp: Path, cfg: Path, ports: dict[str, int]) -> dict[str, tuple]:
    """Ours, ours with its access log off (on a copy of the store), the bare ASGI app with
    our /feed.xml responses, nginx on the export. Returns name -> (pid, URL, ETag, gzip B)."""
    nolog = write_config(tmp / "nolog", tmp / "corpus", ports[NOLOG], ports[OURS], log=False)
    shutil.copytree(cfg.with_name("db"), nolog.with_name("db"), dirs_exist_ok=True)
    url = {name: f"http://127.0.0.1:{port}/feed.xml" for name, port in ports.items()}
    pid = {}
    for name, conf in ((OURS, cfg), (NOLOG, nolog)):
        cmd = [*FEEDSVC, "serve", "--config", str(conf)]
        pid[name] = start(cmd, conf.with_name("serve"), url[name][:-8] + "healthz", 600)[0]
    etag, ours, raw = check(OURS, url[OURS])
    heads = [[(k.lower().encode(), v.encode()) for k, v in r.headers.items()] for r in ours]
    heads = [[(k, v) for k, v in head if k not in (b"date", b"server")] for head in heads]
    etags = {etag.encode(), ours[1].headers["ETag"].encode()}
    responses = (heads[0], ours[0].content), (heads[1], raw), (heads[2], b""), etags
    (tmp / "bare.pickle").write_bytes(pickle.dumps(responses))
    code = f"import sys; sys.path.insert(0, {str(BENCH)!r}); import serve; serve.bare()"
    cmd = [sys.executable, "-c", code, str(tmp / "bare.pickle"), str(ports[BARE])]
    pid[BARE] = start(cmd, tmp / "bare", url[BARE], 60)[0]
    # Baseline (b): nginx, one worker, on the static export; its access log is off.
    temps = " ".join(f"{k}_temp_path {tmp}/{k};" for k in NGINX_TEMPS)
    (tmp / "nginx.conf").write_text(
        f"daemon off; worker_processes 1; pid {tmp}/nginx.pid; error_log {tmp}/nginx.err;\n"
        "events {}\nhttp { types { application/rss+xml xml; } access_log off; etag on;\n"
        f"  sendfile on; keepalive_requests 1000000;\n  {temps}\n"
        f"  server {{ listen 127.0.0.1:{ports[NGINX]}; root {cfg.with_name('out')};\n"
        "    gzip_static on; } }\n",
        encoding="utf-8",
    )
    cmd = [NGINX_BIN, "-c", str(tmp / "nginx.conf"), "-e", str(tmp / "nginx.err")]
    pid[NGINX] = start(cmd, tmp / "nginx", url[NGINX], 60)[0]
    targets = {OURS: (pid[OURS], url[OURS], etag, len(raw))}
    for name in (NOLOG, BARE, NGINX):
        other, _, packed = check(name, url[name], ours[0].content)
        targets[name] = (pid[name], url[name], other, len(packed))
    return targets


def wrk(url: str, header: str, duration: int) -> Load:
    cmd = ["wrk", "-t1", "-c50", f"-d{duration}s", "--latency", "-H", header, url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60).stdout
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        sys.exit(f"bench: {m[1]} error responses from {url}:\n{out}")
    got = re.search(r"(\d+) requests in [\d.]+\w+, ([\d.]+)(\w+) read", out)
    lat = {q: float(v) * UNITS[u] for q, v, u in re.findall(r"(50|99)%\s+([\d.]+)(\w+)", out)}
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if got is None or rps is None or len(lat) != 2:
        sys.exit(f"bench: cannot read wrk's output:\n{out}")
    size = float(got[2]) * UNITS[got[3]] / int(got[1])
    return Load(float(rps[1]), lat["50"], lat["99"], size, int(got[1]))


def throughput(targets: dict[str, tuple], runs: int, duration: int, show_cpu: bool = False) -> dict:
    """`runs` rounds, the servers in turn; the idle feedsvc is paused so its scans add no noise."""
    loads: dict[tuple[str, str], list[Load]] = {}
    for i in range(runs):
        for name in SERVERS[i % len(SERVERS) :] + SERVERS[: i % len(SERVERS)]:
            for other in (OURS, NOLOG):
                os.kill(targets[other][0], signal.SIGCONT if other == name else signal.SIGSTOP)
            pid, url, etag, gz = targets[name]
            for test in TESTS:
                header = f"If-None-Match: {etag}" if test == "304" else "Accept-Encoding: gzip"
                cpu = tree_cpu(pid)
                x = wrk(url, header, duration)
                x = dataclasses.replace(x, cpu=tree_cpu(pid) - cpu)
                if (x.size > 1024) if test == "304" else (x.size < gz):  # not what check() saw
                    sys.exit(f"bench: {name} {test}: {x.size:.0f} B a response is wrong")
                loads.setdefault((name, test), []).append(x)
                stats = f"p50 {x.p50:5.2f} ms, p99 {x.p99:5.2f} ms, {x.size:,.0f} B a response"
                stats += f", {x.cpu / x.requests * 1e6:.1f} us CPU a request" if show_cpu else ""
                print(f"  run {i + 1} {name:>20} {test:>8}: {x.rps:9,.0f} req/s, {stats}")
    return loads


def cpu_table(loads: dict) -> str:
    """--cpu: the server's CPU a request, ours beside the bare app. On a shared machine req/s
    follow whoever else runs; CPU a request much less: bare / ours is the req/s ratio a
    server of its own core would see."""
    us = {key: median(x.cpu / x.requests * 1e6 for x in xs) for key, xs in loads.items()}
    lines = [
        "| what | ours (median) | bare ASGI (median) | bare / ours |",
        "| --- | ---: | ---: | ---: |",
    ]
    for test in TESTS:
        for who in (OURS, NOLOG):
            a, b = us[(who, test)], us[(BARE, test)]
            what = f"`/feed.xml` {test}, server CPU us a request: {who} vs bare ASGI"
            lines.append(f"| {what} | {a:.1f} | {b:.1f} | {b / a:.2f} |")
    return "\n".join(lines)


def publish_latency(gen: list[str], tmp: Path, feed: str, count: int) -> list[float]:
    """Copy `count` new releases into items/ one by one; poll the feed every 20 ms for each."""
    subprocess.run([*gen, str(count), str(tmp / "extra"), "--seed", "2"], check=True)  # new ids
    day = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)  # dated yesterday: they lead
    session, seconds = requests.Session(), []
    for i, path in enumerate(sorted((tmp / "extra").glob("*.txt")), start=1):
        text = DATELINE.sub(f"On {day:%B} {day.day}, {day.year},", path.read_text("utf-8"), 1)
        new = path.with_name(f"bench-new-{i:02d}.txt")
        new.write_text(text, encoding="utf-8", newline="\n")
        time.sleep(1)  # between drops (and after the pause, for the catch-up scan to end)
        t0 = time.perf_counter()
        shutil.copyfile(new, tmp / "corpus" / new.name)
        while f"/releases/{new.stem}/".encode() not in session.get(feed, timeout=10).content:
            if time.perf_counter() - t0 > 60:
                sys.exit(f"bench: {new.name} not in {feed} after 60 s")
            time.sleep(0.02)
        seconds.append(time.perf_counter() - t0)
        print(f"  {new.name}: visible after {seconds[-1]:.3f} s", flush=True)
    return seconds


def memory(gen: list[str], tmp: Path, n: int, port: int) -> tuple[float, float, float, float, str]:
    """Start on `n` releases, warm up: start s; RSS, VmHWM, tree RSS during start (MiB); errors."""
    corpus = tmp / "corpus-memory"
    subprocess.run([*gen, str(n), str(corpus), "--md-out", str(tmp / "md-memory")], check=True)
    time.sleep(1.5)  # > items.settle_seconds: the first scan takes every file
    cfg, base = write_config(tmp / "memory", corpus, port, port), f"http://127.0.0.1:{port}/"
    cmd = [*FEEDSVC, "serve", "--config", str(cfg)]
    pid, startup, tree_peak = start(cmd, cfg.with_name("serve"), base + "healthz", 3600)
    print(f"  started on {n:,} releases in {startup:.1f} s", flush=True)
    session, rng = requests.Session(), random.Random(3)
    paths = ["feed.xml", "atom.xml", "feed.json", "sitemap.xml"]
    paths += re.findall(r"<loc>[^<]*/(sitemaps/\d+\.xml)</loc>", session.get(base + paths[3]).text)
    paths += [f"releases/{p.stem}/" for p in rng.sample(sorted(corpus.glob("*.txt")), min(200, n))]
    last = math.ceil(n / load_settings(cfg).pages.per_page)
    paths += [f"page/{k}/" for k in rng.sample(range(2, last + 1), min(50, last - 1))]
    got = {path: session.get(base + path, timeout=120).status_code for path in paths}
    failed = ", ".join(f"`/{path}` answered {code}" for path, code in got.items() if code != 200)
    print(f"  warm-up: {len(paths)} requests; {failed or 'all 200'}", flush=True)
    rss, hwm = tree_memory(pid)
    stop(pid)
    return startup, rss, hwm, tree_peak, failed


def table(n: int, n_mem: int, loads: dict, drops: list[float], mem: tuple | None, items) -> str:
    rps = {key: median(x.rps for x in xs) for key, xs in loads.items()}
    lat = {key: [median(x.p50 for x in xs), median(x.p99 for x in xs)] for key, xs in loads.items()}
    lines = ["| what | ours (median) | baseline (median) | ratio | target | pass/fail |"]
    lines.append("| --- | ---: | ---: | ---: | --- | --- |")

    def row(what: str, a: float, b: float | None, fmt: str, goal: str = "—", ok=None) -> None:
        base, ratio = ("—", "—") if b is None else (fmt.format(b), f"{a / b:.2f}")
        verdict = "—" if ok is None else ("pass" if ok else "**FAIL**")
        lines.append(f"| {what} | {fmt.format(a)} | {base} | {ratio} | {goal} | {verdict} |")

    for test in TESTS:
        for who, base in ((OURS, BARE), (OURS, NGINX), (NOLOG, BARE)):
            a, b = rps[(who, test)], rps[(base, test)]
            p = " vs ".join("{:.2f}/{:.2f}".format(*lat[(x, test)]) for x in (who, base))
            what = f"`/feed.xml` {test}, req/s: {who} vs {base} (p50/p99 {p} ms)"
            held = (who, base) == (OURS, BARE)  # to the target
            row(what, a, b, "{:,.0f}", *((GOAL, a >= TARGET_RATIO * b) if held else ()))
    if mem is None:  # --only-throughput
        return f"Store of {n:,} releases for throughput.\n\n" + "\n".join(lines)
    what = f"publish latency, file dropped -> in `/feed.xml`, median of {len(drops)}"
    what += f" (max {max(drops):.2f} s; items.scan_seconds {items.scan_seconds}, "
    row(f"{what}settle_seconds {items.settle_seconds})", median(drops), None, "{:.2f} s")
    startup, rss, hwm, tree_peak, failed = mem
    mib, held = f"<= {TARGET_MIB} MiB", f"`feedsvc serve` holding {n_mem:,} releases:"
    warm = f"RSS after warm-up{f' ({failed})' if failed else ''}"
    row(f"{held} {warm}", rss, None, "{:.0f} MiB", mib, rss <= TARGET_MIB)
    row(f"{held} peak RSS (VmHWM)", hwm, None, "{:.0f} MiB", mib, hwm <= TARGET_MIB)
    row(f"{held} largest RSS of its process tree during start", tree_peak, None, "{:.0f} MiB")
    row(f"{held} start on an empty store until `/healthz` answers", startup, None, "{:.1f} s")
    return f"Store of {n:,} releases for throughput and publish latency.\n\n" + "\n".join(lines)


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000, help="releases in the throughput store")
    ap.add_argument("--runs", type=int, default=3, help="wrk rounds over all servers")
    ap.add_argument("--duration", type=int, default=10, help="seconds of each wrk run")
    ap.add_argument("--drops", type=int, default=20, help="files dropped for publish latency")
    ap.add_argument("--n-memory", type=int, default=100_000, help="releases for the memory run")
    ap.add_argument("--tools", type=Path, default=BENCH.parents[1] / "shared" / "tools")
    ap.add_argument("--no-readme", action="store_true", help="do not update bench/README.md")
    ap.add_argument(
        "--cpu", action="store_true", help="also print the servers' CPU a request (not written)"
    )
    ap.add_argument(
        "--only-throughput",
        action="store_true",
        help="skip publish latency and memory (a quicker look at req/s; implies --no-readme)",
    )
    args = ap.parse_args()
    if shutil.which("wrk") is None or not Path(NGINX_BIN).is_file():
        ap.error("wrk and nginx are needed: apt-get install wrk nginx-light")  # exits 2
    if not (args.tools / "gen_corpus.py").is_file():
        ap.error(f"{args.tools}/gen_corpus.py not found; give --tools DIR")
    return args


def main() -> int:
    args = parse_args()
    model = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
    machine = f"nproc {len(os.sched_getaffinity(0))}, {model[1] if model else 'unknown CPU'}"
    gen = [sys.executable, str(args.tools / "gen_corpus.py")]
    socks = [socket.create_server(("127.0.0.1", 0)) for _ in range(5)]  # held at once: distinct
    ports = dict(zip([*SERVERS, "memory"], (s.getsockname()[1] for s in socks), strict=True))
    for s in socks:
        s.close()
    try:
        with tempfile.TemporaryDirectory(prefix="feedsvc-serve-bench-") as tmp_name:
            tmp = Path(tmp_name)
            tmp.chmod(0o755)  # nginx's worker runs as nobody when started by root
            subprocess.run([*gen, str(args.n), str(tmp / "corpus")], check=True)
            cfg = write_config(tmp / "ours", tmp / "corpus", ports[OURS], ports[OURS])
            subprocess.run([*FEEDSVC, "build", "--config", str(cfg)], check=True)  # for nginx
            print("1. throughput; each server checked once:", flush=True)
            targets = start_servers(tmp, cfg, ports)
            loads = throughput(targets, args.runs, args.duration, args.cpu)
            for name in (NOLOG, BARE, NGINX):
                stop(targets[name][0])
            os.kill(targets[OURS][0], signal.SIGCONT)
            drops: list[float] = []
            mem = None
            if not args.only_throughput:
                print(f"2. publish latency, {args.drops} drops:", flush=True)
                drops = publish_latency(gen, tmp, targets[OURS][1], args.drops)
            stop(targets[OURS][0])
            if not args.only_throughput:
                print(f"3. memory, {args.n_memory:,} releases:", flush=True)
                mem = memory(gen, tmp, args.n_memory, ports["memory"])
            text = table(args.n, args.n_memory, loads, drops, mem, load_settings(cfg).items)
    finally:
        for pid in list(STARTED):
            stop(pid)
    note = f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {machine}. Throughput: "
    note += f"wrk -t1 -c50 -d{args.duration}s; medians of {args.runs} runs, the servers in turn."
    note += " Our access log is on (to a file) unless said otherwise; nginx's is off."
    git = ["git", "-C", str(BENCH), "describe", "--always", "--dirty"]
    note += f" Code: {subprocess.run(git, capture_output=True, text=True).stdout.strip()}."
    print(f"\n{text}\n\n{note}")
    if args.cpu:
        print(f"\n{cpu_table(loads)}")
    if not args.no_readme and not args.only_throughput:  # between our markers in README.md
        cmd = f"bench/serve.py --n {args.n} --runs {args.runs} --duration {args.duration}"
        block = f"{START}\n{note}\n\n`{cmd} --n-memory {args.n_memory}`:\n\n{text}\n{END}"
        page = README.read_text()
        if not re.search(f"{START}.*{END}", page, flags=re.S):
            sys.exit(f"bench: no {START} markers in {README}; not written")
        README.write_text(re.sub(f"{START}.*{END}", lambda _: block, page, flags=re.S))
    return 0


if __name__ == "__main__":
    sys.exit(main())
