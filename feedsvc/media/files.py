"""One file named by a release, checked in the order issue 14 asks: size, kind, pixels."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from feedsvc.media.images import ImageInfo, check_size, inspect
from feedsvc.media.kinds import Kind, sniff


@dataclass(frozen=True, slots=True)
class MediaFile:
    name: str
    kind: Kind
    size: int  # bytes: RSS enclosure length, JSON Feed size_in_bytes
    sha256: str  # hex: the file's identity and its variants' names
    image: ImageInfo | None  # None for documents and media


def examine(data: bytes, name: str, *, max_bytes: int, max_pixels: int) -> MediaFile:
    """The file as it may be published, or `MediaError` saying why not."""
    check_size(data, name, max_bytes=max_bytes)
    kind = sniff(data, name)
    image = inspect(data, max_pixels=max_pixels, name=name) if kind.is_image else None
    return MediaFile(name, kind, len(data), hashlib.sha256(data).hexdigest(), image)
