"""A release's files as the site shows them (issue 14): one place that says which files a
release has at releases/<id>/<name>, what each is, and where its bytes come from.

A release names its files (`Release.media`, checked when read). What the site serves under
the release's folder:

- an attachment (PDF, office document, audio, video) at its own name, its bytes as read;
- a picture at its own name (a stable URL for whoever links it): its widest width variant,
  re-encoded, never the file as read (which may carry GPS and camera data);
- each variant of a picture (`feedsvc.media.plan`: widths for srcset, the social card) at a
  content-addressed name, which never changes meaning (served `immutable`).

Pages and feeds ask for names, sizes and types (`variants`, `widest`, `card`) without any
pixel being touched; the bytes are made once per content by the `MediaCache` (`bytes_of`,
`file_of`), from the file under items/ whose SHA-256 must still be the one read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from feedsvc.media import ImageInfo, MediaCache, MediaError, Recipe, name, plan, size
from feedsvc.model import MediaRef, Release

# Whatever is not a picture, PDF, audio or video is sent as a download (issue 14).
_INLINE_PREFIXES = ("image/", "audio/", "video/")
_INLINE_TYPES = ("application/pdf",)
FEED_WIDTH = 1200  # px: a picture as feeds carry it (for_feeds)


@dataclass(frozen=True, slots=True)
class Variant:
    """One file at releases/<id>/<name>: a picture's variant, or an attachment itself
    (`recipe` None)."""

    name: str
    media_type: str
    recipe: Recipe | None
    width: int | None = None
    height: int | None = None

    @property
    def immutable(self) -> bool:
        """Content-addressed: the name changes when the bytes do."""
        return self.recipe is not None


@dataclass(frozen=True, slots=True)
class Found:
    ref: MediaRef
    variant: Variant


class SourceChanged(Exception):
    """The file under items/ is no longer the one read (a rescan will follow)."""


class ReleaseMedia:
    def __init__(self, items_dir: Path, cache: MediaCache) -> None:
        self.items_dir = Path(items_dir)
        self.cache = cache

    # -- what there is, without touching a pixel -----------------------------------------

    @staticmethod
    def variants(ref: MediaRef) -> list[Variant]:
        """A picture's variants (widths ascending, then the social card); an attachment's
        one file."""
        if not ref.is_image:
            return [Variant(ref.name, ref.media_type, None)]
        info = _info(ref)
        return [Variant(name(ref.sha256, r), r.media_type, r, *size(info, r)) for r in plan(info)]

    def widths(self, ref: MediaRef) -> list[Variant]:
        """A picture's widths for srcset, narrowest first."""
        return [v for v in self.variants(ref) if v.recipe is not None and v.recipe.kind == "width"]

    def widest(self, ref: MediaRef) -> Variant:
        """What a picture's own name serves, and its `src`."""
        return self.widths(ref)[-1]

    def for_feeds(self, ref: MediaRef) -> Variant:
        """The width the feeds carry of a picture, with its exact length: the widest up to
        FEED_WIDTH, what readers show (the widest of a camera photo is 7x the bytes, and
        3x the time to make when its release arrives)."""
        widths = self.widths(ref)
        fitting = [v for v in widths if v.width is not None and v.width <= FEED_WIDTH]
        return fitting[-1] if fitting else widths[0]

    def card(self, ref: MediaRef) -> Variant:
        """The 1200x630 social card (og:image, twitter:image)."""
        return next(v for v in self.variants(ref) if v.recipe and v.recipe.kind == "card")

    def find(self, release: Release, file_name: str) -> Found | None:
        """What releases/<id>/<file_name> is, if anything."""
        for ref in release.media:
            if not ref.is_image:
                if ref.name == file_name:
                    return Found(ref, self.variants(ref)[0])
                continue
            if ref.name == file_name:
                return Found(ref, self.widest(ref))
            for variant in self.variants(ref):
                if variant.name == file_name:
                    return Found(ref, variant)
        return None

    def prepare(self, refs: Iterable[MediaRef], workers: int) -> int:
        """Make each picture's variant for the feeds (`for_feeds`: the one whose exact length
        they give), `workers` side by side, so a change with five photos does not render its
        feeds one photo after another (issue 14: visible in the feeds within 2 s). Threads:
        Pillow decodes, resizes and encodes without the GIL. A picture that cannot be made
        is left to the render, which says why. The number made."""
        todo = [
            (ref, variant)
            for ref in refs
            if ref.is_image
            and (variant := self.for_feeds(ref)).recipe is not None
            and not self.cache.has(ref.sha256, variant.recipe)
        ]
        if len(todo) <= 1 or workers <= 1:
            return sum(self._made(Found(ref, variant)) for ref, variant in todo)
        with ThreadPoolExecutor(min(workers, len(todo))) as pool:
            return sum(pool.map(lambda job: self._made(Found(*job)), todo))

    def _made(self, found: Found) -> int:
        try:
            self.bytes_of(found)
        except (SourceChanged, MediaError, ValueError, OSError):
            return 0
        return 1

    # -- bytes ---------------------------------------------------------------------------

    def bytes_of(self, found: Found) -> bytes:
        """The file's bytes: an attachment as read, a picture's variant made once."""
        recipe = found.variant.recipe
        if recipe is None:
            return self._source(found.ref)
        return self.cache.get(found.ref.sha256, recipe, lambda: self._source(found.ref))

    def file_of(self, found: Found) -> Path:
        """A file on disk holding exactly `bytes_of(found)`, which stays as it is (for
        streaming and hard links): a variant in the cache, an attachment copied into the
        cache under its SHA-256 (the file under items/ may be replaced while it is read)."""
        recipe = found.variant.recipe
        if recipe is not None:
            self.bytes_of(found)
            return self.cache.path(found.ref.sha256, recipe)
        return self._original(found.ref)

    def _original(self, ref: MediaRef) -> Path:
        """An attachment copied into the cache in chunks, checked as it is copied (a 50 MB
        video is never held in memory)."""
        try:
            return self.cache.original(ref.sha256, lambda: (self.items_dir / ref.source).open("rb"))
        except FileNotFoundError as error:
            raise SourceChanged(f"{ref.source} is gone") from error
        except ValueError as error:
            raise SourceChanged(f"{ref.source} changed since it was read") from error

    def _source(self, ref: MediaRef) -> bytes:
        try:
            data = (self.items_dir / ref.source).read_bytes()
        except FileNotFoundError as error:
            raise SourceChanged(f"{ref.source} is gone") from error
        if hashlib.sha256(data).hexdigest() != ref.sha256:
            raise SourceChanged(f"{ref.source} changed since it was read")
        return data


def disposition(media_type: str) -> str:
    """'inline' for pictures, PDF, audio and video; 'attachment' (a download) otherwise."""
    inline = media_type.startswith(_INLINE_PREFIXES) or media_type in _INLINE_TYPES
    return "inline" if inline else "attachment"


def _info(ref: MediaRef) -> ImageInfo:
    if ref.width is None or ref.height is None:
        raise ValueError(f"{ref.name} is not a picture")
    return ImageInfo(ref.width, ref.height, ref.media_type, 1, ref.has_alpha)
