"""The files a release names, checked (issue 14, "Bad input"): each reference is resolved in
the release's folder, refused if it leaves items/, read (at most items.max_media_bytes and
one byte) and judged from its bytes by `feedsvc.media.examine`. Every refusal is a
ReleaseError at the line that named the file, so the release is a bad release like any
other: a new one is not published, a published one keeps its last good version.

The same file named twice is one MediaRef: the first naming wins (its role, alt, title), in
the order front matter `image`, the text, front matter `attachments`.
"""

from __future__ import annotations

import os
import posixpath
import re
import stat
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from feedsvc.errors import ReleaseError
from feedsvc.media import MediaError, MediaFile, examine
from feedsvc.model import MediaRef, is_media_name
from feedsvc.reading.file_states import MediaSeen, media_seen
from feedsvc.reading.references import Reference

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
# Files checked at once: each holds its bytes (up to items.max_media_bytes) while checked.
_CHECKERS = min(os.cpu_count() or 1, 4)


class BadMedia(ReleaseError):
    """A release refused for a file it names; says which files it named and their state,
    so a scan reads it again when one of them changes (a missing photo copied in)."""

    def __init__(self, error: ReleaseError, seen: MediaSeen) -> None:
        super().__init__(error.path, error.line, error.message)
        self.seen = seen


@dataclass(frozen=True)
class Limits:
    max_bytes: int  # items.max_media_bytes
    max_pixels: int  # items.max_image_pixels


def release_media(
    rel: str, references: Sequence[Reference], items_dir: Path, limits: Limits
) -> tuple[tuple[MediaRef, ...], MediaSeen | None]:
    """The checked files of the release file `rel` (relative to items_dir), and their state
    as it was before they were read (a change after that is seen by the next scan)."""
    if not references:
        return (), None
    folder = posixpath.dirname(rel)
    first: dict[str, Reference] = {}
    for ref in references:
        _check_name(rel, ref)
        _check_alt(rel, ref)
        first.setdefault(ref.src, ref)
    sources = tuple(posixpath.join(folder, name) for name in first)
    seen = media_seen(items_dir, sources)
    pairs = list(zip(first.values(), sources, strict=True))

    def check(pair: tuple[Reference, str]) -> MediaRef:
        return _checked(rel, pair[0], pair[1], items_dir, limits)

    try:
        if len(pairs) == 1:
            refs = (check(pairs[0]),)
        else:
            # Side by side: Pillow decodes without the GIL, and five photos dropped with a
            # release are what its publication waits for (issue 14: in the feeds within
            # 2 s). map() raises the first refusal in naming order, as one after another did.
            with ThreadPoolExecutor(min(len(pairs), _CHECKERS)) as pool:
                refs = tuple(pool.map(check, pairs))
    except ReleaseError as e:
        raise BadMedia(e, seen) from None
    return refs, seen


def _check_name(rel: str, ref: Reference) -> None:
    src = ref.src
    if is_media_name(src):
        return
    if _SCHEME.match(src):
        why = "is a URL; a release's files are in its own folder"
    elif src.startswith(("/", "\\")):
        why = "is an absolute path; name a file in the release's folder"
    elif "/" in src or "\\" in src or ".." in src:
        why = "is not in the release's folder (no subfolders, no '..')"
    else:
        why = "is not a file name this service publishes (letters, digits, '-', '_', an extension)"
    raise ReleaseError(rel, ref.line, f"{src!r} {why}")


def _check_alt(rel: str, ref: Reference) -> None:
    # A press office must describe its pictures (issue 14): alt text is required.
    if ref.role == "image" and not ref.alt:
        raise ReleaseError(
            rel, ref.line, f"picture {ref.src} has no alt text: give front-matter 'image.alt'"
        )
    if ref.role == "inline" and not ref.alt:
        raise ReleaseError(
            rel, ref.line, f"picture {ref.src} has no alt text: write ![what it shows]({ref.src})"
        )


def _checked(rel: str, ref: Reference, source: str, items_dir: Path, limits: Limits) -> MediaRef:
    found = _read(rel, ref, source, items_dir, limits)
    if ref.role in ("image", "inline") and found.image is None:
        raise ReleaseError(
            rel, ref.line, f"{ref.src} is {found.kind.label}, not a picture: link it instead"
        )
    image = found.image
    return MediaRef(
        name=ref.src,
        source=source,
        role=ref.role,
        media_type=found.kind.media_type,
        size=found.size,
        sha256=found.sha256,
        width=image.width if image else None,
        height=image.height if image else None,
        has_alpha=image.has_alpha if image else False,
        alt=ref.alt,
        caption=ref.caption,
        credit=ref.credit,
        title=ref.title,
    )


def _read(rel: str, ref: Reference, source: str, items_dir: Path, limits: Limits) -> MediaFile:
    path = items_dir / source
    root = os.path.realpath(items_dir)
    real = os.path.realpath(path)
    if os.path.commonpath((root, real)) != root:
        # A symlink out of items/ would publish whatever it points at (/etc/passwd...).
        raise ReleaseError(rel, ref.line, f"{ref.src} leads out of the items folder (a link)")
    try:
        st = os.stat(real)
    except FileNotFoundError:
        raise ReleaseError(rel, ref.line, f"{ref.src} does not exist (expected {source})") from None
    except OSError as e:
        raise ReleaseError(rel, ref.line, f"cannot read {ref.src}: {e.strerror}") from None
    if not stat.S_ISREG(st.st_mode):  # a folder, or a FIFO that would block the read
        raise ReleaseError(rel, ref.line, f"{ref.src} is not a file")
    if st.st_size > limits.max_bytes:  # said with its real size, and never read
        raise ReleaseError(
            rel,
            ref.line,
            f"{ref.src} is {st.st_size:,} bytes, over the limit of {limits.max_bytes:,} bytes "
            "(items.max_media_bytes)",
        )
    try:
        with open(real, "rb") as f:
            data = f.read(limits.max_bytes + 1)  # never more than the limit in memory
    except OSError as e:
        raise ReleaseError(rel, ref.line, f"cannot read {ref.src}: {e.strerror}") from None
    try:
        return examine(data, ref.src, max_bytes=limits.max_bytes, max_pixels=limits.max_pixels)
    except MediaError as e:
        raise ReleaseError(rel, ref.line, e.message) from None
