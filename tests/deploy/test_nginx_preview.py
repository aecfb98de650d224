"""An embargoed release's preview behind deploy/nginx.conf (issue 17 item 6): the page and
its picture pass through with serve's own privacy headers, and while serve is down the
preview is nginx's 503 (try again), never the export's 404 (the export has no previews)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
import trustme

from tests.deploy.conftest import Nginx, nginx_binary
from tests.deploy.test_nginx import shipped_site
from tests.previews.office import markdown
from tests.web.conftest import Server, build, free_port, wait_for
from tests.web.media_items import JPEG

EMBARGO = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=1)
PRIVATE = {
    "Cache-Control": "private, no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",
}


@pytest.fixture(scope="module")
def through_nginx() -> Iterator[tuple[Server, str, requests.Session]]:
    nginx_binary()  # skip (or fail, in CI) before starting anything
    root = Path(tempfile.mkdtemp(prefix="feedsvc-deploy-"))  # nginx's worker walks into it
    root.chmod(0o755)
    tls_port, http_port = free_port(), free_port()
    https = f"https://127.0.0.1:{tls_port}"
    serve = Server(root / "serve", {"site": {"base_url": https + "/"}})
    (serve.items / "secret").mkdir()
    (serve.items / "secret" / "photo.jpg").write_bytes(JPEG)
    serve.write(
        "secret/index.md", markdown("Accord", "Words.", publish_at=EMBARGO, image="photo.jpg")
    )
    serve.write("public.md", markdown("Public", "Public words."))
    nginx: Nginx | None = None
    session = requests.Session()
    try:
        serve.start(lambda s: wait_for(lambda: s.get("/releases/public/").status_code == 200, 15))
        export = root / "www" / "public"
        build(serve, export)
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1")
        tls = root / "tls"
        tls.mkdir(mode=0o755)
        cert.cert_chain_pems[0].write_to_path(str(tls / "fullchain.pem"))
        cert.private_key_pem.write_to_path(str(tls / "privkey.pem"))
        ca.cert_pem.write_to_path(str(tls / "ca.pem"))
        (root / "nginx").mkdir()
        nginx = Nginx(
            root / "nginx",
            shipped_site(serve.port, tls_port, http_port, tls, export),
            [tls_port, http_port],
        )
        nginx.start()
        session.trust_env = False
        session.verify = str(tls / "ca.pem")
        done = subprocess.run(
            [sys.executable, "-m", "feedsvc", "preview", "secret", "--config", str(serve.config)],
            cwd=serve.root,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        link = done.stdout.strip()
        assert link.startswith(https + "/releases/secret/preview?t=")
        yield serve, link, session
    finally:
        session.close()
        if nginx is not None:
            nginx.stop()
        if serve.proc is not None:
            serve.kill()
        shutil.rmtree(root, ignore_errors=True)


def test_the_preview_and_its_picture_pass_through_nginx_private(
    through_nginx: tuple[Server, str, requests.Session],
) -> None:
    _, link, session = through_nginx
    page = session.get(link, timeout=10, allow_redirects=False)
    assert page.status_code == 200 and "EMBARGOED until" in page.text
    for name, value in PRIVATE.items():
        assert page.headers[name] == value, name
    src = re.search(r'<img src="([^"]+)"', page.text)
    assert src is not None
    base = link.split("/releases/")[0]
    picture = session.get(base + src.group(1).replace("&amp;", "&"), timeout=10)
    assert picture.status_code == 200 and picture.headers["Content-Type"] == "image/jpeg"
    assert picture.headers["Cache-Control"] == "private, no-store"
    bare = session.get(base + urlsplit(src.group(1)).path, timeout=10)
    assert bare.status_code == 404
    forged = session.get(link[:-3] + "AAA", timeout=10, allow_redirects=False)
    assert forged.status_code == 404 and forged.headers["Cache-Control"] == "private, no-store"


def test_with_serve_stopped_the_preview_is_503_not_the_exports_404(
    through_nginx: tuple[Server, str, requests.Session],
) -> None:
    serve, link, session = through_nginx
    serve.stop()
    down = session.get(link, timeout=10, allow_redirects=False)
    assert down.status_code == 503 and down.headers["Retry-After"] == "30"
    assert down.headers["Cache-Control"] == "no-store"
