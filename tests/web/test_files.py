"""A release's files served by a real `feedsvc serve` (issue 14): pictures re-encoded without
their camera's metadata, attachments byte for byte, ranges, validators, downloads, and the
same visibility as the release's page. The releases are bundles under items/, read by the
service itself."""

from __future__ import annotations

import http.client
import io
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from PIL import Image

from feedsvc import layout
from feedsvc.media import MediaCache
from feedsvc.publishing.cache import DocumentCache, Missing
from feedsvc.publishing.file_lookup import FileLookup
from feedsvc.publishing.media import ReleaseMedia
from feedsvc.web.files import byte_range, content_disposition
from tests.conftest import Newsroom
from tests.web.conftest import Server, wait_for
from tests.web.media_items import DOCX, JPEG, LEAKS, NARROW, PDF, WIDEST, WIDTHS, XMP_GPS, bundle


def url(rid: str, file_name: str) -> str:
    return "/" + layout.release_file(rid, file_name)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("files")
    srv = Server(root)
    bundle(
        srv.items / "visit", "visit", {"photo.jpg": JPEG, "statement.pdf": PDF, "annex.docx": DOCX}
    )
    bundle(srv.items / "gone", "gone", {"note.pdf": PDF})
    later = "publish_at = 2099-01-01T00:00:00Z"
    bundle(srv.items / "later", "later", {"plan.pdf": PDF}, extra=later)
    srv.start(lambda s: wait_for(lambda: s.get("/releases/gone/").status_code == 200, 15))
    yield srv
    srv.stop()


def test_a_picture_variant_has_no_camera_metadata_and_its_size(server: Server) -> None:
    for variant, recipe in ((WIDEST, WIDTHS[-1]), (NARROW, WIDTHS[0])):
        r = server.get(url("visit", variant))
        assert r.status_code == 200, variant
        assert r.headers["Content-Type"] == "image/jpeg"
        image = Image.open(io.BytesIO(r.content))
        assert image.size == (recipe.width, round(1200 * recipe.width / 1600))
        assert not image.getexif() and "xmp" not in image.info and "exif" not in image.info
        assert not [leak for leak in LEAKS if leak in r.content]
        assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_the_pictures_own_name_serves_the_re_encoded_widest(server: Server) -> None:
    own = server.get(url("visit", "photo.jpg"))
    assert own.status_code == 200
    assert own.content != JPEG and XMP_GPS not in own.content and b"Exif" not in own.content
    assert own.content == server.get(url("visit", WIDEST)).content
    assert "immutable" not in own.headers["Cache-Control"]  # a stable name, not an address
    assert own.headers["Cache-Control"] == "public, max-age=900"
    assert "Content-Disposition" not in own.headers


def test_a_pdf_is_its_exact_bytes_inline_and_sandboxed(server: Server) -> None:
    r = server.get(url("visit", "statement.pdf"))
    assert r.status_code == 200 and r.content == PDF
    assert r.headers["Content-Type"] == "application/pdf"
    assert r.headers["Content-Length"] == str(len(PDF))
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Content-Security-Policy"] == "sandbox"
    assert r.headers["Accept-Ranges"] == "bytes"
    assert "Content-Disposition" not in r.headers
    assert "immutable" not in r.headers["Cache-Control"]
    assert r.headers["Last-Modified"] == "Fri, 20 Nov 2026 02:00:00 GMT"  # the release's
    assert re.fullmatch(r'"[0-9a-f]{32}"', r.headers["ETag"])


def test_an_office_document_is_a_download(server: Server) -> None:
    r = server.get(url("visit", "annex.docx"))
    assert r.status_code == 200 and r.content == DOCX
    assert r.headers["Content-Disposition"] == 'attachment; filename="annex.docx"'
    assert r.headers["Content-Type"].endswith("wordprocessingml.document")


def test_ranges(server: Server) -> None:
    path = url("visit", "statement.pdf")
    etag = server.get(path).headers["ETag"]
    r = server.get(path, Range="bytes=10-19")
    assert r.status_code == 206 and r.content == PDF[10:20]
    assert r.headers["Content-Range"] == f"bytes 10-19/{len(PDF)}"
    assert r.headers["Content-Length"] == "10"
    r = server.get(path, Range="bytes=-5")
    assert (r.status_code, r.content) == (206, PDF[-5:])
    r = server.get(path, Range="bytes=100-")
    assert (r.status_code, r.content) == (206, PDF[100:])
    r = server.get(path, Range=f"bytes={len(PDF)}-")
    assert r.status_code == 416 and r.headers["Content-Range"] == f"bytes */{len(PDF)}"
    # Several ranges: the whole file (RFC 9110 14.2 lets a server ignore Range).
    r = server.get(path, Range="bytes=0-1,5-6")
    assert (r.status_code, r.content) == (200, PDF)
    # If-Range: the part only while the client's version is the current one.
    r = server.get(path, Range="bytes=0-3", If_Range=etag)
    assert (r.status_code, r.content) == (206, PDF[:4])
    r = server.get(path, Range="bytes=0-3", If_Range='"another-version"')
    assert (r.status_code, r.content) == (200, PDF)


