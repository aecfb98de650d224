"""examine/inspect: size first, pixels from the header, truncation found (issue 14)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from PIL import Image, ImageFile

from feedsvc.media import MediaError, examine, inspect
from tests.media.pictures import camera_exif, encode, photo, png_bomb

LIMITS = {"max_bytes": 50 << 20, "max_pixels": 100_000_000}


def test_a_photo_is_measured_as_shown() -> None:
    image = photo((400, 300))
    data = encode(image, "JPEG", exif=camera_exif(image, orientation=6))
    found = examine(data, "minister.jpg", **LIMITS)
    assert found.image is not None
    assert (found.image.width, found.image.height, found.image.orientation) == (300, 400, 6)
    assert (found.kind.media_type, found.size, found.image.frames) == ("image/jpeg", len(data), 1)


def test_size_is_checked_first_for_every_file() -> None:
    # HTML named .pdf and over the limit: the size is what is said, before the bytes are read.
    with pytest.raises(MediaError, match=r"^report.pdf is 1,001 bytes, over the limit of 1,000"):
        examine(b"<html>" + b" " * 995, "report.pdf", max_bytes=1000, max_pixels=10)


def test_a_picture_over_the_pixel_limit_is_refused_with_its_pixel_count() -> None:
    data = png_bomb(5000, 4000)
    assert len(data) < 10_000
    with pytest.raises(MediaError) as caught:
        examine(data, "bomb.png", max_bytes=1 << 20, max_pixels=10_000_000)
    assert caught.value.message == (
        "bomb.png is 5000×4000 = 20,000,000 pixels, over the limit of 10,000,000; "
        "it was not decoded"
    )


def test_a_huge_bomb_is_refused_too() -> None:
    """40000x40000 in a tiny file: over Pillow's own fence as well; the count is named."""
    data = png_bomb(40000, 40000)
    assert len(data) < 300_000
    with pytest.raises(
        MediaError,
        match=r"^bomb.png is 1,600,000,000 pixels, over the limit of 100,000,000; it was not decoded",
    ):
        examine(data, "bomb.png", **LIMITS)


def test_a_bomb_takes_no_memory() -> None:
    """Peak RSS of a fresh interpreter refusing a 15000x6000 PNG bomb (90 MP, decoded 90 MB
    as grey, 270 MB as RGB), beside the same interpreter doing nothing."""
    script = textwrap.dedent(
        """
        import re, sys
        from feedsvc.media import MediaError, examine
        from tests.media.pictures import png_bomb
        data = png_bomb(15000, 6000)
        if sys.argv[1] == "refuse":
            try:
                examine(data, "bomb.png", max_bytes=1 << 24, max_pixels=50_000_000)
            except MediaError:
                pass
            else:
                sys.exit("not refused")
        status = open("/proc/self/status").read()
        print(int(re.search(r"VmHWM:\\s+(\\d+)", status)[1]) // 1024)
        """
    )

    def peak(mode: str) -> int:
        run = [sys.executable, "-c", script, mode]
        return int(subprocess.run(run, capture_output=True, text=True, check=True).stdout)

    assert peak("refuse") - peak("idle") < 20  # MiB


def test_a_truncated_jpeg_is_refused() -> None:
    data = encode(photo((800, 600)), "JPEG", quality=90)
    with pytest.raises(MediaError, match=r"^cut.jpg is truncated or corrupt"):
        examine(data[: len(data) * 2 // 3], "cut.jpg", **LIMITS)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False  # a global of others: left alone


@pytest.mark.parametrize("fmt", ["PNG", "GIF", "WEBP"])
def test_truncated_pictures_of_each_format_are_refused(fmt: str) -> None:
    data = encode(photo((300, 200)), fmt)
    with pytest.raises(MediaError, match=r"truncated or corrupt|not a readable image"):
        inspect(data[: len(data) // 2], max_pixels=10**8, name=f"cut.{fmt.lower()}")


def test_a_png_with_a_damaged_block_is_refused() -> None:
    data = bytearray(encode(photo((300, 200)), "PNG"))
    at = data.index(b"IDAT") + 200
    data[at] ^= 0xFF
    with pytest.raises(MediaError, match="truncated or corrupt"):
        inspect(bytes(data), max_pixels=10**8, name="bad.png")


def test_frames_of_an_animated_gif_are_counted_and_alpha_seen() -> None:
    frames = [photo((60, 40)).convert("P") for _ in range(5)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    assert inspect(data, max_pixels=10**6).frames == 5
    rgba = photo((60, 40)).convert("RGBA")
    rgba.putpixel((0, 0), (0, 0, 0, 0))
    assert inspect(encode(rgba, "PNG"), max_pixels=10**6).has_alpha
    assert not inspect(encode(photo((60, 40)), "PNG"), max_pixels=10**6).has_alpha


def test_pillow_globals_are_not_changed() -> None:
    before = Image.MAX_IMAGE_PIXELS
    with pytest.raises(MediaError):
        examine(png_bomb(5000, 4000), "bomb.png", max_bytes=1 << 20, max_pixels=1000)
    examine(encode(photo((64, 48)), "JPEG"), "ok.jpg", **LIMITS)
    assert before == Image.MAX_IMAGE_PIXELS
