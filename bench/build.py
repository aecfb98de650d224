"""Build benchmark (issue 2): feedsvc beside Hugo, measured in the same run.

    .venv/bin/python bench/build.py [--n 10000] [--runs 3] [--rounds 11] [--tools DIR]

Run on demand, never as a test. Machines are shared and noisy, so every figure is a
median printed beside a baseline measured in this run; see bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import median

from feedsvc.build import site_of
from feedsvc.clock import SystemClock
from feedsvc.config import database_url, load_settings
from feedsvc.ingest import ingest, ingest_files
from feedsvc.publishing.entry_elements import KEPT, remember_entries
from feedsvc.publishing.hot import warm_up
from feedsvc.store import Store

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import languages  # noqa: E402 - bench/ is no package: its sibling, found from here

TARGET_RATIO, TARGET_MIB, TARGET_MS = 0.5, 400, 50.0
HUGO_CONFIG = "config.toml,rss-50.toml,mode-full.toml"
README_START, README_END = "<!-- figures:start -->", "<!-- figures:end -->"


@dataclass(frozen=True)
class Run:
    wall: float  # seconds
    cpu: float  # user + sys seconds, the process and its children
    max_rss: float  # MiB, the largest single process (wait4 ru_maxrss)
    tree_rss: float  # MiB, the largest sum of RSS over the process tree (sampled /proc)
    tree_pss: float  # MiB, the same with PSS: pages shared after fork() counted once

    def __str__(self) -> str:
        return (
            f"{self.wall:6.2f} s wall, {self.cpu:6.2f} s cpu, peak MiB: largest process "
            f"{self.max_rss:.0f}, tree RSS {self.tree_rss:.0f}, tree PSS {self.tree_pss:.0f}"
        )


Runs = list[Run]


# -- measuring a subprocess ------------------------------------------------------------------


def tree_memory(root: int) -> tuple[int, int]:
    """(RSS, PSS) in KiB, summed over `root` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as f:
                    ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    rss = pss = 0
    todo = [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, ()))
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                kib = dict(line.split()[:2] for line in f if line[:4] in ("Rss:", "Pss:"))
        except OSError:
            continue  # gone already
        rss, pss = rss + int(kib["Rss:"]), pss + int(kib["Pss:"])
    return rss, pss


