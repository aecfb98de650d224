"""Media benchmark (issue 14): camera photos turned into their variants, beside plain Pillow.

    .venv/bin/python bench/media.py [--n 100] [--rounds 3] [--quick] [--no-readme]

Run on demand, never as a test. N camera-sized JPEGs (6000x4000, 24 MP: gradients plus
noise, EXIF with GPS and a camera) are generated once into a temporary folder. Then, in the
same run, rounds alternating which goes first:

1. **ours**: `examine` (size, kind, pixels, a 1/8-scale decode for truncation) and every
   variant of `plan()` through `MediaCache.get` into a fresh cache folder, one process;
   **baseline**: a plain Pillow loop making the same variants (open, `exif_transpose`,
   resize per width with LANCZOS, `ImageOps.fit` for the card, save with the same JPEG
   settings). Throughput in photos/s; target >= 0.9x the baseline.
2. **second pass**: the same photos again through the filled cache (each file read and
   hashed, each variant read back); target <= 5% of the first pass.
3. **peak memory** (`VmHWM` of a fresh subprocess) processing one 100-megapixel JPEG,
   ours vs the baseline loop; target <= 300 MiB.
4. `MediaCache.process_all` with 2 workers, processes vs threads (no target: the choice).

Medians of the rounds. Prints a table; bench/README.md is not written (`--no-readme` is
accepted for bench/all.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

from PIL import ExifTags, Image, ImageChops, ImageOps

from feedsvc.media import MediaCache, examine, plan
from feedsvc.media.cache import Job
from feedsvc.media.variants import CARD_SIZE, Recipe

BENCH = Path(__file__).resolve().parent
MAX_BYTES, MAX_PIXELS = 50 << 20, 100_000_000
TARGET_RATIO, TARGET_RSS_MIB, TARGET_SECOND = 0.9, 300, 0.05
BIG = (12000, 8333)  # 99,996,000 pixels: just under items.max_image_pixels' default


def camera_exif(image: Image.Image) -> Image.Exif:
    exif = image.getexif()
    exif[ExifTags.Base.Make], exif[ExifTags.Base.Model] = "Canon", "EOS R5"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef], gps[ExifTags.GPS.GPSLatitude] = "N", (52.0, 31.0, 12.5)
    gps[ExifTags.GPS.GPSLongitudeRef], gps[ExifTags.GPS.GPSLongitude] = "E", (13.0, 24.0, 3.0)
    return exif


def base_photo(size: tuple[int, int]) -> Image.Image:
    """Gradients plus noise: JPEG has real work to do, unlike flat colour."""
    red = Image.linear_gradient("L").resize(size)
    green = Image.radial_gradient("L").resize(size)
    noise = Image.effect_noise(size, 48)
    return Image.merge(
        "RGB", (ImageChops.add(red, noise, 2.0), green, ImageChops.add(noise, red, 2.0, 64))
    )


def generate(folder: Path, n: int, size: tuple[int, int] = (6000, 4000)) -> list[Path]:
    base, paths = base_photo(size), []
    for i in range(n):
        photo = ImageChops.offset(base, 997 * i, 613 * i)  # each photo its own bytes
        path = folder / f"photo-{i:03}.jpg"
        photo.save(path, "JPEG", quality=90, exif=camera_exif(photo))
        paths.append(path)
    return paths


def ours(paths: list[Path], cache_dir: Path) -> float:
    cache, t0 = MediaCache(cache_dir), time.perf_counter()
    for path in paths:
        data = path.read_bytes()
        found = examine(data, path.name, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS)
        assert found.image is not None
        for recipe in plan(found.image):
            cache.get(found.sha256, recipe, lambda data=data: data)
    return time.perf_counter() - t0


def second_pass(paths: list[Path], cache_dir: Path, plans: dict[Path, list[Recipe]]) -> float:
    cache, t0 = MediaCache(cache_dir), time.perf_counter()
    for path in paths:
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        for recipe in plans[path]:
            cache.get(sha, recipe, lambda: sys.exit("bench: a cached variant was made again"))
    return time.perf_counter() - t0


def baseline(paths: list[Path], out: Path, plans: dict[Path, list[Recipe]]) -> float:
    out.mkdir(exist_ok=True)
    t0 = time.perf_counter()
    for path in paths:
        with Image.open(path) as opened:
            image = ImageOps.exif_transpose(opened)
        for recipe in plans[path]:
            if recipe.kind == "card":
                made = ImageOps.fit(image, CARD_SIZE, Image.Resampling.LANCZOS)
            else:
                height = round(image.height * recipe.width / image.width)
                made = image.resize((recipe.width, height), Image.Resampling.LANCZOS)
            made.save(
                out / f"{path.stem}-{recipe.kind}-{recipe.width}.jpg",
                "JPEG",
                quality=recipe.quality,
                optimize=True,
                progressive=True,
            )
    return time.perf_counter() - t0


def peak_rss(mode: str, path: Path, out: Path) -> float:
    """MiB at peak of a fresh interpreter processing `path` (`mode`: ours/baseline/idle)."""
    code = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(code.stdout.strip().splitlines()[-1])


def child(mode: str, path: Path, out: Path) -> None:
    if mode == "ours":
        ours([path], out)
    elif mode == "baseline":
        found = examine(path.read_bytes(), path.name, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS)
        assert found.image is not None
        recipes = plan(found.image)  # before the peak: the baseline is measured on its loop
        baseline([path], out, {path: recipes})
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the forked parent.
    status = Path("/proc/self/status").read_text()
    print(int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)[1]) / 1024)  # type: ignore[index]


def pools(paths: list[Path], tmp: Path, plans: dict[Path, list[Recipe]]) -> dict[str, float]:
    jobs = [Job(hashlib.sha256(p.read_bytes()).hexdigest(), p, tuple(plans[p])) for p in paths]
    seconds = {}
    for label, processes in (("processes", True), ("threads", False)):
        folder = tmp / f"pool-{label}"
        t0 = time.perf_counter()
        MediaCache(folder).process_all(jobs, workers=2, processes=processes)
        seconds[label] = time.perf_counter() - t0
        shutil.rmtree(folder)
    return seconds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100, help="24 MP photos")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of ours and the baseline")
    ap.add_argument("--quick", action="store_true", help="a smoke run: 4 photos, 1 round")
    ap.add_argument("--no-readme", action="store_true", help="accepted; nothing is written")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return 0
    if args.quick:
        args.n, args.rounds = 4, 1
    model = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
    machine = f"nproc {len(os.sched_getaffinity(0))}, {model[1] if model else 'unknown CPU'}"
    with tempfile.TemporaryDirectory(prefix="feedsvc-media-bench-") as tmp_name:
        tmp = Path(tmp_name)
        t0 = time.perf_counter()
        paths = generate(tmp, args.n)
        print(f"{args.n} photos of 24 MP made in {time.perf_counter() - t0:.1f} s", flush=True)
        plans = {}
        for p in paths:
            info = examine(p.read_bytes(), p.name, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS)
            plans[p] = plan(info.image)  # type: ignore[arg-type]
        first, base, second = [], [], []
        for i in range(args.rounds):
            cache_dir, out = tmp / f"cache-{i}", tmp / f"plain-{i}"
            order = ("ours", "baseline") if i % 2 == 0 else ("baseline", "ours")
            for who in order:
                if who == "ours":
                    first.append(ours(paths, cache_dir))
                    second.append(second_pass(paths, cache_dir, plans))
                else:
                    base.append(baseline(paths, out, plans))
            print(
                f"round {i + 1}: ours {first[-1]:.1f} s, plain Pillow {base[-1]:.1f} s, "
                f"second pass {second[-1]:.3f} s",
                flush=True,
            )
            shutil.rmtree(cache_dir)
            shutil.rmtree(out)
        (tmp / "big").mkdir()
        big = generate(tmp / "big", 1, BIG)[0]
        rss = {m: peak_rss(m, big, tmp / f"rss-{m}") for m in ("ours", "baseline", "idle")}
        print(f"peak RSS, 100 MP: {rss}", flush=True)
        pool = pools(paths, tmp, plans)
    rate, base_rate = args.n / median(first), args.n / median(base)
    lines = [
        "| what | ours (median) | baseline (median) | ratio | target | pass/fail |",
        "| --- | ---: | ---: | ---: | --- | --- |",
    ]

    def row(what: str, a: str, b: str, ratio: str, goal: str, ok: bool | None) -> None:
        verdict = "—" if ok is None else ("pass" if ok else "**FAIL**")
        lines.append(f"| {what} | {a} | {b} | {ratio} | {goal} | {verdict} |")

    ratio = rate / base_rate
    row(
        f"{args.n} photos of 24 MP to their variants, photos/s (vs a plain Pillow loop)",
        f"{rate:.2f}",
        f"{base_rate:.2f}",
        f"{ratio:.2f}",
        f">= {TARGET_RATIO} x",
        ratio >= TARGET_RATIO,
    )
    share = median(second) / median(first)
    row(
        "second pass over the same photos through the cache (vs the first pass), s",
        f"{median(second):.3f}",
        f"{median(first):.1f}",
        f"{share:.3f}",
        f"<= {TARGET_SECOND}",
        share <= TARGET_SECOND,
    )
    row(
        "peak RSS processing one 100 MP JPEG, MiB (vs the plain loop; idle interpreter "
        f"{rss['idle']:.0f} MiB)",
        f"{rss['ours']:.0f}",
        f"{rss['baseline']:.0f}",
        f"{rss['ours'] / rss['baseline']:.2f}",
        f"<= {TARGET_RSS_MIB} MiB",
        rss["ours"] <= TARGET_RSS_MIB,
    )
    row(
        "process_all, 2 workers: processes vs threads, s",
        f"{pool['processes']:.1f}",
        f"{pool['threads']:.1f}",
        f"{pool['processes'] / pool['threads']:.2f}",
        "—",
        None,
    )
    note = f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {machine}; Pillow "
    note += f"{Image.__version__}; medians of {args.rounds} round(s), ours and the baseline in "
    note += "alternating order, one process each; the baseline saves with our JPEG settings."
    print("\n" + "\n".join(lines) + "\n\n" + note)
    passed = ratio >= TARGET_RATIO and share <= TARGET_SECOND and rss["ours"] <= TARGET_RSS_MIB
    print(f"targets: {'PASS' if passed else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
