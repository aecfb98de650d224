"""MediaCache.original: an attachment's bytes copied into the cache once, checked, in chunks
(issue 14)."""

from __future__ import annotations

import hashlib
import io
import os
import tracemalloc
from pathlib import Path
from typing import BinaryIO

import pytest

from feedsvc.media import MediaCache


def test_copied_once_and_kept_as_it_was(tmp_path: Path) -> None:
    data = b"%PDF-1.4\n" + os.urandom(3000)
    sha = hashlib.sha256(data).hexdigest()
    opened: list[int] = []

    def open_source() -> BinaryIO:
        opened.append(1)
        return io.BytesIO(data)

    cache = MediaCache(tmp_path / "media")
    path = cache.original(sha, open_source)
    assert path.read_bytes() == data and path.stat().st_mode & 0o777 == 0o644
    again = MediaCache(tmp_path / "media").original(sha, open_source)  # another instance
    assert again == path and opened == [1]
    assert [p.name for p in (tmp_path / "media").iterdir()] == [path.name]


def test_a_source_that_is_not_the_one_read_leaves_nothing(tmp_path: Path) -> None:
    cache = MediaCache(tmp_path / "media")
    sha = hashlib.sha256(b"what was read").hexdigest()
    with pytest.raises(ValueError, match=f"is not {sha}"):
        cache.original(sha, lambda: io.BytesIO(b"what is there now"))
    assert list((tmp_path / "media").iterdir()) == []
    with pytest.raises(ValueError, match="not a lowercase SHA-256"):
        cache.original("../../etc/passwd", lambda: io.BytesIO(b""))


def test_a_large_file_is_copied_in_chunks(tmp_path: Path) -> None:
    source = tmp_path / "film.mp4"
    with source.open("wb") as file:
        for _ in range(32):
            file.write(os.urandom(1 << 20))
    sha = hashlib.sha256(source.read_bytes()).hexdigest()
    tracemalloc.start()
    try:
        path = MediaCache(tmp_path / "media").original(sha, lambda: source.open("rb"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert path.stat().st_size == 32 << 20
    assert peak < 4 << 20, peak  # a chunk or two, not the 32 MiB file
