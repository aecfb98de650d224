from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from feedsvc.build import site_of
from feedsvc.clock import FixedClock
from feedsvc.config import Settings, database_url, settings_from_dict
from feedsvc.ingest import IngestResult, ingest
from feedsvc.publishing.site import Document, Site
from feedsvc.store import Store
from tests import pg

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "items" / "2020-09-11-wang-yi-china-russia-stability.txt"
SEED_ID = SEED.stem
SEED_TITLE = (
    "Wang Yi: China and Russia Are Key Forces of Stability in Turbulent International Situation"
)
BASE_URL = "https://press.example.org/"

# The database the whole suite runs on: "sqlite" (a file per test) or "postgresql" (a
# cluster the run starts itself, tests/pg.py).
TEST_DATABASE = os.environ.get("FEEDSVC_TEST_DATABASE", "sqlite")
DATABASES = ("sqlite", "postgresql")


def pytest_configure(config: pytest.Config) -> None:
    if TEST_DATABASE not in DATABASES:
        raise pytest.UsageError(
            f"FEEDSVC_TEST_DATABASE={TEST_DATABASE!r}: expected one of {', '.join(DATABASES)}"
        )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if TEST_DATABASE == "sqlite":
        return
    skip = pytest.mark.skip(reason=f"about SQLite; this run is on {TEST_DATABASE}")
    for item in items:
        if item.get_closest_marker("sqlite_only"):
            item.add_marker(skip)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish() -> None:
    pg.stop()


@pytest.fixture(autouse=True)
def _databases_go_back_after_the_test() -> Iterator[None]:
    """A PostgreSQL database lent while a test runs (its body or its function-scoped
    fixtures) is emptied for the next test once the test is over. Module and session
    fixtures are set up before this one, so theirs last the whole run."""
    with pg.lending_scope():
        yield


def new_database_url(root: Path, name: str = "feedsvc") -> str:
    """A store for the service folder `root`: the SQLite file `var/<name>.db` in it, or an
    empty PostgreSQL database (FEEDSVC_TEST_DATABASE=postgresql)."""
    if TEST_DATABASE == "postgresql":
        return pg.fresh_database()
    return f"sqlite:///{root / 'var' / name}.db"


@functools.cache
def _engine(url: str) -> Engine:
    return create_engine(url, poolclass=NullPool)  # holds no connection between calls


def db_rows(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """What one statement (`:name` parameters) returns on the database at `url`, run in a
    transaction of its own: a test looks into the store as it is, or changes it."""
    with _engine(url).begin() as conn:
        result = conn.execute(text(sql), params)
        return [tuple(row) for row in result] if result.returns_rows else []


def newsroom_text(
    title: str, date: str, paragraphs: list[str], section: str = "Press Releases"
) -> str:
    """A release in the seed's layout: NO-BREAK SPACEs in the breadcrumb, no final newline."""
    first = f"On {date}, " + paragraphs[0]
    body = "\n\n".join([first, *paragraphs[1:]])
    return f"Home\u00a0>\u00a0{section}\n{title}\n\n\n{body}\n\n<Suggest To A Friend>"


@dataclass
class Newsroom:
    """A press office on disk: an items folder, a config, a store (SQLite or PostgreSQL)
    and a clock."""

    root: Path
    settings: Settings
    clock: FixedClock
    store: Store

    @property
    def items(self) -> Path:
        return self.settings.items.dir

    def write(self, name: str, text: str | bytes) -> Path:
        path = self.items / name
        path.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode("utf-8") if isinstance(text, str) else text
        path.write_bytes(data)
        return path

    def add(
        self, name: str, title: str, date: str, *paragraphs: str, section: str = "Press Releases"
    ) -> Path:
        paras = list(paragraphs) or ["the ministry said things of note.", "A second paragraph."]
        return self.write(name, newsroom_text(title, date, paras, section))

    def ingest(self) -> IngestResult:
        return ingest(self.settings, self.store, self.clock)

    @property
    def site(self) -> Site:
        return site_of(self.settings, self.store.releases, self.clock)

    def documents(self) -> dict[str, Document]:
        return {doc.path: doc for doc in self.site.documents()}


class Wall:
    """The file system's clock as the scanner sees it (file mtimes are compared with it)."""

    def __init__(self) -> None:
        self.now = 2_000_000_000.0

    def __call__(self) -> float:
        return self.now


def make_newsroom(root: Path, **sections: dict) -> Newsroom:
    raw = {
        "site": {
            "title": "Ministry Press Office",
            "base_url": BASE_URL,
            "id_authority": "press.example.org",
            "timezone": "Asia/Shanghai",
        },
        "items": {"dir": "items"},
        "database": {"url": new_database_url(root)},
        "build": {"out": "public"},
    }
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    settings = settings_from_dict(raw, root=root)
    settings.items.dir.mkdir(parents=True, exist_ok=True)
    clock = FixedClock(dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC))
    return Newsroom(root, settings, clock, Store.open(database_url(settings)))


@pytest.fixture
def newsroom(tmp_path: Path) -> Iterator[Newsroom]:
    room = make_newsroom(tmp_path)
    yield room
    room.store.close()
