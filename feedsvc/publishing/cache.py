"""Rendered documents, ready to serve (`Ready`, ready.py), computed once and kept.

Hot documents — the feeds, the home page, the assets, the error pages — live in memory and
are re-rendered when a change touches them. The rest — release pages, archive pages, deeper
index pages, section pages, sitemaps — are rendered on first request after the change that
affects them, kept on disk, with a bounded memory LRU in front: with 100,000 releases not
everything fits in memory, and nothing is rendered twice for the same data.
"""

from __future__ import annotations

__all__ = ["DocumentCache", "Missing", "Ready"]

import datetime as dt
import hashlib
import os
import pickle
import shutil
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

from feedsvc import layout
from feedsvc.model import Changes, scoped, unscoped
from feedsvc.publishing.hot import HotJob, HotRender, hot_documents, ready_of, render_hot
from feedsvc.publishing.ready import Missing, Ready
from feedsvc.publishing.site import HTML, Document, Site
from feedsvc.publishing.sitemap import sitemap_parts
from feedsvc.publishing.sites import Sites
from feedsvc.store.releases import Releases

_PER_GENERATION = {"index", "section", "sitemap", "news", "directory"}
# Issue 17: a tag's documents, keyed by the tag's own version (a site may have thousands of
# tags: one change re-renders only the tags it touched); "" is the tag's page.
_TAG_FILES = ("", *layout.FEED_FILES)