def test_head_has_the_headers_of_get_and_no_body(server: Server) -> None:
    path = url("visit", "statement.pdf")
    get, head = server.get(path), server.head(path)
    assert head.status_code == 200 and head.content == b""
    for header in ("Content-Length", "Content-Type", "ETag", "Last-Modified", "Cache-Control"):
        assert head.headers[header] == get.headers[header]


def test_conditional_get(server: Server) -> None:
    for file_name in ("statement.pdf", NARROW):
        first = server.get(url("visit", file_name))
        again = server.get(url("visit", file_name), If_None_Match=first.headers["ETag"])
        assert again.status_code == 304 and again.content == b""
        assert again.headers["ETag"] == first.headers["ETag"]
        since = server.get(
            url("visit", file_name), If_Modified_Since=first.headers["Last-Modified"]
        )
        assert since.status_code == 304
        stale = server.get(url("visit", file_name), If_None_Match='"old"')
        assert stale.status_code == 200


def test_visibility_follows_the_page(server: Server) -> None:
    assert server.get(url("later", "plan.pdf")).status_code == 404  # under embargo
    assert server.get(url("visit", "other.pdf")).status_code == 404  # not the release's
    assert server.get(url("nobody", "statement.pdf")).status_code == 404
    assert server.get(url("gone", "note.pdf")).status_code == 200
    shutil.rmtree(server.items / "gone")
    wait_for(lambda: server.get("/releases/gone/").status_code == 410, 10)
    assert server.get(url("gone", "note.pdf")).status_code == 410


@pytest.mark.parametrize(
    "raw",
    [
        "/releases/visit/..%2f..%2fconfig.toml",
        "/releases/visit/..%2Findex.md",
        "/releases/visit/statement.pdf%00",
        "/releases/visit/statement.pdf%00.jpg",
        "/releases/visit/annex.docx%0d%0aSet-Cookie:%20a=1",
        "/releases/visit/%2e%2e%2fphoto.jpg",
        "/releases/visit/.index.md",
        "/releases/visit/index.md",
        "/releases/..%2fvisit/statement.pdf",
    ],
)
def test_abusive_names_are_404(server: Server, raw: str) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("GET", raw, headers={"Accept-Encoding": "identity"})
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    assert response.status == 404, raw
    assert response.getheader("Set-Cookie") is None
    assert b"[site]" not in body and b"+++" not in body


def test_abusive_names_never_name_a_file() -> None:
    """What uvicorn hands the app for those requests (percent-decoded): the URL layout has
    no file for any of them, so nothing under items/ or the cache is looked at."""
    for decoded in (
        "releases/visit/../../config.toml",
        "releases/visit/statement.pdf\x00",
        "releases/visit/annex.docx\r\nSet-Cookie: a=1",
        "releases/visit/index.md",  # a name, but no release names it: 404 by lookup
    ):
        target = layout.parse(decoded)
        assert target is None or target == layout.ReleaseFile("visit", "index.md")


def test_content_disposition_cannot_inject() -> None:
    assert content_disposition("annex.docx") == b'attachment; filename="annex.docx"'
    evil = content_disposition('a"b\r\nSet-Cookie: x=1;.docx')
    assert b"\r" not in evil and b"\n" not in evil and evil.count(b'"') == 2
    assert evil.endswith(b"filename*=UTF-8''a%22b%0D%0ASet-Cookie%3A%20x%3D1%3B.docx")
    assert content_disposition("Zusammenfassung-für-Presse.pdf").endswith(
        b"filename*=UTF-8''Zusammenfassung-f%C3%BCr-Presse.pdf"
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-9", (0, 9)),
        ("bytes=5-", (5, 99)),
        ("bytes=-10", (90, 99)),
        ("bytes=-500", (0, 99)),
        ("bytes=90-500", (90, 99)),
        ("BYTES = 1-2", (1, 2)),
        ("bytes=100-", "416"),
        ("bytes=-0", "416"),
        ("bytes=9-1", None),  # invalid: ignored
        ("bytes=0-1,3-4", None),  # several: the whole file
        ("items=0-1", None),
        ("bytes=-", None),
        ("bytes=a-b", None),
    ],
)
def test_byte_range(header: str, expected: object) -> None:
    got = byte_range(header, 100)
    assert (got if got is None or isinstance(got, tuple) else "416") == expected


