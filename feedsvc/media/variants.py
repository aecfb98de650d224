"""Derivatives of a picture: a pure function of (bytes, recipe), named before they exist.

`plan(info)` says which variants a picture gets, `size(info, recipe)` how large each will be
and `name(sha256, recipe)` its file name, all without touching the pixels, so pages and feeds
can link a variant before it is made; `render(data, recipe)` makes it. Same bytes and recipe,
same output bytes, on every instance with the same Pillow build (issue 14, "Cost").

Speed and memory: a JPEG is decoded at the smallest DCT scale (1/2, 1/4, 1/8) that still
leaves 1.25x the target (`Image.draft`), so a 100 MP photo's variants need ~125 MB, not ~900.

Choices: widths from a fixed ladder never wider than the picture (its own width is the top
rung when it is narrower than 2400); JPEG progressive, optimized, quality 82, 4:2:0 for
opaque pictures, PNG for pictures with transparency; an animated GIF or WebP gives its first
frame; the social card is 1200×630, a centre crop, always JPEG (transparency on white).
Colour: an ICC profile is kept when it fits the output (RGB or grey); a CMYK picture is
converted to sRGB through its own profile (and gets the sRGB profile), or naively without one.
Everything else the file said (EXIF with GPS and camera, XMP, IPTC, comments) is dropped.
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageCms, ImageOps

from feedsvc.media.errors import MediaError
from feedsvc.media.images import ImageInfo, open_image, orientation_of

LADDER = (480, 800, 1200, 1600, 2400)
CARD_SIZE = (1200, 630)  # og:image / summary_large_image, 1.91:1
JPEG_QUALITY = 82
DRAFT_MARGIN = 1.25
RECIPE_VERSION = 1  # bump when the same recipe would make other bytes: new names, new files
_SHA256 = re.compile(r"[0-9a-f]{64}")
_LANCZOS = Image.Resampling.LANCZOS


@dataclass(frozen=True, slots=True)
class Recipe:
    kind: Literal["width", "card"]
    width: int
    format: Literal["jpeg", "png"]
    quality: int = JPEG_QUALITY  # 0 for PNG: it has none
    version: int = RECIPE_VERSION

    @property
    def extension(self) -> str:
        return "jpg" if self.format == "jpeg" else "png"

    @property
    def media_type(self) -> str:
        return f"image/{self.format}"


def plan(info: ImageInfo) -> list[Recipe]:
    """The variants a picture gets: its widths for `srcset`, then the social card."""
    fmt: Literal["jpeg", "png"] = "png" if info.has_alpha else "jpeg"
    quality = 0 if fmt == "png" else JPEG_QUALITY
    widths = [w for w in LADDER if w < info.width]
    if info.width <= LADDER[-1]:
        widths.append(info.width)
    recipes = [Recipe("width", w, fmt, quality) for w in widths]
    return [*recipes, Recipe("card", CARD_SIZE[0], "jpeg")]


def size(info: ImageInfo, recipe: Recipe) -> tuple[int, int]:
    """The variant's width and height, for `width`/`height` and `og:image:*`."""
    if recipe.kind == "card":
        return CARD_SIZE
    return recipe.width, max(1, round(info.height * recipe.width / info.width))


def name(source_sha256: str, recipe: Recipe) -> str:
    """`<hash16>-800w.jpg` / `<hash16>-card.jpg`: the hash covers the source and the whole
    recipe, so a new recipe is a new file (served `Cache-Control: immutable`)."""
    if not _SHA256.fullmatch(source_sha256):
        raise ValueError(f"not a lowercase SHA-256 hex digest: {source_sha256!r}")
    key = f"{source_sha256}:{recipe.kind}:{recipe.width}:{recipe.format}:{recipe.quality}:{recipe.version}"  # noqa: E501
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    label = "card" if recipe.kind == "card" else f"{recipe.width}w"
    return f"{digest}-{label}.{recipe.extension}"


