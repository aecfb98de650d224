"""Gzip bodies: the export's `.gz` siblings (nginx gzip_static) and the cache's compressed
copies. Two kinds of document, two compressors (issue 18):

- the hot ones (the feeds, sitemaps: small, fetched again and again) at zlib's level 9, the
  fewest bytes for every reader;
- the cold ones (archive pages: ~160 MB of the 10,000-release export, written once, fetched
  seldom) by ISA-L (`isal`), which at its level 2 is ~4 times faster than zlib's level 1
  and writes fewer bytes (38.7 against 41.0 MB there): zlib's level 1 was ~1.1 s of a
  cold build's ~15 CPU-seconds.

Either way the bytes are a plain gzip member with mtime 0: the same document always gives
the same `.gz` (what the build's reuse and its byte-for-byte tests rely on).
"""

from __future__ import annotations

import gzip

try:
    from isal import igzip
except ImportError:  # a platform without ISA-L's wheels: zlib's fastest level instead
    igzip = None

__all__ = ["FAST", "SMALL", "gzipped"]

FAST = 2  # ISA-L's level (0-3); zlib's level 1 stands in without it
SMALL = 9  # zlib's level


def gzipped(body: bytes, level: int) -> bytes:
    """`body` as gzip: levels 0-3 are ISA-L's (fast), 4-9 zlib's."""
    if level <= 3:
        if igzip is not None:
            return igzip.compress(body, compresslevel=level, mtime=0)
        return gzip.compress(body, compresslevel=1, mtime=0)
    return gzip.compress(body, compresslevel=level, mtime=0)