def test_a_changed_source_is_404_until_read_again(
    newsroom: Newsroom, caplog: pytest.LogCaptureFixture
) -> None:
    """The PDF replaced under items/ before anyone asked for it: its copy cannot be made from
    the new bytes, so it is not served (logged once) until the release is read again."""
    bundle(newsroom.items / "swap", "swap", {"memo.pdf": PDF})
    newsroom.ingest()
    cache = DocumentCache(newsroom.site, newsroom.store.releases, newsroom.root / "cache")
    cache.load()
    media = ReleaseMedia(newsroom.items, MediaCache(newsroom.root / "media"))
    lookup, target = FileLookup(cache, media), layout.ReleaseFile("swap", "memo.pdf")
    changed = PDF.replace(b"1.4", b"1.5")
    (newsroom.items / "swap" / "memo.pdf").write_bytes(changed)
    assert lookup.get(target) is Missing.NOT_FOUND
    assert lookup.get(target) is Missing.NOT_FOUND
    said = [r.getMessage() for r in caplog.records if "memo.pdf" in r.getMessage()]
    assert said == [
        "swap/memo.pdf changed since it was read: not served until the next scan reads it again"
    ]
    cache.apply(newsroom.ingest().changes)
    served = lookup.get(target)
    assert not isinstance(served, Missing) and served.path.read_bytes() == changed
    cache.close()


def test_streaming_a_large_file_holds_little_memory(tmp_path: Path) -> None:
    """A 50 MiB video served three times at once: the server's resident memory, sampled
    while it sends, grows by far less than the file (it is read in 256 KiB chunks)."""
    size = 50 << 20
    srv = Server(tmp_path / "big", {"items": {"max_media_bytes": size + 1}})
    mp4 = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom" + b"\0" * (size - 24)
    bundle(srv.items / "film", "film", {"film.mp4": mp4})
    srv.start(lambda s: wait_for(lambda: s.get("/releases/film/").status_code == 200, 30))
    try:
        assert srv.head(url("film", "film.mp4")).headers["Content-Length"] == str(size)
        warm = srv.get(url("film", "film.mp4"), Range="bytes=0-0")  # the copy into the cache
        assert warm.status_code == 206
        time.sleep(0.5)
        before = rss(srv)
        peak = before
        with http_streams(srv, url("film", "film.mp4"), 3) as readers:
            while any(r.alive() for r in readers):
                peak = max(peak, rss(srv))
                time.sleep(0.01)
        assert all(r.received == size for r in readers)
        grown = peak - before
        print(f"RSS {before >> 20} MiB before, peak {peak >> 20} MiB: +{grown >> 20} MiB")
        assert grown < 20 << 20, grown
        # A reader that hangs up after 1 MiB: the rest of the file is not read for nobody.
        before = read_bytes(srv)
        with socket.create_connection(("127.0.0.1", srv.port)) as connection:
            connection.sendall(
                f"GET {url('film', 'film.mp4')} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
            )
            received = 0
            while received < 1 << 20:
                received += len(connection.recv(1 << 16))
        time.sleep(1)
        read = read_bytes(srv) - before
        print(f"read {read >> 20} MiB of the file for a reader gone after 1 MiB")
        assert read < 20 << 20, read
    finally:
        srv.stop()


def read_bytes(server: Server) -> int:
    """Bytes the server process has read through system calls (rchar)."""
    assert server.proc is not None
    io_stats = Path(f"/proc/{server.proc.pid}/io").read_text()
    return int(re.search(r"rchar: (\d+)", io_stats)[1])  # type: ignore[index]


class StreamReader(threading.Thread):
    """A client reading a response a chunk at a time, a little slower than loopback allows."""

    def __init__(self, address: str) -> None:
        super().__init__(daemon=True)
        self.address = address
        self.received = 0

    def run(self) -> None:
        with requests.get(self.address, stream=True, timeout=30) as response:
            for chunk in response.iter_content(1 << 20):
                self.received += len(chunk)
                time.sleep(0.005)

    def alive(self) -> bool:
        return self.is_alive()


@contextmanager
def http_streams(server: Server, path: str, n: int) -> Iterator[list[StreamReader]]:
    readers = [StreamReader(server.base + path) for _ in range(n)]
    for reader in readers:
        reader.start()
    try:
        yield readers
    finally:
        for reader in readers:
            reader.join(60)


def rss(server: Server) -> int:
    assert server.proc is not None
    status = Path(f"/proc/{server.proc.pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status)[1]) << 10  # type: ignore[index]
