"""Publish latency with photos (issue 14): a release with five camera photos added to a store
of N releases, from the file event to the release in `/feed.xml`, beside the same release
without its photos in the same run.

    .venv/bin/python bench/media_publish.py [--n 10000] [--rounds 3] [--quick]

Run on demand, never as a test. A corpus of N releases (../shared/tools/gen_corpus.py) is
stored once; the service's objects are made as `feedsvc serve` makes them (a `Site` with its
`ReleaseMedia`, a `DocumentCache` over the store, the media cache on disk). Each round drops
a bundle `items/<id>/index.md` naming five new 24 MP JPEGs (their own bytes each round, so
nothing is in the media cache), then times what a watcher's event starts: `ingest_files`
(reading, checking the photos, one transaction) and `DocumentCache.apply` (the widest
variants made side by side, then the hot feeds re-rendered), until `/feed.xml` holds the
release. The baseline: a text-only release, the same steps, in the same round. The settle
wait (`items.settle_seconds`) is not counted: it is the time a copy takes to finish.
Target: <= 2 s with the photos (issue 14, "Cost").
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

from PIL import ImageChops

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.media import base_photo, camera_exif
from feedsvc.build import release_media, site_of
from feedsvc.clock import SystemClock
from feedsvc.config import load_settings
from feedsvc.ingest import ingest, ingest_files
from feedsvc.publishing.cache import DocumentCache
from feedsvc.store import open_store

BENCH = Path(__file__).resolve().parent
PHOTOS, TARGET_S = 5, 2.0


def write_config(run: Path, items: Path) -> Path:
    (run / "db").mkdir(parents=True)
    cfg = run / "config.toml"
    cfg.write_text(
        f'[site]\ntimezone = "UTC"\n\n[items]\ndir = "{items}"\n'
        f'media_cache_dir = "{run}/media"\n\n'
        f'[database]\nurl = "sqlite:///{run}/db/feedsvc.db"\n',
        encoding="utf-8",
    )
    return cfg


def release_text(title: str, photos: list[str]) -> str:
    today = dt.datetime.now(dt.UTC)
    figures = "\n\n".join(
        f"![Photo {i + 1} of the signing]({name})" for i, name in enumerate(photos)
    )
    return (
        f"---\ntitle: {title}\ndate: {today:%Y-%m-%dT%H:%M:%SZ}\nsection: News\n---\n\n"
        f"The minister signed the accord today.\n\n{figures}\n"
    )


def drop(items: Path, release_id: str, round_no: int, with_photos: bool) -> str:
    """A bundle with five new photos (or none); its index file, relative to items/."""
    folder = items / release_id
    folder.mkdir()
    names = []
    if with_photos:
        base = base_photo((6000, 4000))
        for i in range(PHOTOS):
            photo = ImageChops.offset(base, 1009 * (round_no * PHOTOS + i), 677 * i)
            name = f"photo-{i}.jpg"
            photo.save(folder / name, "JPEG", quality=90, exif=camera_exif(photo))
            names.append(name)
    (folder / "index.md").write_text(release_text(f"Release {release_id}", names), "utf-8")
    return f"{release_id}/index.md"


def measure(settings, store, cache: DocumentCache, rel: str, release_id: str) -> float:
    t0 = time.perf_counter()
    result = ingest_files(settings, store, SystemClock(), [rel])
    cache.apply(result.changes)
    took = time.perf_counter() - t0
    feed = cache.get("feed.xml")
    if release_id.encode() not in getattr(feed, "body", b""):
        sys.exit(f"bench: {release_id} is not in /feed.xml after the change: {result.problems}")
    return took


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000, help="releases in the store")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="1,000 releases, 1 round")
    ap.add_argument("--tools", type=Path, default=BENCH.parents[1] / "shared" / "tools")
    ap.add_argument("--no-readme", action="store_true", help="accepted; nothing is written")
    args = ap.parse_args()
    n, rounds = (1_000, 1) if args.quick else (args.n, args.rounds)
    with tempfile.TemporaryDirectory(prefix="feedsvc-bench-media-") as tmp_name:
        tmp = Path(tmp_name)
        items = tmp / "items"
        gen = [sys.executable, str(args.tools / "gen_corpus.py"), str(n), str(items)]
        subprocess.run(gen, check=True, capture_output=True)
        settings = load_settings(write_config(tmp / "run", items))
        with open_store(settings) as store:
            t0 = time.perf_counter()
            ingest(settings, store, SystemClock())
            print(f"store: {n:,} releases in {time.perf_counter() - t0:.1f} s", flush=True)
            site = site_of(settings, store.releases, SystemClock(), release_media(settings))
            cache = DocumentCache(site, store.releases, tmp / "docs")
            photos, plain = [], []
            for r in range(1, rounds + 1):
                for with_photos, out in ((True, photos), (False, plain)):
                    rid = f"bench-{'photos' if with_photos else 'text'}-{r}"
                    rel = drop(items, rid, r, with_photos)
                    out.append(measure(settings, store, cache, rel, rid))
                print(f"  round {r}: photos {photos[-1]:.2f} s, text {plain[-1]:.3f} s", flush=True)
    ours, base = median(photos), median(plain)
    verdict = "pass" if ours <= TARGET_S else "**FAIL**"
    print(
        "\n| what | ours (median) | baseline (median) | ratio | target | pass/fail |\n"
        "| --- | ---: | ---: | ---: | --- | --- |\n"
        f"| a release with {PHOTOS} new 24 MP photos, file event to `/feed.xml`, in a store of "
        f"{n:,} (vs the same release without photos) | {ours:.2f} s | {base:.3f} s | "
        f"{ours / base:.1f} | <= {TARGET_S:.0f} s | {verdict} |\n"
    )
    print(
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on nproc {os.cpu_count()}; "
        f"medians of {rounds} round(s)."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
