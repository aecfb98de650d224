"""Outbox benchmark: emails and webhooks through the whole outbox beside bare clients, in one run.

    .venv/bin/python bench/outbox.py [--emails 2000] [--webhooks 1000] [--rounds 5] [--quick]

Run on demand, never as a test: every figure is a median beside baselines measured in the
same run (see bench/README.md). The SMTP sink and the HTTP receiver run in processes of
their own on 127.0.0.1 and count what arrives; a run after which either has not received
every message stops the benchmark.
"""

import argparse
import base64
import contextlib
import datetime as dt
import json
import multiprocessing
import os
import re
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from pathlib import Path
from statistics import median
from typing import Any, NamedTuple

import requests

from feedsvc.channels.email import Letterhead, compose
from feedsvc.channels.webhook import signature_headers
from feedsvc.clock import SystemClock
from feedsvc.config import Settings, settings_from_dict
from feedsvc.model import Delivery, Outgoing
from feedsvc.outbox.dispatcher import Dispatcher
from feedsvc.service import dispatcher
from feedsvc.store import Store

BENCH = Path(__file__).resolve().parent
TARGET = 0.5  # x raw smtplib, for email (the issue); webhooks have no target
README, START, END = BENCH / "README.md", "<!-- outbox-results -->", "<!-- /outbox-results -->"
SECRET_ENV = "FEEDSVC_BENCH_WEBHOOK_SECRET"
SENDER = "Press Office <press@press.example.org>"
OURS, RAW, OURS1 = "ours", "raw smtplib", "ours, 1 SMTP connection"
PREPARE = {"email": "compose (bytes)", "webhook": "minify + sign the JSON"}
BARE, BARE4 = "requests.Session", "requests.Session x4 threads"
CLOCK = SystemClock()  # webhook signatures carry the real time, as under `feedsvc serve`
SPAWN = multiprocessing.get_context("spawn")  # receivers share neither our GIL nor our state


@dataclass(frozen=True)
class Run:
    seconds: float
    cpu: float  # our process's CPU seconds (all threads) during the run
    sink_cpu: float  # the receiver's CPU seconds during the run
    size: float  # bytes a message, as the receiver got them (DATA, or the request body)


