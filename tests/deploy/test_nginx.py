"""deploy/nginx.conf, the shipped file, in front of a real `feedsvc serve`: real nginx with
TLS (a trustme certificate), a real SMTP server (aiosmtpd) for the shares, and the static
export of `feedsvc build`. The reader connects from 127.0.3.7, nginx reaches serve from
127.0.0.1 (its trusted proxy), so the address serve logs and limits tells them apart.

serve runs under the kernel's MDWE (tests/deploy/mdwe.py), as MemoryDenyWriteExecute=yes
in deploy/feedsvc.service runs it, where the kernel has it. Runs on both databases: it
goes through serve's share limits, which are counted in the database. The tests share one
stack and run in order: serve is stopped for the last ones (the export), and a second
nginx then stands in front of an upstream that answers as serve does with its database
out of reach."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
import trustme
from requests.adapters import HTTPAdapter

from tests.channels.smtp_server import Recorder, smtp_server
from tests.conftest import SEED, SEED_ID
from tests.deploy.conftest import DEPLOY, Nginx, nginx_binary, render
from tests.deploy.mdwe import UNSUPPORTED
from tests.web.conftest import CLEAN_EXIT, Server, build, free_port, wait_for
from tests.web.media_items import DOCX, JPEG, PDF, WIDEST, bundle

READER = "127.0.3.7"  # the reader's address; anonymised in serve's log as 127.0.3.0
SPOOFED = "203.0.113.9"
FEEDS = ("/feed.xml", "/atom.xml", "/feed.json")
PER_IP = 3  # share.per_ip_per_hour here
MIN_FILL = 0.3
MDWE = Path(__file__).with_name("mdwe.py")
FILE_HEADERS = (
    "Content-Type",
    "Content-Length",
    "ETag",
    "Last-Modified",
    "Cache-Control",
    "Accept-Ranges",
    "Content-Disposition",
    "Content-Security-Policy",
    "X-Content-Type-Options",
)


class FromAddress(HTTPAdapter):
    """Connections from a chosen local address: the loopback network is all ours."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


@dataclass
class Stack:
    serve: Server
    nginx: Nginx
    https: str  # nginx's TLS address, site.base_url without its "/"
    http: str  # nginx's port 80 stand-in
    export: Path
    tls: Path  # fullchain.pem, privkey.pem, ca.pem
    reader: requests.Session  # from READER
    local: requests.Session  # from 127.0.0.1, nginx's own (trusted) address


def mdwe_launcher() -> list[str]:
    """Serve under MDWE where this kernel has PR_SET_MDWE; test_systemd_unit.py says
    (skips) when it has not."""
    probe = subprocess.run(
        [sys.executable, str(MDWE), sys.executable, "-c", ""], capture_output=True
    )
    if probe.returncode == UNSUPPORTED:
        return [sys.executable]
    return [sys.executable, str(MDWE), sys.executable]


def shipped_site(upstream: int, tls_port: int, http_port: int, tls: Path, export: Path) -> str:
    """deploy/nginx.conf with its ports, certificate and export folder made temporary ones
    (and no IPv6 listeners, which a test host may lack); nothing else changes."""
    return render(
        (DEPLOY / "nginx.conf").read_text(encoding="utf-8"),
        {
            "server 127.0.0.1:8080;": f"server 127.0.0.1:{upstream};",
            "listen 80;": f"listen 127.0.0.1:{http_port};",
            "listen [::]:80;": "",
            "listen 443 ssl http2;": f"listen 127.0.0.1:{tls_port} ssl http2;",
            "listen [::]:443 ssl http2;": "",
            "/etc/letsencrypt/live/press.example.org/fullchain.pem": str(tls / "fullchain.pem"),
            "/etc/letsencrypt/live/press.example.org/privkey.pem": str(tls / "privkey.pem"),
            "root /var/www/feedsvc/public;": f"root {export};",
        },
    )


@pytest.fixture(scope="module")
def smtp() -> Iterator[Recorder]:
    recorder = Recorder()
    with smtp_server(recorder) as controller:
        recorder.port = controller.port  # type: ignore[attr-defined]
        yield recorder


