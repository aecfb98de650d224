"""The cost of a second language (issue 15), a part of bench/build.py: the same corpus
built in one language and in two (each release also as `<name>.zh.txt`, the same text
declared Chinese by its file name), and an added translation's re-rendering.

Not a benchmark of its own: `build.py` runs it beside its full builds and reports it.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import median

from feedsvc.build import site_of
from feedsvc.clock import SystemClock
from feedsvc.config import load_settings
from feedsvc.ingest import ingest_files
from feedsvc.store import open_store

TARGET_RATIO = 2.2  # a second language at most 2.2 x the build of one
TAG = "zh"


def bilingual_corpus(corpus: Path, tmp: Path) -> Path:
    """The corpus with every release also in Chinese: hard links, so it costs no copy."""
    out = tmp / "corpus-bilingual"
    out.mkdir()
    for path in sorted(corpus.glob("*.txt")):
        os.link(path, out / path.name)
        os.link(path, out / f"{path.stem}.{TAG}.txt")
    return out


def add_languages(cfg: Path) -> Path:
    """A config that also publishes in Chinese."""
    cfg.write_text(
        cfg.read_text("utf-8") + f'\n[languages.{TAG}]\ntitle = "新闻发布"\n', encoding="utf-8"
    )
    return cfg


@dataclass(frozen=True)
class Translations:
    add: list[float]  # seconds: ingest_files of the translation + Sites.changed_feeds
    docs: list[int]  # documents re-rendered
    others: int  # of them, documents outside the translation's language (should be 0)


def translation_rounds(cfg: Path, items: Path, news: list[Path]) -> Translations:
    """For each new release: publish it in the site's own language, then time its
    translation arriving, and count what was re-rendered in which language."""
    settings = load_settings(cfg)
    clock = SystemClock()
    add, docs, others = [], [], 0
    with open_store(settings, upgrade=False) as store:
        sites = site_of(settings, store.releases, clock)
        for i, new in enumerate(news, start=1):
            shutil.copy(new, items / new.name)
            first = ingest_files(settings, store, clock, [new.name])
            assert first.changes.added, f"{new.name} was not added"
            sites.changed_feeds(first.changes)
            translated = f"{new.stem}.{TAG}.txt"
            shutil.copy(new, items / translated)
            t0 = time.perf_counter()
            result = ingest_files(settings, store, clock, [translated])
            changed = sites.changed_feeds(result.changes)
            add.append(time.perf_counter() - t0)
            assert result.changes.added, f"{translated} was not added"
            docs.append(len(changed))
            others += sum(not d.path.startswith(TAG + "/") for d in changed)
            ms = add[-1] * 1e3
            print(f"  translation {i:2d}: {ms:6.1f} ms, {docs[-1]} docs re-rendered", flush=True)
    return Translations(add, docs, others)


def rows(one: list[float], two: list[float], n: int, inc: Translations) -> list[tuple]:
    """Rows for build.py's table: (what, ours, baseline, unit, target, ok)."""
    mono, bi = median(one), median(two)
    add = median(inc.add) * 1e3
    what = (
        f"add a translation: its feeds ({median(inc.docs):.0f} docs re-rendered, "
        f"{inc.others} outside its language)"
    )
    return [
        (
            f"full build of {n:,} releases in 2 languages, wall (vs the same in 1)",
            bi,
            mono,
            "s",
            f"<= {TARGET_RATIO} x",
            bi <= TARGET_RATIO * mono,
        ),
        (what, add, None, "ms", "only its language", inc.others == 0),
    ]