@dataclass
class Receiver:
    """A receiver process and the counters it writes (one writer each: no lock)."""

    name: str
    process: Any
    port: int
    count: Any
    size: Any

    def cpu(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def measure(self, n: int, send: Callable[[], None]) -> Run:
        """Time `send`, then check that exactly `n` messages arrived meanwhile."""
        count, size, sink_cpu = self.count.value, self.size.value, self.cpu()
        t0, cpu = time.perf_counter(), time.process_time()
        send()
        seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu
        got = self.count.value - count  # counted before the reply: no wait needed
        if got != n:
            sys.exit(f"bench: the {self.name} received {got} messages, not {n}")
        return Run(seconds, cpu, self.cpu() - sink_cpu, (self.size.value - size) / n)


def smtp_sink(port: int, count: Any, size: Any) -> None:
    """aiosmtpd on uvloop, accepting and discarding every message."""
    import asyncio

    import uvloop
    from aiosmtpd.smtp import SMTP as Server

    class Discard:
        async def handle_DATA(self, server, session, envelope) -> str:
            count.value += 1
            size.value += len(envelope.original_content or envelope.content)
            return "250 OK"

    async def serve() -> None:
        # A fixed hostname: aiosmtpd would otherwise look up our FQDN on every connection.
        make = lambda: Server(Discard(), hostname="sink.bench", ident="sink")  # noqa: E731
        server = await asyncio.get_running_loop().create_server(make, "127.0.0.1", port)
        await server.serve_forever()

    uvloop.run(serve())


def http_receiver(port: int, count: Any, size: Any) -> None:
    """uvicorn (uvloop, httptools) with an ASGI app that reads the body and answers 204."""
    import uvicorn

    async def app(scope, receive, send) -> None:
        got, more = 0, True
        while more:
            message = await receive()
            got, more = got + len(message.get("body", b"")), message.get("more_body", False)
        count.value, size.value = count.value + 1, size.value + got
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    flags = {"loop": "uvloop", "http": "httptools", "access_log": False, "lifespan": "off"}
    flags |= {"log_level": "warning", "server_header": False, "date_header": False}
    uvicorn.run(app, host="127.0.0.1", port=port, **flags)


class Receivers(NamedTuple):
    smtp: Receiver
    http: Receiver


def start(name: str, target: Callable[..., None]) -> Receiver:
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    count, size = SPAWN.RawValue("q", 0), SPAWN.RawValue("q", 0)
    process = SPAWN.Process(target=target, args=(port, count, size), daemon=True)
    process.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.is_alive():
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return Receiver(name, process, port, count, size)
        time.sleep(0.05)
    sys.exit(f"bench: the {name} did not start listening on port {port}")


def share_email(i: int) -> dict[str, Any]:
    """A release shared by a reader: what the email channel's payload looks like."""
    url = "https://press.example.org/releases/2025-05-01-budget/"
    return {
        "to": f"Reader {i} <reader{i}@example.org>",
        "subject": "Ministry of Finance: the 2025 budget is approved — shared with you",
        "text": (
            "Hello,\n\nAnna Müller thought you would want to read this press release:\n\n"
            f"The 2025 budget is approved\n{url}\n\n"
            "Berlin, May 1, 2025 — The cabinet today approved the federal budget for 2025,\n"
            "with spending of 476 billion euros and new investment in rail and schools.\n\n"
            "You got this email because Anna shared the release; your address is not kept.\n"
        ),
        "html": (
            "<p>Hello,</p><p>Anna Müller thought you would want to read this press release:</p>"
            f'<p><a href="{url}"><strong>The 2025 budget is approved</strong></a></p>'
            "<p>Berlin, May 1, 2025 — The cabinet today approved the federal budget for 2025, "
            "with spending of 476 billion euros and new investment in rail and schools.</p>"
            "<p><small>You got this email because Anna shared the release; your address is "
            "not kept.</small></p>"
        ),
        "reply_to": None,
    }


def release_event(i: int, now: dt.datetime) -> dict[str, Any]:
    """A release.published event as the announcer builds it."""
    stamp = now.isoformat(timespec="seconds").replace("+00:00", "Z")
    release = f"2025-05-01-budget-{i}"
    return {
        "type": "release.published",
        "timestamp": stamp,
        "data": {
            "id": release,
            "url": f"https://press.example.org/releases/{release}/",
            "title": "The 2025 budget is approved",
            "section": "press-releases",
            "language": "en",
            "summary": "The cabinet approved the federal budget for 2025, with spending of "
            "476 billion euros and new investment in rail and schools.",
            "published": stamp,
            "updated": stamp,
        },
    }


def settings(root: Path, rx: Receivers, connections: int | None = None) -> Settings:
    raw = {
        "site": {"base_url": "https://press.example.org/", "id_authority": "press.example.org"},
        "database": {"url": f"sqlite:///{root}/feedsvc.db"},
        "mail": {"transport": "smtp", "smtp_host": "127.0.0.1", "smtp_port": rx.smtp.port},
        "outbox": {"allow_private_targets": True},
        "webhooks": [{"url": hook_url(rx.http), "secret_env": SECRET_ENV}],
    }
    raw["mail"] |= {"smtp_security": "none", "from": SENDER}
    if connections is not None:
        raw["mail"]["smtp_connections"] = connections
    return settings_from_dict(raw, root=root)


def hook_url(http: Receiver) -> str:
    return f"http://127.0.0.1:{http.port}/hook"


def emails(n: int) -> list[Outgoing]:
    return [
        Outgoing("email", f"reader{i}@example.org", share_email(i), f"share {i}") for i in range(n)
    ]


def webhooks(n: int, url: str) -> list[Outgoing]:
    now = CLOCK.now()
    return [
        Outgoing("webhook", url, release_event(i, now), f"release.published {i} {url}", str(i))
        for i in range(n)
    ]


@contextlib.contextmanager
def fresh_store(rx: Receivers, connections: int | None = None) -> Iterator[tuple[Settings, Store]]:
    with tempfile.TemporaryDirectory(prefix="feedsvc-outbox-bench-") as tmp:
        config = settings(Path(tmp), rx, connections)
        store = Store.open(config.database.url)
        try:
            yield config, store
        finally:
            store.close()


def deliver_all(send: Dispatcher, store: Store, outgoing: list[Outgoing]) -> None:
    """Enqueue the burst in one call, then run the dispatcher until all are recorded."""
    channel, n = outgoing[0].channel, len(outgoing)
    store.outbox.enqueue(outgoing, CLOCK.now())
    deadline = time.monotonic() + 300
    while (done := store.outbox.counts()[channel, "delivered"]) < n:
        report = send.run(budget=60)
        if set(report.outcomes) - {(channel, "delivered")} or time.monotonic() > deadline:
            [failed] = store.outbox.list(channel=channel, limit=1) or [None]
            why = failed.last_error if failed else "nothing"
            sys.exit(f"bench: {done} of {n} {channel}s delivered: {report.outcomes}; {why}")


def ours(rx: Receivers, outgoing: list[Outgoing], connections: int | None = None) -> Run:
    """Our service's dispatcher, as `feedsvc serve` builds it, on a fresh store."""
    with fresh_store(rx, connections) as (config, store):
        send = dispatcher(config, store, CLOCK)
        receiver = rx.smtp if outgoing[0].channel == "email" else rx.http
        return receiver.measure(len(outgoing), lambda: deliver_all(send, store, outgoing))


def raw_smtplib(smtp: Receiver, messages: list[tuple[str, list[str], bytes]]) -> Run:
    def send() -> None:
        with smtplib.SMTP("127.0.0.1", smtp.port) as connection:  # QUIT on leaving
            for sender, recipients, data in messages:
                connection.sendmail(sender, recipients, data)

    return smtp.measure(len(messages), send)


def raw_messages(n: int) -> list[tuple[str, list[str], bytes]]:
    """The same shares, built beforehand as plain EmailMessage bytes."""
    messages = []
    for i in range(n):
        payload = share_email(i)
        message = EmailMessage(policy=SMTP)
        message["From"], message["To"] = SENDER, payload["to"]
        message["Subject"], message["Date"] = payload["subject"], format_datetime(CLOCK.now())
        message["Message-ID"] = make_msgid(domain="press.example.org")
        message.set_content(payload["text"])
        message.add_alternative(payload["html"], subtype="html")
        messages.append((SENDER, [f"reader{i}@example.org"], message.as_bytes()))
    return messages


def bare_requests(http: Receiver, bodies: list[bytes], threads: int) -> Run:
    """POSTs of the same JSON, unsigned, through one requests.Session (shared by `threads`)."""
    session, url = requests.Session(), hook_url(http)
    session.trust_env = False  # as our channel's session: no proxy lookups from the environment
    headers = {"Content-Type": "application/json"}

    def post(share: list[bytes]) -> None:
        for body in share:
            if (status := session.post(url, data=body, headers=headers).status_code) != 204:
                sys.exit(f"bench: the HTTP receiver answered {status}")

    def send() -> None:
        workers = [
            threading.Thread(target=post, args=(bodies[k::threads],)) for k in range(threads)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    with session:
        return http.measure(len(bodies), send)


class NoSend:
    """A channel that sends nothing: what is left is the outbox's own cost."""

    def __init__(self, name: str) -> None:
        self.name = name

    def send(self, delivery: Delivery) -> None:
        pass

    def close(self) -> None:
        pass


def overhead(rx: Receivers, outgoing: list[Outgoing]) -> tuple[float, float]:
    """µs a message: enqueue (one call), claim + record (a dispatcher with a no-op channel)."""
    channel, n = outgoing[0].channel, len(outgoing)
    with fresh_store(rx) as (config, store):
        send = dispatcher(config, store, CLOCK, with_channels={channel: NoSend(channel)})
        t0 = time.perf_counter()
        store.outbox.enqueue(outgoing, CLOCK.now())
        t1 = time.perf_counter()
        while store.outbox.counts()[channel, "delivered"] < n:
            send.run(budget=60)
        t2 = time.perf_counter()
    return (t1 - t0) / n * 1e6, (t2 - t1) / n * 1e6


def preparing(config: Settings, outgoing: list[Outgoing]) -> float:
    """µs a message the channel spends before the network: compose and serialise an email;
    minify and sign a webhook."""
    now = CLOCK.now()
    deliveries = [
        Delivery(i, o.channel, o.target, o.payload, o.key, "sending", 1, now, now, o.subject)
        for i, o in enumerate(outgoing)
    ]
    letterhead = Letterhead.of(config)
    t0 = time.perf_counter()
    if outgoing[0].channel == "email":
        for delivery in deliveries:
            message = compose(delivery, letterhead)
            message.data  # noqa: B018
    else:
        [endpoint] = config.webhooks
        for delivery in deliveries:
            body = minified(delivery.payload)
            signature_headers(endpoint, f"msg_{delivery.stable_id}", now, body)
            body.encode()
    return (time.perf_counter() - t0) / len(deliveries) * 1e6


def show(round_: int, what: str, n: int, run: Run) -> None:
    print(
        f"  round {round_} {what:>33}: {n / run.seconds:7,.0f} msg/s ({run.seconds:5.2f} s; "
        f"our CPU {run.cpu / run.seconds:4.0%}, receiver CPU {run.sink_cpu / run.seconds:4.0%}; "
        f"{run.size:,.0f} B a message)",
        flush=True,
    )


def rounds(args: argparse.Namespace, rx: Receivers) -> dict[str, list]:
    mail, hooks = emails(args.emails), webhooks(args.webhooks, hook_url(rx.http))
    t0 = time.perf_counter()
    raw = raw_messages(args.emails)
    built_us = (time.perf_counter() - t0) / args.emails * 1e6
    bodies = [minified(o.payload).encode() for o in hooks]
    contenders: dict[str, Callable[[], Run]] = {
        f"email {OURS}": lambda: ours(rx, mail),
        f"email {RAW}": lambda: raw_smtplib(rx.smtp, raw),
        f"email {OURS1}": lambda: ours(rx, mail, connections=1),
        f"webhook {OURS}": lambda: ours(rx, hooks),
        f"webhook {BARE}": lambda: bare_requests(rx.http, bodies, 1),
        f"webhook {BARE4}": lambda: bare_requests(rx.http, bodies, 4),
    }
    # One small untimed pass: imports, first connections, and that every path delivers.
    ours(rx, mail[:20]), raw_smtplib(rx.smtp, raw[:20])
    ours(rx, hooks[:20]), bare_requests(rx.http, bodies[:20], 4)
    runs: dict[str, list] = {name: [] for name in contenders} | {"built": [built_us]}
    for k in range(1, args.rounds + 1):
        for group, outgoing in (("email", mail), ("webhook", hooks)):
            names = [name for name in contenders if name.startswith(group)]
            for name in names[k % len(names) :] + names[: k % len(names)]:  # each first in turn
                runs[name].append(contenders[name]())
                show(k, name, len(outgoing), runs[name][-1])
            enqueue_us, record_us = overhead(rx, outgoing)
            with fresh_store(rx) as (config, _):
                prepare_us = preparing(config, outgoing)
            runs.setdefault(group, []).append((enqueue_us, record_us, prepare_us))
            print(
                f"  round {k} {group + ' (no network)':>33}: enqueue {enqueue_us:.0f} µs, claim +"
                f" record (no-op channel) {record_us:.0f} µs, {PREPARE[group]} {prepare_us:.0f}"
                " µs a message",
                flush=True,
            )
    return runs


def minified(payload: Any) -> str:  # the JSON our webhook channel sends
    return json.dumps(dict(payload), separators=(",", ":"), ensure_ascii=False)


def table(args: argparse.Namespace, runs: dict[str, list], workers: int, smtp_lanes: int) -> str:
    def rate(name: str, n: int) -> float:
        return median(n / run.seconds for run in runs[name])

    lines = ["| what | ours (median) | baseline (median) | ratio | target | pass/fail |"]
    lines.append("| --- | ---: | ---: | ---: | --- | --- |")

    def row(what: str, a: float, b: float | None, fmt: str, goal: str = "—", ok=None) -> None:
        base, ratio = ("—", "—") if b is None else (fmt.format(b), f"{a / b:.2f}")
        verdict = "—" if ok is None else ("pass" if ok else "**FAIL**")
        lines.append(f"| {what} | {fmt.format(a)} | {base} | {ratio} | {goal} | {verdict} |")

    e, w = args.emails, args.webhooks
    ours_mail, raw = rate(f"email {OURS}", e), rate(f"email {RAW}", e)
    what = f"emails/s, {e:,} enqueued at once -> dispatcher ({smtp_lanes} SMTP connections)"
    what += " -> SMTP -> recorded, vs raw smtplib"
    what += " (pre-built bytes, one connection)"
    row(what, ours_mail, raw, "{:,.0f}", f">= {TARGET} x raw smtplib", ours_mail >= TARGET * raw)
    what = "emails/s, the same with mail.smtp_connections = 1, vs raw smtplib"
    row(what, rate(f"email {OURS1}", e), raw, "{:,.0f}")
    ours_hook = rate(f"webhook {OURS}", w)
    what = f"webhooks/s, {w:,} enqueued at once -> dispatcher ({workers} threads) -> signed POST"
    for base in (BARE, BARE4):
        row(
            f"{what} -> recorded, vs {base} (unsigned)",
            ours_hook,
            rate(f"webhook {base}", w),
            "{:,.0f}",
        )
    for group, n, base in (("email", e, RAW), ("webhook", w, BARE)):
        enqueue_us, record_us, prepare_us = (median(x[i] for x in runs[group]) for i in range(3))
        threads = f", {workers} threads" if group == "webhook" else ""
        row(f"{group}: enqueue, µs a message (one call for all)", enqueue_us, None, "{:.0f}")
        what = f"{group}: claim + record with a no-op channel{threads}, µs a message"
        row(what, record_us, None, "{:.0f}")
        row(f"{group}: {PREPARE[group]}, µs a message", prepare_us, None, "{:.0f}")
        if group == "email":
            what = "email: the same built with `EmailMessage` (the baseline's, untimed), µs"
            row(what, runs["built"][0], None, "{:.0f}")
        wire = 1e6 / rate(f"{group} {base}", n)
        row(f"{group}: the exchange alone ({base} baseline), µs a message", wire, None, "{:.0f}")
        total = enqueue_us + record_us + prepare_us + wire
        what = f"{group}: ours, µs a message (enqueue + claim/record + prepare + exchange = "
        row(f"{what}{total:.0f})", 1e6 / rate(f"{group} {OURS}", n), None, "{:.0f}")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--emails", type=int, default=2000, help="emails a run")
    ap.add_argument("--webhooks", type=int, default=1000, help="webhooks a run")
    ap.add_argument("--rounds", type=int, default=5, help="rounds, each contender once a round")
    ap.add_argument("--quick", action="store_true", help="a smoke run: small N, README untouched")
    ap.add_argument("--no-readme", action="store_true", help="do not update bench/README.md")
    args = ap.parse_args()
    if args.quick:
        args.emails, args.webhooks, args.rounds = 200, 100, 2
    os.environ[SECRET_ENV] = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    model = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
    machine = f"nproc {len(os.sched_getaffinity(0))}, {model[1] if model else 'unknown CPU'}"
    rx = Receivers(start("SMTP sink", smtp_sink), start("HTTP receiver", http_receiver))
    try:
        with fresh_store(rx) as (config, store):
            lanes = dispatcher(config, store, CLOCK).lanes
            workers = lanes["webhook"]
            smtp_lanes = lanes["email"]
        print(f"{args.rounds} rounds; receivers in their own processes on 127.0.0.1:", flush=True)
        runs = rounds(args, rx)
    finally:
        for receiver in rx:
            receiver.process.terminate()
            receiver.process.join(5)
    text = table(args, runs, workers, smtp_lanes)
    note = f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {machine}; medians of"
    note += f" {args.rounds} rounds, ours and the baselines in turn, a fresh SQLite store (WAL,"
    note += " on disk) for each of our runs. Receivers in processes of their own: aiosmtpd on"
    note += " uvloop; uvicorn (uvloop, httptools) answering 204."
    git = ["git", "-C", str(BENCH), "describe", "--always", "--dirty"]
    note += f" Code: {subprocess.run(git, capture_output=True, text=True).stdout.strip()}."
    print(f"\n{text}\n\n{note}")
    if not (args.quick or args.no_readme):  # between our markers in bench/README.md
        cmd = f"bench/outbox.py --emails {args.emails} --webhooks {args.webhooks}"
        block = f"{START}\n{note}\n\n`{cmd} --rounds {args.rounds}`:\n\n{text}\n{END}"
        page = README.read_text()
        if not re.search(f"{START}.*{END}", page, flags=re.S):
            sys.exit(f"bench: no {START} markers in {README}; not written")
        README.write_text(re.sub(f"{START}.*{END}", lambda _: block, page, flags=re.S))
    return 0


if __name__ == "__main__":
    sys.exit(main())
