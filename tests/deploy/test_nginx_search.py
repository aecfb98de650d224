"""Search behind deploy/nginx.conf (issue 17 item 1): /search and /opensearch.xml of every
language pass to serve with its own headers, and while serve is down they are nginx's 503
(try again), never the export's 404 (the export has no search)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import trustme

from tests.deploy.conftest import Nginx, nginx_binary
from tests.deploy.test_nginx import shipped_site
from tests.web.conftest import Server, build, free_port, wait_for


@pytest.fixture(scope="module")
def through_nginx() -> Iterator[tuple[Server, str, requests.Session]]:
    nginx_binary()  # skip (or fail, in CI) before starting anything
    root = Path(tempfile.mkdtemp(prefix="feedsvc-deploy-"))  # nginx's worker walks into it
    root.chmod(0o755)
    tls_port, http_port = free_port(), free_port()
    https = f"https://127.0.0.1:{tls_port}"
    serve = Server(
        root / "serve", {"site": {"base_url": https + "/"}, "languages.zh": {"title": "新闻"}}
    )
    serve.write(
        "heron.md",
        "+++\ntitle = 'Heron census'\nsection = 'News'\ndate = '2026-11-01'\n+++\n\nHerons.\n",
    )
    nginx: Nginx | None = None
    session = requests.Session()
    try:
        serve.start(lambda s: wait_for(lambda: s.get("/releases/heron/").status_code == 200, 15))
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
        yield serve, https, session
    finally:
        session.close()
        if nginx is not None:
            nginx.stop()
        if serve.proc is not None:
            serve.kill()
        shutil.rmtree(root, ignore_errors=True)


def test_search_and_its_description_pass_through(
    through_nginx: tuple[Server, str, requests.Session],
) -> None:
    _, base, session = through_nginx
    found = session.get(base + "/search?q=heron", timeout=10)
    assert found.status_code == 200 and "Heron census" in found.text
    assert found.headers["X-Robots-Tag"] == "noindex"
    assert found.headers["Cache-Control"] == "no-cache"
    assert session.get(base + "/zh/search?q=heron", timeout=10).status_code == 200
    for path in ("/opensearch.xml", "/zh/opensearch.xml"):
        described = session.get(base + path, timeout=10)
        assert described.status_code == 200
        assert described.headers["Content-Type"] == "application/opensearchdescription+xml"
    # The export's pages carry the box that asks the served route.
    home = session.get(base + "/", timeout=10)
    assert 'action="/search"' in home.text


def test_with_serve_stopped_search_is_503_not_the_exports_404(
    through_nginx: tuple[Server, str, requests.Session],
) -> None:
    serve, base, session = through_nginx
    serve.stop()
    down = session.get(base + "/search?q=heron", timeout=10, allow_redirects=False)
    assert down.status_code == 503 and down.headers["Retry-After"] == "30"