def measure(cmd: list[str], log: Path) -> Run:
    """Run `cmd`; wall time, CPU time and peak memory. Sampling /proc every 20 ms."""
    peak, done = [0, 0], threading.Event()
    with log.open("wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)

        def sample() -> None:
            while not done.wait(0.02):
                peak[:] = map(max, peak, tree_memory(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        done.set()
        sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"{cmd[0]} failed with exit {proc.returncode}:\n{log.read_text()[-3000:]}")
    max_rss = usage.ru_maxrss / 1024  # Linux: KiB
    cpu = usage.ru_utime + usage.ru_stime
    return Run(wall, cpu, max_rss, max(peak[0] / 1024, max_rss), peak[1] / 1024)


# -- the setup -------------------------------------------------------------------------------


def write_config(run_dir: Path, items: Path) -> Path:
    (run_dir / "db").mkdir(parents=True)
    cfg = run_dir / "config.toml"
    cfg.write_text(
        f'[site]\ntimezone = "UTC"\n\n[items]\ndir = "{items}"\n\n'
        f'[database]\nurl = "sqlite:///{run_dir}/db/feedsvc.db"\n\n'
        f'[build]\nout = "{run_dir}/out"\n',
        encoding="utf-8",
    )
    return cfg


def new_releases(gen: list[str], tmp: Path, count: int) -> list[Path]:
    """`count` releases not in the corpus (another seed), dated yesterday, so they are new."""
    src = tmp / "extra"
    subprocess.run([*gen, str(count), str(src), "--seed", "2"], check=True)
    day = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    dateline = f"On {day:%B} {day.day}, {day.year},"
    out = []
    for i, path in enumerate(sorted(src.glob("*.txt")), start=1):
        text = re.sub(r"On [A-Z][a-z]+ \d{1,2}, \d{4},", dateline, path.read_text("utf-8"), count=1)
        new = tmp / f"new-{i:04d}.txt"
        new.write_text(text, encoding="utf-8", newline="\n")
        out.append(new)
    return out


# -- 1. full build ---------------------------------------------------------------------------


def full_builds(
    tmp: Path, corpus: Path, tools: Path, runs: int, bilingual: Path
) -> tuple[Runs, Runs, Runs, Path, Path]:
    """Ours, Hugo's, and ours again with every release also in a second language (issue
    15), in turn each round."""
    ours: Runs = []
    hugo: Runs = []
    two: Runs = []
    for i in range(1, runs + 1):
        cfg = write_config(tmp / f"ours-{i}", corpus)
        ours_cmd = [sys.executable, "-m", "feedsvc", "build", "--config", str(cfg)]
        ours.append(measure(ours_cmd, cfg.with_name("log")))
        bi_cfg = languages.add_languages(write_config(tmp / f"bilingual-{i}", bilingual))
        bi_cmd = [sys.executable, "-m", "feedsvc", "build", "--config", str(bi_cfg)]
        two.append(measure(bi_cmd, bi_cfg.with_name("log")))
        out = tmp / f"hugo-{i}"
        out.mkdir()
        hugo_cmd = ["hugo", "--quiet", "-s", str(tools / "hugo-site"), "--config", HUGO_CONFIG]
        hugo_cmd += ["--contentDir", f"{corpus}-md", "-d", str(out / "out")]
        hugo.append(measure(hugo_cmd, out / "log"))
        for name, r in (("ours", ours[-1]), ("2 languages", two[-1]), ("hugo", hugo[-1])):
            print(f"  run {i} {name}: {r}", flush=True)
    print("  feedsvc said:", cfg.with_name("log").read_text().strip().splitlines()[-1])
    return ours, hugo, two, cfg, bi_cfg


# -- 2. incremental --------------------------------------------------------------------------


@dataclass(frozen=True)
class Incremental:
    add: list[float]  # seconds: ingest_files (as a watcher reports it) + changed_feeds
    add_scan: list[float]  # seconds: full-folder ingest + changed_feeds
    scan: list[float]  # seconds: ingest with nothing changed
    full: list[float]  # seconds: every feed re-rendered from scratch (the baseline)
    docs: int  # documents re-rendered by changed_feeds (median)
    full_docs: int


def incremental(cfg: Path, items: Path, news: list[Path]) -> Incremental:
    settings = load_settings(cfg)
    store = Store.open(database_url(settings))
    clock = SystemClock()
    sites = site_of(settings, store.releases, clock)
    site = sites.default  # the site's own language: every feed of a one-language corpus
    # What the service's processes hold for good is frozen out of the collector's full
    # walks once they have started (schedule.py, hot_worker.py): measured the same way,
    # a full walk of this process's start is not a change's cost (issue 18).
    gc.collect()
    gc.freeze()
    remember_entries(KEPT)  # as the renderer process, where a change's feeds are rendered
    # And as it does once it has opened: the main feeds and home page rendered ahead, so
    # the first round is not the only one to load templates and make every entry (the
    # renderer's first change: ~138 -> ~71 ms at 10,000 releases here).
    warm_up(sites, settings.feeds.ttl_minutes * 60)
    add, add_scan, scan, full, docs, full_docs = [], [], [], [], [], 0
    try:
        for i, (new, other) in enumerate(zip(news[::2], news[1::2], strict=True), start=1):
            shutil.copy(new, items / new.name)
            t0 = time.perf_counter()
            result = ingest_files(settings, store, clock, [new.name])
            changed = sites.changed_feeds(result.changes)
            t1 = time.perf_counter()
            assert result.changes.added, f"{new.name} was not added"
            add.append(t1 - t0)
            docs.append(len(changed))
            shutil.copy(other, items / other.name)
            t0 = time.perf_counter()
            result = ingest(settings, store, clock)
            sites.changed_feeds(result.changes)
            t1 = time.perf_counter()
            assert result.changes.added, f"{other.name} was not added"
            add_scan.append(t1 - t0)
            t0 = time.perf_counter()
            result = ingest(settings, store, clock)
            t1 = time.perf_counter()
            assert not result.changes, "a scan with nothing changed changed something"
            scan.append(t1 - t0)
            t0 = time.perf_counter()
            every = list(site.main_feeds())
            for slug, name in store.releases.sections():
                every.extend(site.section_feeds(slug, name))
            every.extend(site.archive_documents(range(1, site.archive_pages() + 1)))
            full.append(time.perf_counter() - t0)
            full_docs = len(every)
            ms = [f"{xs[-1] * 1e3:6.1f} ms" for xs in (add, add_scan, scan, full)]
            print(f"  round {i:2d}: add {ms[0]} ({docs[-1]} docs), add+scan {ms[1]}, ", end="")
            print(f"scan {ms[2]}, all feeds {ms[3]} ({full_docs} docs)", flush=True)
    finally:
        store.close()
    return Incremental(add, add_scan, scan, full, int(median(docs)), full_docs)


# -- 4. a second build --------------------------------------------------------------------------


def second_builds(cfg: Path, corpus: Path, tools: Path, rounds: int) -> tuple[Runs, Runs]:
    """Issue 18 item 2: `feedsvc build` into the export of an earlier one after one release
    changed (the whole command, process start included), beside Hugo's full build of the
    same corpus, in turn each round. A first build brings the export up to date with the
    store the rounds before left (not measured)."""
    cmd = [sys.executable, "-m", "feedsvc", "build", "--config", str(cfg)]
    measure(cmd, cfg.with_name("log-second"))
    ours: Runs = []
    hugo: Runs = []
    files = sorted(corpus.glob("release-*.txt"))
    for i in range(1, rounds + 1):
        changed = files[(i * 997) % len(files)]
        text = changed.read_text("utf-8")
        end = "<Suggest To A Friend>"
        changed.write_text(text.replace(end, f"Corrected in round {i}.\n\n{end}"), "utf-8")
        ours.append(measure(cmd, cfg.with_name("log-second")))
        said = cfg.with_name("log-second").read_text().strip().splitlines()[-1]
        out = cfg.parent / f"hugo-second-{i}"
        out.mkdir()
        hugo_cmd = ["hugo", "--quiet", "-s", str(tools / "hugo-site"), "--config", HUGO_CONFIG]
        hugo_cmd += ["--contentDir", f"{corpus}-md", "-d", str(out / "out")]
        hugo.append(measure(hugo_cmd, out / "log"))
        shutil.rmtree(out)
        print(
            f"  round {i}: ours {ours[-1]}\n           hugo {hugo[-1]}\n  said: {said}", flush=True
        )
    return ours, hugo


def second_row(ours: Runs, hugo: Runs) -> tuple:
    a, b = median(r.wall for r in ours), median(r.wall for r in hugo)
    what = "second build, 1 release changed, whole command (vs Hugo's full build)"
    return (what, a, b, "s", "<= 0.25 x Hugo", a <= 0.25 * b)


# -- 3. report -------------------------------------------------------------------------------


def table(n: int, ours: Runs, hugo: Runs, inc: Incremental, extra: list[tuple]) -> str:
    def both(key: str) -> tuple[float, float]:
        return median([getattr(r, key) for r in ours]), median([getattr(r, key) for r in hugo])

    wall, cpu, big, rss, pss = (both(k) for k in ("wall", "cpu", "max_rss", "tree_rss", "tree_pss"))
    add, add_scan, scan, full = (
        median(xs) * 1e3 for xs in (inc.add, inc.add_scan, inc.scan, inc.full)
    )
    fine = wall[0] <= TARGET_RATIO * wall[1], big[0] <= TARGET_MIB, pss[0] <= TARGET_MIB
    p90 = sorted(inc.add)[math.ceil(0.9 * len(inc.add)) - 1] * 1e3  # nearest rank
    inc_what = f"add 1 release (file event) + its feeds ({inc.docs} docs; p90 {p90:.1f} ms)"
    inc_what += f" vs all feeds re-rendered ({inc.full_docs} docs)"
    rows: list[tuple[str, float, float | None, str, str, bool | None]] = [
        (f"full build of {n:,} releases, wall (vs Hugo)", *wall, "s", "<= 0.5 x Hugo", fine[0]),
        ("full build, CPU user+sys (vs Hugo)", *cpu, "s", "—", None),
        ("full build, peak RSS, largest process (vs Hugo)", *big, "MiB", "<= 400 MiB", fine[1]),
        ("full build, peak PSS, process tree sum (vs Hugo)", *pss, "MiB", "<= 400 MiB", fine[2]),
        ("full build, peak RSS summed over the tree (upper bound)", *rss, "MiB", "—", None),
        (inc_what, add, full, "ms", "<= 50 ms", add <= TARGET_MS),
        ("add 1 release found by a full folder scan + its feeds", add_scan, full, "ms", "—", None),
        ("full folder scan with nothing changed", scan, None, "ms", "—", None),
        *extra,
    ]
    lines = ["| what | ours (median) | baseline (median) | ratio | target | pass/fail |"]
    lines.append("| --- | ---: | ---: | ---: | --- | --- |")
    for what, a, b, unit, target, ok in rows:
        digits = {"s": 2, "MiB": 0, "ms": 1}[unit]
        base, ratio = ("—", "—") if b is None else (f"{b:.{digits}f} {unit}", f"{a / b:.2f}")
        verdict = "—" if ok is None else ("pass" if ok else "**FAIL**")
        ours_cell = f"{a:.{digits}f} {unit}"
        lines.append(f"| {what} | {ours_cell} | {base} | {ratio} | {target} | {verdict} |")
    return "\n".join(lines)


def machine() -> str:
    model = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
    return f"nproc {len(os.sched_getaffinity(0))}, {model[1] if model else 'unknown CPU'}"


def file_system(folder: Path) -> str:
    """The file system `folder` is on, and on ext4 whether it keeps a journal: without one,
    ext4 will not hand out an inode freed in the last 60 s (300 s more while its table block
    is unwritten), and checks every candidate by reading its inode; a build that creates
    20,000 files soon after as many were deleted (the previous run's tree) spent up to 20 s
    of system time there on 2026-12-07 instead of 3 s. Such a run says more about the
    allocator than about ours or Hugo's code: TMPDIR on a tmpfs, or runs minutes apart."""
    where, kind, device = "/", "unknown", ""
    for line in Path("/proc/mounts").read_text().splitlines():
        dev, mount, fstype = line.split()[:3]
        if str(folder).startswith(mount.rstrip("/") + "/") and len(mount) >= len(where):
            where, kind, device = mount, fstype, dev
    if kind != "ext4":
        return f"{kind} ({where})"
    task = Path("/sys/fs/ext4") / Path(device).name / "journal_task"
    try:
        journal = task.read_text().strip() != "<none>"
    except OSError:
        return f"ext4 ({where})"
    note = "" if journal else ", NO JOURNAL: runs soon after large deletions are slowed"
    return f"ext4 ({where}{note})"


def write_readme(text: str) -> None:
    """Put `text` between the figures markers of bench/README.md."""
    readme = BENCH / "README.md"
    block = f"{README_START}\n{text}\n{README_END}"
    page = re.sub(f"{README_START}.*{README_END}", lambda _: block, readme.read_text(), flags=re.S)
    readme.write_text(page, encoding="utf-8")


def byte_compiled() -> None:
    """feedsvc's modules byte-compiled, as an installed package has them (pip compiles at
    install; a process that may write __pycache__ does so on its first run). Where
    PYTHONDONTWRITEBYTECODE is set (this machine sets it) and nothing compiled them, every
    `feedsvc build` measured would compile its ~200 modules again: ~0.12 s of its start."""
    import compileall

    import feedsvc

    compileall.compile_dir(Path(feedsvc.__file__).parent, quiet=1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000, help="releases in the corpus")
    ap.add_argument("--runs", type=int, default=3, help="full builds of each, alternating")
    ap.add_argument("--rounds", type=int, default=11, help="incremental rounds, one file each")
    ap.add_argument("--tools", type=Path, default=BENCH.parents[1] / "shared" / "tools")
    ap.add_argument("--no-readme", action="store_true", help="do not update bench/README.md")
    args = ap.parse_args()
    if shutil.which("hugo") is None:
        print("bench: Hugo is the baseline; install it: sudo apt-get install hugo", file=sys.stderr)
        return 2
    if not (args.tools / "gen_corpus.py").is_file():
        print(f"bench: {args.tools}/gen_corpus.py not found; give --tools DIR", file=sys.stderr)
        return 2
    byte_compiled()
    hugo_version = subprocess.run(["hugo", "version"], capture_output=True, text=True).stdout
    print(f"machine: {machine()}\nhugo: {hugo_version.split()[1]}", flush=True)

    with tempfile.TemporaryDirectory(prefix="feedsvc-bench-") as tmp_name:
        tmp = Path(tmp_name)
        print(f"temporary folder: {tmp} on {file_system(tmp)}", flush=True)
        corpus = tmp / "corpus"
        t0 = time.perf_counter()
        gen = [sys.executable, str(args.tools / "gen_corpus.py")]
        subprocess.run([*gen, str(args.n), str(corpus)], check=True)
        news = new_releases(gen, tmp, 3 * args.rounds)
        bilingual = languages.bilingual_corpus(corpus, tmp)
        print(f"corpus: {args.n:,} releases in {time.perf_counter() - t0:.1f} s", flush=True)

        print(f"1. full build, {args.runs} runs, ours, in 2 languages, Hugo each round:")
        ours, hugo, two, cfg, bi_cfg = full_builds(tmp, corpus, args.tools, args.runs, bilingual)
        print(f"2. incremental, {args.rounds} rounds, on the store of the last full build:")
        inc = incremental(cfg, corpus, news[: 2 * args.rounds])
        print(f"3. a translation added, {args.rounds} rounds, on the 2-language store:")
        added = languages.translation_rounds(bi_cfg, bilingual, news[2 * args.rounds :])
        extra = languages.rows([r.wall for r in ours], [r.wall for r in two], args.n, added)
        print(f"4. a second build after one release changed, {args.runs} rounds, Hugo each:")
        extra.append(second_row(*second_builds(cfg, corpus, args.tools, args.runs)))

    text = table(args.n, ours, hugo, inc, extra)
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    note = (
        f"Measured {when} on {machine()}; Hugo {hugo_version.split()[1]}. Full builds: "
        f"medians of {args.runs} runs; incremental: medians of {args.rounds} rounds; "
        "each beside its baseline in the same run."
    )
    print(f"\n{text}\n\n{note}")
    if not args.no_readme:
        write_readme(f"{note}\n\n`bench/build.py --n {args.n} --runs {args.runs}`:\n\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
