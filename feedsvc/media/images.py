"""Pictures checked from their headers, before anything is decoded (issue 14, "Bad input").

Limits are passed in, never set on Pillow: `Image.MAX_IMAGE_PIXELS` and
`ImageFile.LOAD_TRUNCATED_IMAGES` are globals other code shares, and are left as Pillow ships
them (Pillow's own bomb check then stays a second fence, at twice its default, ~179 MP).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from PIL import Image

from feedsvc.media.errors import MediaError

# Pillow opens only these; every other plugin (FITS, PSD, ...) stays out of reach of an upload.
FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
MEDIA_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
# Non-JPEG pictures up to this size are decoded in full to find corrupt data; larger ones are
# only verified (PNG: every chunk's CRC up to IEND), to keep memory bounded (~100 MB RGBA).
FULL_DECODE_PIXELS = 25_000_000
_TRANSPOSED = {5, 6, 7, 8}  # EXIF orientations that swap width and height


@dataclass(frozen=True, slots=True)
class ImageInfo:
    width: int  # as shown, after the EXIF orientation
    height: int
    media_type: str
    frames: int
    has_alpha: bool
    orientation: int = 1  # EXIF 0x0112, 1 when absent


_UNPROCESSED = re.compile(r" \(\d+ bytes not processed\)")


def check_size(data: bytes, name: str, *, max_bytes: int) -> None:
    """Every file's first check: the limit on bytes (items.max_media_bytes)."""
    if len(data) > max_bytes:
        raise MediaError(f"{name} is {len(data):,} bytes, over the limit of {max_bytes:,} bytes")


def open_image(data: bytes) -> Image.Image:
    """Pillow's image for `data`, header read, nothing decoded; `MediaError` if unreadable."""
    try:
        # Between Pillow's default (89 MP) and our limit Pillow warns; warnings' filters are
        # process-wide, so they are not changed here (the service may ignore that category).
        return Image.open(io.BytesIO(data), formats=FORMATS)
    except Image.DecompressionBombError as error:
        raise MediaError(f"is refused as a decompression bomb: {error}") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise MediaError(f"is not a readable image ({error})") from None


def inspect(data: bytes, *, max_pixels: int, name: str = "the image") -> ImageInfo:
    """The picture's size and shape from its header; refused over `max_pixels` before any
    decoding, and refused when truncated or corrupt."""
    try:
        image = open_image(data)
    except MediaError as error:
        # Pillow's own fence (2 x Image.MAX_IMAGE_PIXELS) refuses the largest bombs in open().
        if counted := re.search(r"\((\d+) pixels\)", error.message):
            raise MediaError(
                f"{name} is {int(counted[1]):,} pixels, over the limit of {max_pixels:,}; it was"
                " not decoded (a decompression bomb)"
            ) from None
        raise MediaError(f"{name} {error.message}") from None
    width, height = image.size
    if width * height > max_pixels:
        raise MediaError(
            f"{name} is {width}×{height} = {width * height:,} pixels, over the limit of "
            f"{max_pixels:,}; it was not decoded"
        )
    fmt = image.format or ""
    orientation = orientation_of(image)
    has_alpha = image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info
    frames = _gif_frames(data) if fmt == "GIF" else getattr(image, "n_frames", 1)
    _check_decodes(data, image, name)
    if orientation in _TRANSPOSED:
        width, height = height, width
    return ImageInfo(width, height, MEDIA_TYPES[fmt], frames, has_alpha, orientation)


def orientation_of(image: Image.Image) -> int:
    try:
        value = image.getexif().get(0x0112, 1)
    except Exception:  # a broken EXIF block is metadata we drop anyway
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _check_decodes(data: bytes, image: Image.Image, name: str) -> None:
    """Decode enough to see truncation or corruption, within bounded memory."""
    try:
        if image.format == "JPEG":
            # The whole entropy-coded stream at 1/8 scale: every byte read, 1/64 the memory.
            image.draft(image.mode, (max(1, image.width // 8), max(1, image.height // 8)))
            image.load()
        elif image.width * image.height <= FULL_DECODE_PIXELS:
            image.load()
        else:
            image.verify()
        if image.format == "PNG":
            Image.open(io.BytesIO(data), formats=("PNG",)).verify()  # CRCs and IEND
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        # Pillow's "(N bytes not processed)" depends on its buffering, not on the file.
        detail = _UNPROCESSED.sub("", str(error))
        raise MediaError(f"{name} is truncated or corrupt ({detail})") from None


def _gif_frames(data: bytes) -> int:
    """Frames of a GIF counted from its blocks (GIF89a spec), without decoding any: Pillow's
    n_frames would decode every frame to find the next."""
    flags = data[10] if len(data) > 10 else 0
    at = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    frames = 0
    while at < len(data):
        block = data[at]
        if block == 0x3B:  # trailer
            break
        if block == 0x21:  # extension: label, then sub-blocks
            at = _skip_sub_blocks(data, at + 2)
        elif block == 0x2C:  # image descriptor, optional local table, LZW size, sub-blocks
            frames += 1
            local = data[at + 9] if at + 9 < len(data) else 0
            at += 10 + (3 << ((local & 7) + 1) if local & 0x80 else 0)
            at = _skip_sub_blocks(data, at + 1)
        else:
            break
    return max(frames, 1)


def _skip_sub_blocks(data: bytes, at: int) -> int:
    while at < len(data) and data[at]:
        at += data[at] + 1
    return at + 1