@pytest.fixture(scope="module")
def stack(smtp: Recorder) -> Iterator[Stack]:
    nginx_binary()  # skip (or fail, in CI) before starting anything
    # Not pytest's tmp_path: that lies under a 0700 folder nginx's worker cannot walk into.
    root = Path(tempfile.mkdtemp(prefix="feedsvc-deploy-"))
    root.chmod(0o755)
    tls_port, http_port = free_port(), free_port()
    https = f"https://127.0.0.1:{tls_port}"
    config: dict[str, Any] = {
        "site": {"base_url": https + "/"},
        "server": {"trusted_proxies": ["127.0.0.1"]},
        "mail": {
            "transport": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,  # type: ignore[attr-defined]
            "smtp_security": "none",
        },
        "outbox": {"tick_seconds": 0.2},
        "share": {
            "min_fill_seconds": MIN_FILL,
            "per_ip_per_hour": PER_IP,
            "per_recipient_per_day": 50,
        },
    }
    serve = Server(root / "serve", config)
    serve.launcher = mdwe_launcher()
    shutil.copy(SEED, serve.items / SEED.name)
    bundle(
        serve.items / "visit",
        "visit",
        {"photo.jpg": JPEG, "statement.pdf": PDF, "annex.docx": DOCX},
    )
    nginx: Nginx | None = None
    try:
        serve.start(
            ready=lambda s: wait_for(
                lambda: s.get(f"/releases/{SEED_ID}/").status_code == 200, 10, what="seed"
            )
        )
        export = root / "www" / "public"
        build(serve, export)
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1")
        tls = root / "tls"
        tls.mkdir(mode=0o755)
        cert.cert_chain_pems[0].write_to_path(str(tls / "fullchain.pem"))
        cert.private_key_pem.write_to_path(str(tls / "privkey.pem"))
        ca.cert_pem.write_to_path(str(tls / "ca.pem"))
        site = shipped_site(serve.port, tls_port, http_port, tls, export)
        (root / "nginx").mkdir()
        nginx = Nginx(root / "nginx", site, [tls_port, http_port])
        nginx.start()
        reader, local = requests.Session(), requests.Session()
        reader.mount("https://", FromAddress(READER))
        reader.mount("http://", FromAddress(READER))
        for session in (reader, local):
            session.trust_env = False  # REQUESTS_CA_BUNDLE would win over `verify`
            session.verify = str(tls / "ca.pem")
        yield Stack(
            serve, nginx, https, f"http://127.0.0.1:{http_port}", export, tls, reader, local
        )
        reader.close()
        local.close()
    finally:
        if nginx is not None:
            nginx.stop()
        if serve.proc is not None:
            serve.kill()
        shutil.rmtree(root, ignore_errors=True)


def raw_get(session: requests.Session, url: str, **headers: str) -> tuple[requests.Response, bytes]:
    """A GET and its body as it came over the wire (not decompressed)."""
    sent = {"Accept-Encoding": "identity"}
    sent.update({name.replace("_", "-"): value for name, value in headers.items()})
    r = session.get(url, headers=sent, stream=True, timeout=10, allow_redirects=False)
    return r, r.raw.read(decode_content=False)


def log_lines(serve: Server) -> list[dict[str, Any]]:
    return [json.loads(line) for line in serve.access_log().splitlines() if line.startswith("{")]


def logged(serve: Server, method: str, path: str) -> list[dict[str, Any]]:
    """serve's access-log lines for `method path`, once at least one is written (the log is
    flushed twice a second)."""
    return wait_for(
        lambda: [e for e in log_lines(serve) if e["method"] == method and e["path"] == path],
        5,
        what=f"{method} {path} in serve's access log",
    )


def share(stack: Stack, to: str, session: requests.Session, **headers: str) -> int:
    """One share through nginx, as the API documents it: a token, a pause, the POST."""
    token = session.get(
        stack.https + "/api/shares/token", params={"release": SEED_ID}, headers=headers, timeout=5
    )
    if token.status_code != 200:
        return token.status_code
    time.sleep(MIN_FILL)
    body = {"release": SEED_ID, "to": [to], "token": token.json()["token"]}
    posted = session.post(
        stack.https + "/api/shares",
        data=json.dumps(body),
        headers={"Content-Type": "application/json", "Origin": stack.https, **headers},
        timeout=5,
    )
    return posted.status_code


# -- the live service through nginx ------------------------------------------------------------


