"""MediaCache: each variant made once per content, across instances and processes (issue 14)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from feedsvc.media import Job, MediaCache, Recipe, examine, name, plan, render
from tests.media.pictures import camera_exif, encode, photo

RECIPE = Recipe("width", 480, "jpeg")


def source() -> tuple[bytes, str]:
    image = photo((1200, 800))
    data = encode(image, "JPEG", exif=camera_exif(image))
    return data, hashlib.sha256(data).hexdigest()


def test_made_once_across_two_caches_on_one_folder(tmp_path: Path) -> None:
    data, sha = source()
    loads = []

    def load() -> bytes:
        loads.append(1)
        return data

    first = MediaCache(tmp_path).get(sha, RECIPE, load)
    again = MediaCache(tmp_path).get(sha, RECIPE, load)  # another instance, e.g. after restart
    assert first == again == render(data, RECIPE)
    assert len(loads) == 1
    assert (tmp_path / name(sha, RECIPE)).read_bytes() == first
    assert oct((tmp_path / name(sha, RECIPE)).stat().st_mode & 0o777) == "0o644"


def test_only_whole_files_and_no_leftovers(tmp_path: Path) -> None:
    data, sha = source()
    cache = MediaCache(tmp_path)
    for recipe in plan(examine(data, "p.jpg", max_bytes=1 << 30, max_pixels=10**8).image):  # type: ignore[arg-type]
        cache.get(sha, recipe, lambda: data)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        name(sha, r)
        for r in plan(examine(data, "p.jpg", max_bytes=1 << 30, max_pixels=10**8).image)  # type: ignore[arg-type]
    )


def test_a_failed_render_leaves_nothing(tmp_path: Path) -> None:
    data, sha = source()
    bad = data[: len(data) // 3]
    with pytest.raises(ValueError):  # wrong bytes for the hash: refused, nothing written
        MediaCache(tmp_path).get(sha, RECIPE, lambda: bad)
    assert list(tmp_path.iterdir()) == []


def test_threads_and_processes_making_one_variant_agree(tmp_path: Path) -> None:
    data, sha = source()
    (tmp_path / "src.jpg").write_bytes(data)
    code = (
        "import sys; from pathlib import Path; from feedsvc.media import MediaCache, Recipe; "
        f"MediaCache(Path(sys.argv[1])).get('{sha}', Recipe('width', 480, 'jpeg'), "
        "lambda: Path(sys.argv[2]).read_bytes())"
    )
    folder = tmp_path / "cache"
    others = [
        subprocess.Popen([sys.executable, "-c", code, str(folder), str(tmp_path / "src.jpg")])
        for _ in range(3)
    ]
    results: list[bytes] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(MediaCache(folder).get(sha, RECIPE, lambda: data))
        )
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(p.wait() == 0 for p in others)
    assert len(set(results)) == 1 and len(results) == 4
    assert [p.name for p in folder.iterdir()] == [name(sha, RECIPE)]
    assert (folder / name(sha, RECIPE)).read_bytes() == results[0]


@pytest.mark.parametrize("processes", [True, False])
def test_process_all_fills_what_is_missing(tmp_path: Path, processes: bool) -> None:
    jobs = []
    for i in range(3):
        image = photo((900 + 10 * i, 600))
        data = encode(image, "JPEG")
        path = tmp_path / f"p{i}.jpg"
        path.write_bytes(data)
        info = examine(data, path.name, max_bytes=1 << 30, max_pixels=10**8).image
        jobs.append(Job(hashlib.sha256(data).hexdigest(), path, tuple(plan(info))))  # type: ignore[arg-type]
    cache = MediaCache(tmp_path / "cache")
    cache.get(jobs[0].source_sha256, jobs[0].recipes[0], lambda: jobs[0].source.read_bytes())
    total = sum(len(j.recipes) for j in jobs)
    assert cache.process_all(jobs, workers=2, processes=processes) == total - 1
    assert cache.process_all(jobs, workers=2, processes=processes) == 0
    for job in jobs:
        for recipe in job.recipes:
            made = (tmp_path / "cache" / name(job.source_sha256, recipe)).read_bytes()
            assert made == render(job.source.read_bytes(), recipe)
    assert not [n for n in os.listdir(tmp_path / "cache") if n.startswith(".")]
