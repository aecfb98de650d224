"""Gzip bodies: the export's `.gz` siblings (nginx gzip_static) and the cache's compressed
copies (issue 18). A level picks the compressor:

- 0-3, ISA-L's levels (`isal`): what is written once and fetched seldom, the archive pages
  (~160 MB of the 10,000-release export). At its level 2 it is ~3.5 times faster than
  zlib's level 1 and writes fewer bytes (38.7 against 41.0 MB there): zlib's level 1 was
  ~1.1 s of a cold build's ~15 CPU-seconds.
- 4-9, zlib's levels, written by zlib-ng (`zlib-ng`): the feeds and pages every change
  renders again. Its level 6 writes within 1 % of zlib's level 9 at about a third of the
  CPU: zlib's level 9 was ~85 ms of the renderer's ~130 ms a change at 10,000 releases.

Without either package (a platform without their wheels) the standard library's zlib does
it all, at its fastest level for 0-3. Either way the bytes are a plain gzip member with
mtime 0: the same document always gives the same `.gz`, which the build's byte-for-byte
tests compare (the ETag of a gzip answer is the body's, never the compressed bytes').
"""

from __future__ import annotations

import gzip

try:
    from isal import igzip
except ImportError:
    igzip = None
try:
    from zlib_ng import gzip_ng
except ImportError:
    gzip_ng = None

__all__ = ["FAST", "SMALL", "gzipped"]

FAST = 2  # ISA-L's: archive pages
SMALL = 6  # zlib-ng's: hot feeds, sitemaps, pages


def gzipped(body: bytes, level: int) -> bytes:
    """`body` as gzip: levels 0-3 are ISA-L's (fast), 4-9 zlib's (small)."""
    if level <= 3:
        if igzip is not None:
            return igzip.compress(body, compresslevel=level, mtime=0)
        return gzip.compress(body, compresslevel=1, mtime=0)
    if gzip_ng is not None:
        return gzip_ng.compress(body, compresslevel=level, mtime=0)
    return gzip.compress(body, compresslevel=level, mtime=0)