@pytest.mark.parametrize("path", FEEDS)
def test_feeds_through_nginx_are_serves_own_bytes_and_headers(stack: Stack, path: str) -> None:
    for encoding in ("identity", "gzip"):
        direct, direct_bytes = raw_get(
            stack.serve.http, stack.serve.base + path, accept_encoding=encoding
        )
        via, via_bytes = raw_get(stack.reader, stack.https + path, accept_encoding=encoding)
        assert (direct.status_code, via.status_code) == (200, 200)
        assert via_bytes == direct_bytes, f"{path} ({encoding}) changed on its way through nginx"
        for name in ("Content-Type", "ETag", "Last-Modified", "Cache-Control", "Vary"):
            assert via.headers.get(name) == direct.headers.get(name), (path, encoding, name)
        if encoding == "gzip":
            # Compressed once, by serve: one gzip layer over the identity bytes.
            assert via.headers["Content-Encoding"] == "gzip"
            assert (
                gzip.decompress(via_bytes) == raw_get(stack.serve.http, stack.serve.base + path)[1]
            )
        else:
            assert "Content-Encoding" not in via.headers
    etag = direct.headers["ETag"]
    again, body = raw_get(
        stack.reader, stack.https + path, accept_encoding="gzip", if_none_match=etag
    )
    assert (again.status_code, body, again.headers["ETag"]) == (304, b"", etag)


@pytest.mark.parametrize("path", ["/", f"/releases/{SEED_ID}/", "/no-such-page"])
def test_pages_and_errors_are_not_compressed_again_by_nginx(stack: Stack, path: str) -> None:
    """Debian's nginx.conf says `gzip on`: what serve sent as it is (a small error page)
    must not come out compressed, with an ETag nginx weakened."""
    direct, direct_bytes = raw_get(
        stack.serve.http, stack.serve.base + path, accept_encoding="gzip"
    )
    via, via_bytes = raw_get(stack.reader, stack.https + path, accept_encoding="gzip")
    assert via.status_code == direct.status_code
    assert via_bytes == direct_bytes
    for name in ("Content-Type", "Content-Encoding", "ETag", "Cache-Control"):
        assert via.headers.get(name) == direct.headers.get(name), (path, name)


def test_a_releases_files_through_nginx_are_serves_own(stack: Stack) -> None:
    """Issue 14: bytes and headers as serve sends them, ranges included."""
    for name in ("photo.jpg", WIDEST, "statement.pdf", "annex.docx"):
        path = f"/releases/visit/{name}"
        direct, direct_bytes = raw_get(stack.serve.http, stack.serve.base + path)
        via, via_bytes = raw_get(stack.reader, stack.https + path, accept_encoding="gzip")
        assert (direct.status_code, via.status_code) == (200, 200), name
        assert via_bytes == direct_bytes, name
        for header in FILE_HEADERS:
            assert via.headers.get(header) == direct.headers.get(header), (name, header)
    part, body = raw_get(
        stack.reader, stack.https + "/releases/visit/statement.pdf", range="bytes=4-7"
    )
    assert (part.status_code, body) == (206, PDF[4:8])


def test_the_plain_http_port_sends_readers_to_https(stack: Stack) -> None:
    r = stack.reader.get(stack.http + "/feed.xml", allow_redirects=False, timeout=5)
    assert r.status_code == 301
    assert r.headers["Location"].startswith("https://")
    assert r.headers["Location"].endswith("/feed.xml")


def test_a_share_through_nginx_is_emailed_and_logged_with_the_readers_address(
    stack: Stack, smtp: Recorder
) -> None:
    friend = "friend.behind.nginx@example.org"
    assert share(stack, friend, stack.reader) == 202
    wait_for(lambda: any(friend in m.rcpt_tos for m in smtp.received), 10, what="the email sent")
    posts = logged(stack.serve, "POST", "/api/shares")
    assert [e["client"] for e in posts] == ["127.0.3.0"], "the reader, not nginx (127.0.0.0)"


def test_a_readers_own_x_forwarded_for_is_not_believed(stack: Stack) -> None:
    probe = "/no-such-page-spoofed-by-a-reader"
    r = stack.reader.get(stack.https + probe, headers={"X-Forwarded-For": SPOOFED}, timeout=5)
    assert r.status_code == 404
    assert [e["client"] for e in logged(stack.serve, "GET", probe)] == ["127.0.3.0"]