def render(data: bytes, recipe: Recipe) -> bytes:
    """The variant's bytes. `data` must have passed `images.inspect` (limits are checked
    there); an unreadable picture raises `MediaError`."""
    image = open_image(data)
    turned = orientation_of(image) in (5, 6, 7, 8)
    shown_w, shown_h = (image.height, image.width) if turned else image.size
    if recipe.kind == "card":
        target = CARD_SIZE
        scale = max(target[0] / shown_w, target[1] / shown_h)
    else:
        target = (recipe.width, max(1, round(shown_h * recipe.width / shown_w)))
        scale = target[0] / shown_w
    if image.format == "JPEG":
        # Decode at the smallest DCT scale (1/2, 1/4, 1/8) still DRAFT_MARGIN x the target:
        # at exactly 1x the DCT's scaling would be the only filter (1/8 is a plain 8x8
        # average, which aliases fine detail); the margin leaves LANCZOS pixels to filter.
        # For a 6000-wide photo the ladder still decodes at 1/8, 1/4, 1/4, 1/2, 1/2.
        need = (int(shown_w * scale * DRAFT_MARGIN), int(shown_h * scale * DRAFT_MARGIN))
        image.draft(image.mode, (need[1], need[0]) if turned else need)
    try:
        image.load()
    except (OSError, SyntaxError, ValueError) as error:
        raise MediaError(f"is truncated or corrupt ({error})") from None
    icc = image.info.get("icc_profile") or None
    ImageOps.exif_transpose(image, in_place=True)  # no copy when there is nothing to turn
    image, icc = _colour(image, icc)
    if recipe.format == "jpeg" and image.mode not in ("RGB", "L"):
        image = _on_white(image)
    shown_w, shown_h = image.size  # the draft's size now
    box = (0.0, 0.0, float(shown_w), float(shown_h))
    if recipe.kind == "card":
        scale = max(target[0] / shown_w, target[1] / shown_h)
        crop_w, crop_h = target[0] / scale, target[1] / scale
        left, top = (shown_w - crop_w) / 2, (shown_h - crop_h) / 2
        box = (left, top, left + crop_w, top + crop_h)
    out = image.resize(target, _LANCZOS, box=box, reducing_gap=3.0)
    out.info = {}  # resize copies info (EXIF, XMP, comment...): nothing of it is published
    return _encode(out, recipe, icc)


def _colour(image: Image.Image, icc: bytes | None) -> tuple[Image.Image, bytes | None]:
    """RGB(A) or grey, and the profile that still describes it (or None)."""
    if image.mode == "CMYK":
        if icc:
            try:
                source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
                rgb = ImageCms.profileToProfile(image, source, _SRGB, outputMode="RGB")
            except (ImageCms.PyCMSError, OSError, ValueError):
                rgb = None
            if rgb is not None:
                return rgb, SRGB_PROFILE
        return image.convert("RGB"), None
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if image.mode not in ("RGBA", "LA") and (has_alpha or image.mode not in ("RGB", "L")):
        image = image.convert("RGBA" if has_alpha else "RGB")
    space = icc[16:20] if icc and len(icc) >= 128 else b""
    fits = space == (b"GRAY" if image.mode in ("L", "LA") else b"RGB ")
    return image, icc if fits else None


def _on_white(image: Image.Image) -> Image.Image:
    rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB")


def _encode(image: Image.Image, recipe: Recipe, icc: bytes | None) -> bytes:
    buffer = io.BytesIO()
    extra = {"icc_profile": icc} if icc else {}
    if recipe.format == "jpeg":
        image.save(
            buffer,
            "JPEG",
            quality=recipe.quality,
            optimize=True,
            progressive=True,
            subsampling="4:2:0",
            **extra,
        )
    else:
        image.save(buffer, "PNG", compress_level=6, **extra)
    return buffer.getvalue()


def _fixed_date(profile: bytes) -> bytes:
    """lcms stamps a profile with the time it was made (ICC.1 7.2.8); a fixed date keeps
    the variants identical across processes and instances."""
    return profile[:24] + struct.pack(">6H", 2000, 1, 1, 0, 0, 0) + profile[36:]


_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
SRGB_PROFILE = _fixed_date(_SRGB.tobytes())
