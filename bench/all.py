"""Every benchmark of bench/ in turn, each figure beside its baseline: one entry point.

    .venv/bin/python bench/all.py [--quick] [--only NAME[,NAME]]

Runs each benchmark script as a subprocess with `--no-readme` (the full mode with its own
defaults; `--quick` with small sizes, a few minutes in all), shows its progress as it
goes, then prints the final table of each one after another and a summary line a
benchmark. Nothing is measured here: the figures are the scripts' own.
"""

import argparse
import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Benchmark:
    name: str
    what: str
    quick: tuple[str, ...]  # the arguments of a quick run (sizes a smoke run uses)
    minutes: int  # bound on one run in the full mode; a quick run gets a third of it


BENCHMARKS = (
    Benchmark(
        "build", "feedsvc build vs Hugo", ("--n", "1000", "--runs", "1", "--rounds", "3"), 30
    ),
    Benchmark(
        "serve",
        "feedsvc serve vs bare ASGI and nginx",
        # Three rounds of 2 s, the servers' order rotating, medians: one 3-s round each
        # swung the ratio to bare ASGI 0.54-0.96 between runs of the same code (issue 18).
        ("--n", "2000", "--runs", "3", "--duration", "2", "--n-memory", "5000", "--drops", "3"),
        45,
    ),
    Benchmark("outbox", "the outbox vs raw smtplib and requests", ("--quick",), 30),
    Benchmark("shares", "POST /api/shares vs /healthz", ("--quick",), 30),
    Benchmark("instances", "dispatch, 1-3 instances on PostgreSQL vs SQLite", ("--quick",), 30),
    Benchmark("soak", "serve under load and changes vs idle", ("--quick",), 30),
    Benchmark("media", "pictures' variants vs a plain Pillow loop", ("--quick",), 45),
    Benchmark(
        "media_publish", "a release with five photos, file to feed, vs text only", ("--quick",), 30
    ),
    Benchmark(
        "alerts",
        "email alerts: fan-out, digest, dispatch vs raw smtplib, 3 instances",
        ("--quick",),
        45,
    ),
    Benchmark(
        "search", "search: FTS5 and tsvector vs a LIKE scan, 100,000 releases", ("--quick",), 30
    ),
)
NAMES = [b.name for b in BENCHMARKS]


@dataclass
class Outcome:
    benchmark: Benchmark
    command: list[str]
    code: int | None = None  # None: stopped at its time bound
    seconds: float = 0.0
    stdout: list[str] = field(default_factory=list)
    stderr: str = ""

    @property
    def block(self) -> str:
        """What the script printed last: its table(s), any caption above, its notes."""
        lines = self.stdout
        first = next((i for i, line in enumerate(lines) if line.startswith("| what |")), None)
        if first is None:
            return ""
        # serve.py puts a caption paragraph above its table: "Store of N releases ...".
        above = lines[max(0, first - 3) : first]
        if len(above) == 3 and not above[0].strip() and above[1][:1].strip() and not above[2]:
            first -= 2
        return "\n".join(lines[first:]).strip()

    def rows(self) -> list[list[str]]:
        """The cells of the first table's rows (what, ours, baseline, ratio, target, verdict)."""
        rows, inside = [], False
        for line in self.stdout:
            if line.startswith("| what |"):
                inside = True
            elif inside and line.startswith("| ---"):
                continue
            elif inside and line.startswith("|"):
                rows.append([cell.strip() for cell in line.strip().strip("|").split(" | ")])
            elif inside:
                break
        return [row for row in rows if len(row) == 6]


def run(benchmark: Benchmark, quick: bool) -> Outcome:
    """The script as a subprocess of its own session (so its servers go when it is stopped);
    its stdout shown as it comes and kept, its stderr kept."""
    args = benchmark.quick if quick else ()
    cmd = [sys.executable, str(BENCH / f"{benchmark.name}.py"), *args, "--no-readme"]
    outcome = Outcome(benchmark, cmd)
    bound = benchmark.minutes * 60 / (3 if quick else 1)
    t0 = time.monotonic()
    with tempfile.TemporaryFile("w+", encoding="utf-8") as err:
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=err, text=True, start_new_session=True
        )

        def expire() -> None:
            print(f"  [{benchmark.name}] stopped: still running after {bound / 60:.0f} min")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)

        timer = threading.Timer(bound, expire)
        timer.start()
        try:
            for line in proc.stdout or ():
                outcome.stdout.append(line.rstrip("\n"))
                print(f"  {line}", end="", flush=True)
            proc.wait()
        finally:
            timer.cancel()
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        expired = time.monotonic() - t0 >= bound
        outcome.code = None if expired else proc.returncode
        outcome.seconds = time.monotonic() - t0
        err.seek(0)
        outcome.stderr = err.read()
    return outcome


def short(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def summary(outcomes: list[Outcome]) -> str:
    lines = [
        "| benchmark | ran | headline figure | ours | baseline | ratio | target | pass/fail"
        " (every row with a target) | minutes |",
        "| --- | --- | --- | ---: | ---: | ---: | --- | --- | ---: |",
    ]
    for o in outcomes:
        rows = o.rows()
        held = [row for row in rows if row[4] != "—"]
        if o.code is None:
            ran = "stopped at its bound"
        elif o.code == 0:
            ran = "ok"
        else:
            last = (o.stderr.strip().splitlines() or ["no message"])[-1]
            ran = f"exit {o.code}: {short(last, 70)}"
        head = (held or rows or [["—"] * 6])[0]
        passed = sum(row[5] == "pass" for row in held)
        failed = [short(row[0].split(" (")[0], 60) for row in held if row[5] != "pass"]
        verdict = f"{passed} pass" + "".join(f", **FAIL**: {what}" for what in failed)
        verdict = verdict if held else "— (no target)"
        lines.append(
            f"| {o.benchmark.name} | {ran} | {short(head[0])} | {head[1]} | {head[2]} | {head[3]}"
            f" | {head[4]} | {verdict} | {o.seconds / 60:.1f} |"
        )
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes: a few minutes in all")
    ap.add_argument("--only", default=",".join(NAMES), help=f"some of {','.join(NAMES)}")
    args = ap.parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    if unknown := [name for name in chosen if name not in NAMES]:
        ap.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(NAMES)}")
    todo = [b for b in BENCHMARKS if b.name in chosen]
    mode = "quick" if args.quick else "full"
    print(f"{len(todo)} benchmarks, {mode} mode: {', '.join(b.name for b in todo)}", flush=True)
    outcomes = []
    for benchmark in todo:
        print(f"\n== {benchmark.name}: {benchmark.what}", flush=True)
        outcomes.append(run(benchmark, args.quick))
    for o in outcomes:
        print(f"\n## {o.benchmark.name} — {o.benchmark.what}\n")
        print(f"`{' '.join(['bench/' + Path(o.command[1]).name, *o.command[2:]])}`")
        print(f"\n{o.block or '(no table: ' + o.stderr.strip()[-500:] + ')'}")
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"\n## Summary ({mode} mode, {when})\n\n{summary(outcomes)}")
    bad = [o for o in outcomes if o.code != 0 or any(r[5] == "**FAIL**" for r in o.rows())]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