def test_a_client_on_nginxs_own_address_cannot_name_another_either(stack: Stack) -> None:
    """127.0.0.1 is a trusted proxy: had nginx appended to the client's X-Forwarded-For
    ($proxy_add_x_forwarded_for), serve would skip that hop and believe the one written
    before it. nginx replaces the header instead."""
    probe = "/no-such-page-spoofed-from-loopback"
    r = stack.local.get(stack.https + probe, headers={"X-Forwarded-For": SPOOFED}, timeout=5)
    assert r.status_code == 404
    assert [e["client"] for e in logged(stack.serve, "GET", probe)] == ["127.0.0.0"]


def test_a_new_x_forwarded_for_per_share_does_not_escape_the_per_client_limit(
    stack: Stack,
) -> None:
    """Each share claims another address; had serve believed it, every share would be a
    new client's first. The reader's earlier shares (the test above) count too."""
    time.sleep(1)  # serve's access log is flushed twice a second
    earlier = [e for e in log_lines(stack.serve) if e["path"] == "/api/shares"]
    left = PER_IP - sum(e["status"] == 202 for e in earlier)
    statuses = []
    for n in range(left + 2):
        spoofed = {"X-Forwarded-For": f"203.0.113.{10 + n}"}
        statuses.append(share(stack, f"limit.{n}@example.org", stack.reader, **spoofed))
    assert statuses == [202] * left + [429] * 2
    clients = {e["client"] for e in log_lines(stack.serve)}
    assert not any(c.startswith("203.0.113.") for c in clients), clients


