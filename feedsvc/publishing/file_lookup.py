"""Which file releases/<id>/<name> is, now (issue 14): decided beside the documents, from
the same facts (`DocumentCache.tokens` and `withdrawn`), so a release's files are visible,
gone or unknown exactly when its page is.

The answer names a file on disk that stays as it is (a variant or an attachment's copy in
the media cache) and what HTTP says of it; web/files.py sends it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from email.utils import format_datetime
from pathlib import Path

from feedsvc import layout
from feedsvc.model import StoredRelease, scoped
from feedsvc.publishing.cache import DocumentCache
from feedsvc.publishing.media import Found, ReleaseMedia, SourceChanged, disposition
from feedsvc.publishing.ready import Missing

log = logging.getLogger("feedsvc")

_REMEMBERED = 256  # releases kept between requests, with the page version they had


@dataclass(frozen=True, slots=True)
class ServedFile:
    """A release's file, with everything HTTP says of it."""

    path: Path  # stays as it is while it is sent (content-addressed, never rewritten)
    name: str
    media_type: str
    etag: str  # strong, quoted
    last_modified: str  # IMF-fixdate: the release's `updated`
    modified: float  # POSIX seconds, for If-Modified-Since
    immutable: bool  # a content-addressed variant
    download: bool  # Content-Disposition: attachment
    max_age: int  # for a stable name: the documents' usual policy
    # An embargoed release's file shown to a preview's token (issue 17 item 6): no cache
    # keeps it, whatever its name.
    private: bool = False


class FileLookup:
    def __init__(self, documents: DocumentCache, media: ReleaseMedia) -> None:
        self.documents = documents
        self.media = media
        self._releases: OrderedDict[tuple[str, str], StoredRelease] = OrderedDict()
        self._lock = threading.Lock()
        self._reported: set[tuple[str, str]] = set()  # (source, sha256) logged as changed

    def get(self, target: layout.ReleaseFile, scope: str | None = None) -> ServedFile | Missing:
        """The file, or why there is none; `scope`: the language it is asked under (issue
        15: a translation's files are its own). May read the store and make a variant: call
        it off the event loop."""
        key = scoped(target.id, scope)
        token = self.documents.tokens.get(key)
        if token is None:  # embargoed, unknown, or withdrawn: as its page is
            return Missing.GONE if key in self.documents.withdrawn else Missing.NOT_FOUND
        stored = self._release(key, token)
        found = None if stored is None else self.media.find(stored.release, target.name)
        if stored is None or found is None:
            return Missing.NOT_FOUND
        try:
            path = self.media.file_of(found)
        except SourceChanged as error:
            self._report(found, error)
            return Missing.NOT_FOUND  # until the rescan reads the new file
        return _served(found, path, stored.updated, self.documents.max_age, target.name)

    def preview(self, target: layout.ReleaseFile, stored: StoredRelease) -> ServedFile | Missing:
        """A file of an embargoed release whose preview token web/preview.py has checked
        (issue 17 item 6); its public URL stays 404 (`get`). Call it off the event loop."""
        found = self.media.find(stored.release, target.name)
        if found is None:
            return Missing.NOT_FOUND
        try:
            path = self.media.file_of(found)
        except SourceChanged as error:
            self._report(found, error)
            return Missing.NOT_FOUND
        served = _served(found, path, stored.updated, 0, target.name)
        return dataclasses.replace(served, immutable=False, private=True)

    def _release(self, release_key: str, token: str) -> StoredRelease | None:
        """The release as its page shows it: read once per page version, not per request."""
        key = (release_key, token)
        with self._lock:
            stored = self._releases.get(key)
            if stored is not None:
                self._releases.move_to_end(key)
                return stored
        stored = self.documents.store.get(release_key)
        if stored is None or stored.withdrawn_at is not None or stored.seq is None:
            return None
        with self._lock:
            self._releases[key] = stored
            while len(self._releases) > _REMEMBERED:
                self._releases.popitem(last=False)
        return stored

    def _report(self, found: Found, error: SourceChanged) -> None:
        """Once per file version: a client asking again and again is no news."""
        key = (found.ref.source, found.ref.sha256)
        if key not in self._reported:
            self._reported.add(key)
            log.warning("%s: not served until the next scan reads it again", error)


def etag_of(found: Found) -> str:
    """Strong (RFC 9110 8.8.3): the served bytes are a function of the source's SHA-256
    and the variant, so this names them without hashing them again."""
    identity = f"{found.ref.sha256} {found.variant.name}".encode()
    return '"' + hashlib.sha256(identity).hexdigest()[:32] + '"'


def _served(found: Found, path: Path, updated: dt.datetime, max_age: int, asked: str) -> ServedFile:
    return ServedFile(
        path=path,
        name=found.variant.name,
        media_type=found.variant.media_type,
        etag=etag_of(found),
        last_modified=format_datetime(updated.astimezone(dt.UTC), usegmt=True),
        modified=int(updated.timestamp()),
        # A picture's own name serves its widest variant, but is no content address.
        immutable=found.variant.immutable and asked == found.variant.name,
        download=disposition(found.variant.media_type) == "attachment",
        max_age=max_age,
    )