class DocumentCache:
    def __init__(
        self, sites: Sites, store: Releases, cache_dir: Path, memory_bytes: int = 64 << 20
    ) -> None:
        self.sites = sites
        self.site = sites.default
        self.store = store
        self.max_age = sites.feeds.ttl_minutes * 60
        self.hot: dict[str, Ready] = {}
        self.errors: dict[Missing, Ready] = {}  # the 404 and 410 pages (the site's language)
        self.unavailable: Ready | None = None  # the 503 page, while the database is down
        # Issue 15: release keys (model.scoped) of every language; the rest by language
        # scope (None: the site's own).
        self.tokens: dict[str, str] = {}  # visible release key -> version of its page
        self.withdrawn: set[str] = set()  # keys that were public and are not any more
        self.visible: dict[str | None, int] = {}  # visible releases per language
        self.sections: dict[str | None, dict[str, str]] = {}  # slug -> name, per language
        self.generation = 0  # moves on every change of the visible set
        # Issue 18 item 5: who renders a change's hot documents; None: this process (the
        # live service hands it to a renderer process, feedsvc/hot_worker.py).
        self.renderer: HotRender | None = None
        # Issue 17: news-sitemap.xml depends on the clock too: it is rendered again when its
        # oldest release turns two days old (`_news_expires`), even without a change.
        self._news_epoch = 0
        self._news_expires: dt.datetime | None = None
        self.archive_versions: dict[tuple[str | None, int], int] = {}
        self.archive_count: dict[str | None, int] = {}
        # Issue 17: the tags a published release ever had (slug -> name) per language, so an
        # unknown tag is a 404 before anything renders, and each tag's version.
        self.tags: dict[str | None, dict[str, str]] = {}
        self.tag_versions: dict[tuple[str | None, str], int] = {}
        self._errors: dict[tuple[str | None, Missing], Ready] = {}
        self._lru: OrderedDict[tuple[object, ...], Ready] = OrderedDict()
        self._lru_bytes = 0
        self._memory_bytes = memory_bytes
        self._lock = threading.Lock()
        cache_dir.mkdir(parents=True, exist_ok=True)
        # One folder per run: what an earlier run left may describe other data.
        for old in cache_dir.glob("run-*"):
            shutil.rmtree(old, ignore_errors=True)
        self.disk = Path(tempfile.mkdtemp(prefix="run-", dir=cache_dir))

    # -- building ------------------------------------------------------------------------

    def load(self) -> None:
        """Everything from the store, at start."""
        self.tokens = self.store.page_tokens()
        self.withdrawn = self.store.withdrawn_ids()
        self.visible = {}
        for key in self.tokens:
            scope = unscoped(key)[1]
            self.visible[scope] = self.visible.get(scope, 0) + 1
        self.hot = {doc.path: self._ready(doc) for doc in self.sites.assets()}
        self.hot[layout.robots()] = self._ready(self.sites.robots())  # issue 17: config only
        for site in self.sites.all:
            scope = site.scope
            self.sections[scope] = dict(site.store.sections())
            self.tags[scope] = {slug: name for slug, name, _ in site.store.tags()}
            self.archive_count[scope] = site.archive_pages()
            not_found = self._ready(site.not_found_page())  # in the export too
            self.hot[not_found.path] = not_found
            gone = Document(site.prefix + "410.html", HTML, site.pages.simple("410.html"))
            self._errors[scope, Missing.NOT_FOUND] = not_found
            self._errors[scope, Missing.GONE] = self._ready(gone)
            self._refresh_hot(site, set(self.sections[scope]))
        self.errors = {m: self._errors[None, m] for m in Missing}
        self.unavailable = self._ready(
            Document("503.html", HTML, self.site.pages.simple("503.html"))
        )

    def error_page(self, missing: Missing, path: str) -> Ready:
        """The 404 or 410 page in the language of the document at `path`."""
        scope = self.sites.scope_of(path)
        return self._errors.get((scope, missing)) or self.errors[missing]

    def apply(self, changes: Changes) -> None:
        """Bring the cache in line with a change (called by the ingest/publish jobs)."""
        if not changes:
            return
        keys = set(changes.added + changes.updated + changes.withdrawn + changes.published)
        fresh = self.store.page_tokens(keys)
        stale: list[tuple[object, ...]] = []  # keys no request will ask for again
        for key in keys:
            old = self.tokens.get(key)
            if old is not None and fresh.get(key) != old:
                stale.append(("release", key, old))
            scope = unscoped(key)[1]
            if key in fresh:
                if old is None:
                    self.visible[scope] = self.visible.get(scope, 0) + 1
                self.tokens[key] = fresh[key]
                self.withdrawn.discard(key)
            elif self.tokens.pop(key, None) is not None:
                self.visible[scope] -= 1
        self.withdrawn |= self.store.withdrawn_ids(keys)
        self.generation += 1
        scopes: list[tuple[str | None, tuple[tuple[str, str], ...]]] = []
        for site in self.sites.all:
            scope = site.scope
            mine = changes.in_scope(scope)
            if not mine and not mine.seqs:
                continue
            # A section, once published, keeps its feed; only the changed ones need a look.
            self.sections[scope] = {
                **self.sections.get(scope, {}),
                **dict(site.store.sections(mine.sections)),
            }
            for page in site.archive_pages_changed(changes):
                version = self.archive_versions.get((scope, page), 0)
                stale += [("archive", scope, page, n, version) for n in layout.FEED_FILES]
                self.archive_versions[scope, page] = version + 1
            self.archive_count[scope] = site.archive_pages()
            stale += self._touch_tags(site, mine.tags)
            known = self.sections[scope]
            scopes.append(
                (scope, tuple((s, known[s]) for s in sorted(mine.sections) if s in known))
            )
        job = HotJob(self.sites.clock.now(), tuple(sorted(keys)), tuple(scopes))
        fresh_hot = (self.renderer or self._render_hot)(job)
        # Issue 18: one assignment for the whole change, so a reader never gets the new feed
        # beside the old home page; documents it did not touch stay the same objects.
        self.hot = {**self.hot, **{ready.path: ready for ready in fresh_hot}}
        # Disk space follows the data, not the number of changes since start.
        for key in stale:
            self._disk_path(key).unlink(missing_ok=True)
        current = f"g{self.generation}"
        for folder in self.disk.glob("g*"):  # also what a slow render wrote late
            if folder.name != current:
                shutil.rmtree(folder, ignore_errors=True)

    def _touch_tags(self, site: Site, slugs: set[str]) -> list[tuple[object, ...]]:
        """Move the version of each tag a change touched (its name as now spelled), and
        give the keys of their documents no request will ask for again."""
        if not slugs:
            return []
        scope = site.scope
        known = self.tags.setdefault(scope, {})
        known.update((slug, name) for slug, name, _ in site.store.tags(slugs))
        stale: list[tuple[object, ...]] = []
        for slug in sorted(slugs):
            version = self.tag_versions.get((scope, slug), 0)
            stale += [("tag", scope, slug, name, version) for name in _TAG_FILES]
            self.tag_versions[scope, slug] = version + 1
        return stale

    def _refresh_hot(self, site: Site, slugs: set[str]) -> None:
        sections = self.sections.get(site.scope, {})
        named = [(slug, sections[slug]) for slug in slugs if slug in sections]
        for doc in hot_documents(site, named):
            self.hot[doc.path] = self._ready(doc)

    def _render_hot(self, job: HotJob) -> list[Ready]:
        return render_hot(self.sites, job, self.max_age)

    def _ready(self, doc: Document) -> Ready:
        return ready_of(self.sites, doc, self.max_age)

    # -- serving ---------------------------------------------------------------------------

    def get(self, path: str) -> Ready | Missing:
        """The document at `path` (relative to base_url). May render: call it off the
        event loop when `path` is not in `hot`."""
        found, key = self._lookup(path)
        if found is not None:
            return found
        ready = self._from_disk(key)
        if ready is None:
            doc = self._render(key)
            if doc is None:
                return Missing.NOT_FOUND
            ready = self._ready(doc)
            self._to_disk(key, ready)
        self._remember(key, ready)
        return ready

    def in_memory(self, path: str) -> Ready | Missing | None:
        """The document at `path` if it is hot or in the memory LRU, or why there is none;
        None when finding it would read or render. No I/O and no wait: the event loop
        answers these itself, without a thread's turn at the GIL (issue 18 item 5)."""
        return self._lookup(path)[0]

    def _lookup(self, path: str) -> tuple[Ready | Missing | None, tuple[object, ...]]:
        """(what memory answers for `path`, or None; the key to read or render it by)."""
        ready = self.hot.get(path)
        if ready is not None:
            return ready, ()
        key = self._key(path)
        if isinstance(key, Missing):
            return key, ()
        with self._lock:
            ready = self._lru.get(key)
            if ready is not None:
                self._lru.move_to_end(key)
        return ready, key

    def _key(self, path: str) -> tuple[object, ...] | Missing:
        """What identifies the document at `path` now, or why there is none. Whether a
        numbered document exists is decided from counts kept here, so a request past the
        end is a 404 before anything is read or rendered (issue 11)."""
        # The feeds, the home page, the assets and the 404 page are hot or not at all.
        scope, target = layout.split(layout.parse(path, self.sites.prefixed))
        site = self.sites.of(scope)
        if site is None:
            return Missing.NOT_FOUND
        match target:
            case layout.ReleasePage(rid):
                key = scoped(rid, scope)
                token = self.tokens.get(key)
                if token is None:
                    return Missing.GONE if key in self.withdrawn else Missing.NOT_FOUND
                return ("release", key, token)
            case layout.ArchiveFeed(n, filename):
                if n > self.archive_count.get(scope, 0):
                    return Missing.NOT_FOUND
                version = self.archive_versions.get((scope, n), 0)
                return ("archive", scope, n, filename, version)
            case layout.IndexPage(n):
                if n > site.index_page_count(self.visible.get(scope, 0)):
                    return Missing.NOT_FOUND
                return ("index", scope, n, self.generation)
            case layout.SectionPage(slug):
                if slug not in self.sections.get(scope, {}):
                    return Missing.NOT_FOUND
                return ("section", scope, slug, self.generation)
            case layout.NewsSitemap():
                return ("news", self._news_version(), self.generation)
            case layout.TagPage(slug) | layout.TagFeed(slug, _):
                if slug not in self.tags.get(scope, {}):
                    return Missing.NOT_FOUND
                name = target.filename if isinstance(target, layout.TagFeed) else ""
                return ("tag", scope, slug, name, self.tag_versions.get((scope, slug), 0))
            case layout.TagsPage() | layout.FeedsPage() | layout.Opml():
                return ("directory", scope, layout.path(target), self.generation)
            case layout.Sitemap(part):
                urls = self.sites.sitemap_urls(
                    [self.visible.get(s.scope, 0) for s in self.sites.all],
                    [len(self.sections.get(s.scope, {})) for s in self.sites.all],
                )
                if part is not None and part > sitemap_parts(urls):
                    return Missing.NOT_FOUND
                return ("sitemap", layout.sitemap(part), self.generation)
        return Missing.NOT_FOUND

    def _render(self, key: tuple[object, ...]) -> Document | None:
        kind = key[0]
        if kind == "release":
            stored = self.store.get(str(key[1]))
            if stored is None or stored.withdrawn_at is not None or stored.seq is None:
                return None
            site = self.sites.of(stored.scope)
            return None if site is None else site.release_page(stored)
        if kind == "news":
            made = self.sites.news_sitemap()
            self._news_expires = made.expires
            return made.document
        if kind == "sitemap":
            return next(self.sites.sitemaps(only=str(key[1])), None)
        site = self.sites.of(key[1])  # type: ignore[arg-type]
        if site is None:
            return None
        if kind == "archive":
            n, name = int(key[2]), str(key[3])  # type: ignore[call-overload]
            docs = site.archive_documents([n])
            want = site.prefix + layout.archive_feed(n, name)
            return next((d for d in docs if d.path == want), None)
        if kind == "index":
            return site.index_page(int(key[2]))  # type: ignore[call-overload]
        if kind == "section":
            slug = str(key[2])
            return site.section_page(slug, self.sections.get(site.scope, {}).get(slug, slug))
        if kind == "tag":
            return self._render_tag(site, str(key[2]), str(key[3]))
        if kind == "directory":
            return {
                layout.tags(): site.tags_page,
                layout.feeds_page(): site.directory.page,
                layout.opml(): site.directory.opml,
            }[str(key[2])]()
        return None

    def _render_tag(self, site: Site, slug: str, filename: str) -> Document | None:
        name = self.tags.get(site.scope, {}).get(slug, slug)
        if filename == "":
            return site.tag_page(slug, name)
        want = site.prefix + layout.tag_feed(slug, filename)
        return next((d for d in site.tag_feeds(slug, name) if d.path == want), None)

    def _news_version(self) -> int:
        """Moves when the served news sitemap's oldest release has turned two days old."""
        expires = self._news_expires
        if expires is not None and self.sites.clock.now() >= expires:
            self._news_expires = None
            self._news_epoch += 1
        return self._news_epoch

    def _remember(self, key: tuple[object, ...], ready: Ready) -> None:
        size = ready.size
        with self._lock:
            if key in self._lru:
                return
            self._lru[key] = ready
            self._lru_bytes += size
            while self._lru_bytes > self._memory_bytes and self._lru:
                _, old = self._lru.popitem(last=False)
                self._lru_bytes -= old.size

    def _disk_path(self, key: tuple[object, ...]) -> Path:
        """Documents of one change generation (index, section pages, sitemaps) share a
        folder that the next change removes whole; release and archive pages are removed
        one by one when their version moves."""
        name = hashlib.blake2b(repr(key).encode(), digest_size=16).hexdigest()
        if key[0] in _PER_GENERATION:
            return self.disk / f"g{key[-1]}" / name
        return self.disk / name[:2] / name

    def _from_disk(self, key: tuple[object, ...]) -> Ready | None:
        try:
            data = self._disk_path(key).read_bytes()
        except FileNotFoundError:
            return None
        return pickle.loads(data)

    def _to_disk(self, key: tuple[object, ...], ready: Ready) -> None:
        path = self._disk_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}")
        tmp.write_bytes(pickle.dumps(ready, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(tmp, path)  # readers see the whole file or none

    def close(self) -> None:
        shutil.rmtree(self.disk, ignore_errors=True)