def test_a_body_over_the_apps_limit_is_refused_by_nginx(stack: Stack) -> None:
    body = json.dumps({"release": SEED_ID, "to": ["x@example.org"], "message": "x" * 17_000})
    r = stack.reader.post(
        stack.https + "/api/shares",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert r.status_code == 413
    assert "nginx" in r.text  # nginx's answer: serve never read it


# -- serve down: the static export --------------------------------------------------------------


def serve_down(stack: Stack) -> None:
    if stack.serve.proc is not None:
        assert stack.serve.stop() in CLEAN_EXIT


def test_with_serve_stopped_feeds_come_from_the_export(stack: Stack) -> None:
    serve_down(stack)
    types = {
        "/feed.xml": "application/rss+xml; charset=utf-8",
        "/atom.xml": "application/atom+xml; charset=utf-8",
        "/feed.json": "application/feed+json; charset=utf-8",
        "/sitemap.xml": "application/xml; charset=utf-8",
        f"/releases/{SEED_ID}/": "text/html; charset=utf-8",
        "/assets/style.css": "text/css; charset=utf-8",
    }
    for path, media_type in types.items():
        r, body = raw_get(stack.reader, stack.https + path)
        assert (r.status_code, r.headers["Content-Type"]) == (200, media_type), path
        file = stack.export / path.lstrip("/")
        assert body == (file / "index.html" if path.endswith("/") else file).read_bytes()
    packed, body = raw_get(stack.reader, stack.https + "/feed.xml", accept_encoding="gzip")
    assert packed.headers["Content-Encoding"] == "gzip"
    assert body == (stack.export / "feed.xml.gz").read_bytes()
    assert packed.headers["Vary"] == "Accept-Encoding"
    etag = packed.headers["ETag"]
    again, _ = raw_get(
        stack.reader, stack.https + "/feed.xml", accept_encoding="gzip", if_none_match=etag
    )
    assert again.status_code == 304


def test_with_serve_stopped_a_releases_files_come_from_the_export(stack: Stack) -> None:
    """Issue 14: the export's files with serve's cache policy (immutable only for a variant),
    downloads and sandbox; the release's page keeps the export's usual headers."""
    serve_down(stack)
    docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    expected = {
        WIDEST: ("image/jpeg", "public, max-age=31536000, immutable", None),
        "photo.jpg": ("image/jpeg", "public, max-age=60", None),
        "statement.pdf": ("application/pdf", "public, max-age=60", None),
        "annex.docx": (docx, "public, max-age=60", "attachment"),
    }
    for name, (media_type, cache, download) in expected.items():
        r, body = raw_get(stack.reader, stack.https + f"/releases/visit/{name}")
        assert r.status_code == 200, name
        assert body == (stack.export / "releases" / "visit" / name).read_bytes()
        assert r.headers["Content-Type"] == media_type, name
        assert r.headers["Cache-Control"] == cache, name
        assert r.headers.get("Content-Disposition") == download, name
        assert r.headers["Content-Security-Policy"] == "sandbox", name
        assert r.headers["X-Content-Type-Options"] == "nosniff", name
    page, _ = raw_get(stack.reader, stack.https + "/releases/visit/")
    assert page.status_code == 200 and "Content-Security-Policy" not in page.headers
    assert page.headers["Cache-Control"] == "public, max-age=60"
    part, body = raw_get(
        stack.reader, stack.https + "/releases/visit/statement.pdf", range="bytes=4-7"
    )
    assert (part.status_code, body) == (206, PDF[4:8])


def test_with_serve_stopped_a_share_is_refused_with_retry_after(stack: Stack) -> None:
    serve_down(stack)
    r = stack.reader.post(
        stack.https + "/api/shares",
        data=b"{}",
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert (r.status_code, r.headers["Retry-After"]) == (503, "30")
    token = stack.reader.get(stack.https + "/api/shares/token", params={"release": SEED_ID})
    assert token.status_code == 503
    # The share form too, in any language (issue 15): serve's to answer, never the export's.
    for prefix in ("", "/zh", "/zh-Hant"):
        form = stack.reader.post(
            stack.https + f"{prefix}/releases/{SEED_ID}/share", data={"to": "x"}, timeout=5
        )
        assert (form.status_code, form.headers.get("Retry-After")) == (503, "30"), prefix
    # The email alerts' form, API and link pages (issue 16): serve's too, in any language.
    for path in ("/alerts/", "/zh/alerts/", "/alerts/confirm?t=x", "/zh-Hant/alerts/manage?t=x"):
        page = stack.reader.post(stack.https + path, data={"email": "x"}, timeout=5)
        assert (page.status_code, page.headers.get("Retry-After")) == (503, "30"), path
    alerts = stack.reader.post(
        stack.https + "/api/subscriptions",
        data=b"{}",
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert (alerts.status_code, alerts.headers.get("Retry-After")) == (503, "30")


# -- serve up, its database out of reach: its own 503s ------------------------------------------

OUTAGE_JSON = b'{"error": "the database is out of reach"}'


class DatabaseOut(BaseHTTPRequestHandler):
    """What serve answers while its database is out of reach (feedsvc/web/app.py
    _unavailable): 503, Retry-After 5, JSON under api/ and a page otherwise. A stand-in, as
    taking the database away is tests/faults/test_database_outage.py's business; what is
    tested here is what nginx makes of those answers."""

    def do_GET(self) -> None:
        api = self.path.startswith("/api/") or self.path == "/healthz"
        body = OUTAGE_JSON if api else b"<!DOCTYPE html><p>Try again in a moment.</p>"
        self.send_response(503)
        self.send_header("Content-Type", "application/json" if api else "text/html")
        self.send_header("Retry-After", "5")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def database_out(stack: Stack) -> Iterator[str]:
    """The shipped nginx.conf in front of an upstream that answers as serve does while its
    database is out of reach; the URL of its TLS side."""
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), DatabaseOut)
    thread = threading.Thread(target=upstream.serve_forever, daemon=True)
    thread.start()
    tls_port, http_port = free_port(), free_port()
    site = shipped_site(upstream.server_port, tls_port, http_port, stack.tls, stack.export)
    prefix = stack.export.parents[1] / "nginx-database-out"
    prefix.mkdir()
    nginx = Nginx(prefix, site, [tls_port, http_port])
    try:
        nginx.start()
        yield f"https://127.0.0.1:{tls_port}"
    finally:
        nginx.stop()
        upstream.shutdown()
        upstream.server_close()


def test_with_the_database_out_feeds_and_pages_come_from_the_export(
    stack: Stack, database_out: str
) -> None:
    for path in ("/feed.xml", f"/releases/{SEED_ID}/"):
        r, body = raw_get(stack.reader, database_out + path)
        assert r.status_code == 200, path
        file = stack.export / path.lstrip("/")
        assert body == (file / "index.html" if path.endswith("/") else file).read_bytes()


@pytest.mark.parametrize("path", [f"/api/shares/token?release={SEED_ID}", "/healthz"])
def test_with_the_database_out_serves_own_503_reaches_the_client_untouched(
    stack: Stack, database_out: str, path: str
) -> None:
    """The API's JSON and its Retry-After, and a failing /healthz for the monitor: not
    replaced by nginx's page or by an old export."""
    r, body = raw_get(stack.reader, database_out + path)
    assert (r.status_code, body, r.headers["Retry-After"]) == (503, OUTAGE_JSON, "5")
