"""A press office for the embargo tests (issue 17 item 6): a folder with config.toml and
items/, the service in process with a clock the test moves, its ASGI app as `serve` wires
it (cli/site.py), and the CLI run in process on the same config."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from feedsvc.cli import main
from feedsvc.cli.site import _dynamic_routes
from feedsvc.clock import FixedClock
from feedsvc.config import load_settings
from feedsvc.ingest import ingest
from feedsvc.service import Service
from feedsvc.web.app import FeedApp
from feedsvc.web.clients import Clients
from tests import aio
from tests.conftest import new_database_url
from tests.web.conftest import toml_text

# The real clock's now, to the second: the CLI reads the system clock, the service this one.
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
EMBARGO = NOW + dt.timedelta(days=1)
BASE_URL = "https://press.example.org/"


def markdown(
    title: str,
    body: str,
    *,
    section: str = "Statements",
    tags: tuple[str, ...] = (),
    summary: str = "",
    publish_at: dt.datetime | None = None,
    image: str | None = None,
    date: dt.datetime = NOW - dt.timedelta(days=2),
) -> str:
    lines = ["+++", f"title = {title!r}", f"section = {section!r}", f"date = {date.isoformat()}"]
    if tags:
        lines.append("tags = [" + ", ".join(repr(t) for t in tags) + "]")
    if summary:
        lines.append(f"summary = {summary!r}")
    if publish_at is not None:
        lines.append(f"publish_at = {publish_at.isoformat()}")
    if image:
        lines += ["[image]", f"src = {image!r}", 'alt = "A photo"']
    return "\n".join([*lines, "+++", body, ""])


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Office:
    def __init__(self, root: Path, **config: Any) -> None:
        self.root = root
        self.items = root / "items"
        self.items.mkdir(parents=True, exist_ok=True)
        tables: dict[str, Any] = {
            "site": {
                "title": "Ministry Press Office",
                "base_url": BASE_URL,
                "id_authority": "press.example.org",
                "timezone": "Asia/Shanghai",
            },
            "items": {"dir": "items"},
            "database": {"url": new_database_url(root)},
            "server": {"cache_dir": "var/cache"},
            "outbox": {"allow_private_targets": True},
        }
        for name, values in config.items():
            if isinstance(values, list):
                tables[name] = values
            else:
                tables.setdefault(name, {}).update(values)
        self.config = root / "config.toml"
        self.config.write_text(toml_text(tables), encoding="utf-8")
        self.settings = load_settings(self.config)
        self.clock = FixedClock(NOW)
        self.service: Service | None = None
        self.app: FeedApp | None = None

    def write(self, name: str, data: str | bytes) -> Path:
        path = self.items / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return path

    def start(self) -> None:
        with contextlib.chdir(self.root):
            service = Service(self.settings, clock=self.clock)
        self.service = service
        self.ingest()
        service.start()
        clients = Clients(self.settings.server.trusted_proxies)
        self.service = service
        self.app = FeedApp(
            service.cache,
            service.metrics,
            base_path=self.settings.site.base_path,
            health=service.healthy,
            dynamic=_dynamic_routes(self.settings, service, clients),
            clients=clients,
            files=service.files,
        )

    def close(self) -> None:
        if self.app is not None:
            self.app.pool.shutdown()
        if self.service is not None:
            self.service.close()

    def publish_due(self) -> None:
        assert self.service is not None
        self.service.publish_due()

    def ingest(self) -> None:
        """Read the items folder now (the scanner would wait for the files to settle), and
        bring the running service's documents in line."""
        assert self.service is not None
        result = ingest(self.settings, self.service.store, self.clock)
        assert not result.problems, result.problems
        self.service.follow()

    def cli(self, *args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        redirected = contextlib.redirect_stdout(out), contextlib.redirect_stderr(err)
        with contextlib.chdir(self.root), redirected[0], redirected[1]:
            rc = main([*args, "--config", str(self.config)])
        return rc, out.getvalue(), err.getvalue()

    def get(self, target: str, method: str = "GET", **headers: str) -> Reply:
        """`target`: a path with its query, or an absolute URL of the site."""
        parts = urlsplit(target)
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "https",
            "path": parts.path or "/",
            "raw_path": (parts.path or "/").encode(),
            "query_string": parts.query.encode(),
            "root_path": "",
            "headers": [
                (k.lower().replace("_", "-").encode(), v.encode()) for k, v in headers.items()
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 443),
        }
        messages = aio.run(_call(self.app, scope))
        start = messages[0]
        sent = {k.decode().lower(): v.decode("latin-1") for k, v in start["headers"]}
        return Reply(start["status"], sent, b"".join(m.get("body", b"") for m in messages[1:]))


async def _call(app: Any, scope: dict[str, Any]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


@contextlib.contextmanager
def office_at(root: Path, **config: Any) -> Iterator[Office]:
    office = Office(root, **config)
    try:
        yield office
    finally:
        office.close()
