"""The `.gz` bodies (issue 18): archive pages by ISA-L, hot documents by zlib-ng; either a
plain gzip member whose bytes depend on the body alone."""

from __future__ import annotations

import gzip

from feedsvc.publishing import packing
from feedsvc.publishing.packing import FAST, SMALL, gzipped
from feedsvc.publishing.site import GZIP_COLD, GZIP_HOT

BODY = "".join(
    f"<item><title>Release {n}</title><link>https://example.org/releases/r{n}/</link>"
    f"<description>Statement number {n} on trade, climate and the weather.</description></item>"
    for n in range(2_000)
).encode()


def test_both_kinds_are_gzip_that_give_the_body_back() -> None:
    for level in (FAST, SMALL):
        packed = gzipped(BODY, level)
        assert packed[:2] == b"\x1f\x8b"
        assert gzip.decompress(packed) == BODY
        assert packed[4:8] == b"\0\0\0\0"  # mtime 0: nothing of the moment in the bytes
        assert gzipped(BODY, level) == packed


def test_archives_go_fast_and_the_hot_documents_small() -> None:
    assert (GZIP_COLD, GZIP_HOT) == (FAST, SMALL)
    # Both are dependencies, so installed here; each writes its own bytes, not zlib's.
    assert packing.igzip is not None and packing.gzip_ng is not None
    assert gzipped(BODY, FAST) != gzip.compress(BODY, compresslevel=1, mtime=0)
    assert gzipped(BODY, SMALL) != gzip.compress(BODY, compresslevel=SMALL, mtime=0)
    zlib_best = len(gzip.compress(BODY, compresslevel=9, mtime=0))
    assert len(gzipped(BODY, SMALL)) < zlib_best * 1.02  # the hot ones: small still
    assert len(gzipped(BODY, FAST)) < len(BODY) // 4


def test_without_the_packages_zlib_does_both(monkeypatch) -> None:
    monkeypatch.setattr(packing, "igzip", None)
    monkeypatch.setattr(packing, "gzip_ng", None)
    assert gzipped(BODY, FAST) == gzip.compress(BODY, compresslevel=1, mtime=0)
    assert gzipped(BODY, SMALL) == gzip.compress(BODY, compresslevel=SMALL, mtime=0)
