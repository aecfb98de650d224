from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from feedsvc.clock import FixedClock
from feedsvc.config import Settings, database_url, settings_from_dict
from feedsvc.ingest import IngestResult, ingest
from feedsvc.publishing.site import Document, Site
from feedsvc.store import Store

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "items" / "2020-09-11-wang-yi-china-russia-stability.txt"
SEED_ID = SEED.stem
SEED_TITLE = (
    "Wang Yi: China and Russia Are Key Forces of Stability in Turbulent International Situation"
)
BASE_URL = "https://press.example.org/"


def newsroom_text(
    title: str, date: str, paragraphs: list[str], section: str = "Press Releases"
) -> str:
    """A release in the seed's layout: NO-BREAK SPACEs in the breadcrumb, no final newline."""
    first = f"On {date}, " + paragraphs[0]
    body = "\n\n".join([first, *paragraphs[1:]])
    return f"Home\u00a0>\u00a0{section}\n{title}\n\n\n{body}\n\n<Suggest To A Friend>"


@dataclass
class Newsroom:
    """A press office on disk: an items folder, a config, a SQLite store and a clock."""

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
        return Site(self.settings, self.store, self.clock)

    def documents(self) -> dict[str, Document]:
        return {doc.path: doc for doc in self.site.documents()}


def make_newsroom(root: Path, **sections: dict) -> Newsroom:
    raw = {
        "site": {
            "title": "Ministry Press Office",
            "base_url": BASE_URL,
            "id_authority": "press.example.org",
            "timezone": "Asia/Shanghai",
        },
        "items": {"dir": "items"},
        "database": {"url": "sqlite:///var/feedsvc.db"},
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
