"""Pictures and attachments of a release: checked, and their variants made (issue 14).

A pure core with no knowledge of releases, the store or URLs; the reader, the store and the
writers call it. Every refusal is a `MediaError` whose message names the file; the caller
adds `path:line:`.

    examine(data, name, *, max_bytes, max_pixels) -> MediaFile
        Size first (items.max_media_bytes), then `sniff` (the kind from the bytes, which the
        name's extension must agree with), then for pictures `inspect` (pixels from the
        header, refused over items.max_image_pixels before any decoding; truncation and
        corruption found by a bounded decode). MediaFile(name, kind, size, sha256, image).
    sniff(data, name) -> Kind(media_type, is_image, disposition, extension, label, short)
    inspect(data, *, max_pixels, name) -> ImageInfo(width, height, media_type, frames,
        has_alpha, orientation)                   width/height as shown (EXIF applied)
    plan(info) -> list[Recipe]                    widths for srcset, then the 1200x630 card
    size(info, recipe) -> (width, height)         without processing
    name(source_sha256, recipe) -> str            "<hash16>-800w.jpg", without processing
    render(data, recipe) -> bytes                 pure: same input, same bytes
    MediaCache(folder).get(source_sha256, recipe, load_source) -> bytes
        made once per content, on disk, atomic; `process_all(jobs, workers=)` fills it.

Pillow's globals (`Image.MAX_IMAGE_PIXELS`, `ImageFile.LOAD_TRUNCATED_IMAGES`) are not
touched: limits are arguments.
"""

from feedsvc.media.cache import Job, MediaCache
from feedsvc.media.errors import MediaError
from feedsvc.media.files import MediaFile, examine
from feedsvc.media.images import ImageInfo, inspect
from feedsvc.media.kinds import Kind, sniff
from feedsvc.media.variants import Recipe, name, plan, render, size

__all__ = [
    "ImageInfo",
    "Job",
    "Kind",
    "MediaCache",
    "MediaError",
    "MediaFile",
    "Recipe",
    "examine",
    "inspect",
    "name",
    "plan",
    "render",
    "size",
    "sniff",
]
