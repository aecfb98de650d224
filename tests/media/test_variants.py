"""render: pixels re-encoded without what the camera said; plan, size and name (issue 14)."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from PIL import Image, ImageCms, ImageStat

from feedsvc.media import ImageInfo, Recipe, examine, name, plan, render, size
from feedsvc.media.variants import SRGB_PROFILE
from tests.media.pictures import XMP, XMP_GPS, camera_exif, cmyk_profile, encode, photo

LIMITS = {"max_bytes": 50 << 20, "max_pixels": 100_000_000}
SHA = "ab" * 32


def variants(data: bytes, filename: str = "photo.jpg") -> dict[Recipe, bytes]:
    found = examine(data, filename, **LIMITS)
    assert found.image is not None
    return {recipe: render(data, recipe) for recipe in plan(found.image)}


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_no_location_or_camera_reaches_a_variant() -> None:
    image = photo((1000, 750))
    data = encode(image, "JPEG", exif=camera_exif(image), xmp=XMP, comment=b"taken at home")
    source = opened(data)
    assert source.getexif().get_ifd(0x8825) and "xmp" in source.info and "comment" in source.info
    made = variants(data)
    assert [(r.kind, r.width) for r in made] == [
        ("width", 480),
        ("width", 800),
        ("width", 1000),
        ("card", 1200),
    ]
    for recipe, out in made.items():
        image = opened(out)
        assert image.size == size(examine(data, "p.jpg", **LIMITS).image, recipe)  # type: ignore[arg-type]
        assert not image.getexif(), recipe
        assert not {"exif", "xmp", "comment", "photoshop", "icc_profile"} & set(image.info), recipe
        for leak in (
            b"Exif",
            b"Canon",
            b"EOS R5",
            XMP_GPS,
            b"http://ns.adobe.com",
            b"taken at home",
        ):
            assert leak not in out, (recipe, leak)


def test_the_orientation_flag_is_applied() -> None:
    """Stored 400x200 with a green top-left corner, orientation 6 (turn 90° clockwise to
    show): the variant is 200x400 and the green corner is at the top right."""
    image = Image.new("RGB", (400, 200), (200, 0, 0))
    image.paste((0, 200, 0), (0, 0, 100, 50))
    data = encode(image, "JPEG", quality=95, exif=camera_exif(image, orientation=6))
    recipe = Recipe("width", 200, "jpeg")
    out = opened(render(data, recipe))
    assert out.size == (200, 400)
    red, green = out.getpixel((20, 20)), out.getpixel((180, 20))
    assert red[0] > 150 > red[1] and green[1] > 150 > green[0], (red, green)
    assert out.getpixel((180, 380))[0] > 150  # the rest stays red
    assert 0x0112 not in out.getexif()


def patch(image: Image.Image) -> tuple[float, ...]:
    """The mean colour of a 21x21 patch around (100, 100): the photo's noise is random, and
    one pixel of it resampled two ways may differ by more than a colour fault would."""
    return tuple(ImageStat.Stat(image.crop((90, 90, 111, 111))).mean)


@pytest.mark.parametrize("with_profile", [True, False])
def test_a_cmyk_jpeg_becomes_rgb_through_its_profile(with_profile: bool) -> None:
    image = photo((640, 480), "CMYK")
    profile = cmyk_profile()
    data = encode(image, "JPEG", quality=95, **({"icc_profile": profile} if with_profile else {}))
    out = opened(render(data, Recipe("width", 320, "jpeg")))
    assert out.mode == "RGB"
    naive = patch(image.convert("RGB").resize((320, 240)))
    got = patch(out)
    if with_profile:
        assert out.info.get("icc_profile") == SRGB_PROFILE
        expected = patch(ImageCms.profileToProfile(
            image.resize((320, 240)), ImageCms.ImageCmsProfile(io.BytesIO(profile)),
            ImageCms.createProfile("sRGB"), outputMode="RGB",
        ))  # fmt: skip
        assert all(abs(a - b) <= 8 for a, b in zip(got, expected, strict=True)), (got, expected)
        assert any(abs(a - b) > 20 for a, b in zip(got, naive, strict=True)), (got, naive)
    else:
        assert "icc_profile" not in out.info
        assert all(abs(a - b) <= 8 for a, b in zip(got, naive, strict=True)), (got, naive)


def test_an_rgb_profile_is_kept() -> None:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()  # not RGB: dropped
    srgb = SRGB_PROFILE
    image = photo((300, 200))
    kept = opened(render(encode(image, "JPEG", icc_profile=srgb), Recipe("width", 150, "jpeg")))
    assert kept.info.get("icc_profile") == srgb
    dropped = opened(
        render(encode(image, "JPEG", icc_profile=profile), Recipe("width", 150, "jpeg"))
    )
    assert "icc_profile" not in dropped.info


def test_a_png_with_transparency_stays_png_with_alpha() -> None:
    image = photo((900, 600)).convert("RGBA")
    image.paste((0, 0, 0, 0), (0, 0, 300, 600))
    made = variants(encode(image, "PNG"), "logo.png")
    widths = [(r, out) for r, out in made.items() if r.kind == "width"]
    assert {r.format for r, _ in widths} == {"png"}
    for recipe, out in widths:
        got = opened(out)
        assert (got.format, got.mode, got.width) == ("PNG", "RGBA", recipe.width)
        assert got.getpixel((2, 2))[3] == 0 and got.getpixel((got.width - 3, 2))[3] == 255
    card = opened(next(out for r, out in made.items() if r.kind == "card"))
    assert (card.format, card.mode, card.size) == ("JPEG", "RGB", (1200, 630))


def test_an_animated_gif_gives_its_first_frame() -> None:
    first = Image.new("RGB", (200, 100), (255, 0, 0))
    second = Image.new("RGB", (200, 100), (0, 0, 255))
    data = encode(first, "GIF", save_all=True, append_images=[second], duration=200, loop=0)
    out = opened(render(data, Recipe("width", 100, "jpeg")))
    assert out.format == "JPEG" and out.size == (100, 50)
    r, _, b = out.getpixel((50, 25))
    assert r > 200 and b < 50


def test_a_webp_becomes_jpeg_variants() -> None:
    made = variants(encode(photo((1000, 500)), "WEBP", quality=90), "photo.webp")
    assert {opened(out).format for out in made.values()} == {"JPEG"}
    assert opened(made[Recipe("width", 480, "jpeg")]).size == (480, 240)


def test_the_card_is_a_centre_crop() -> None:
    image = Image.new("RGB", (3000, 1000), (255, 0, 0))
    image.paste((0, 0, 255), (1000, 0, 2000, 1000))  # a blue centre third, 1000 wide
    card = opened(render(encode(image, "JPEG", quality=95), Recipe("card", 1200, "jpeg")))
    assert card.size == (1200, 630)
    # 1.91:1 crop of a 3:1 picture keeps x 545..2455 of 3000: blue from about 27% to 73%
    assert card.getpixel((600, 315))[2] > 200 and card.getpixel((20, 315))[0] > 200
    assert card.getpixel((400, 315))[2] > 200 and card.getpixel((260, 315))[0] > 200


def test_rendering_is_deterministic_within_and_across_processes() -> None:
    image = photo((1300, 900))
    data = encode(image, "JPEG", exif=camera_exif(image, orientation=3))
    recipe = Recipe("width", 800, "jpeg")
    once = render(data, recipe)
    assert render(data, recipe) == once
    code = (
        # a second later: anything stamped with the time (an ICC profile's date) would differ
        "import sys, time; time.sleep(1.1); from feedsvc.media import Recipe, render; "
        "sys.stdout.buffer.write(render(sys.stdin.buffer.read(), Recipe('width', 800, 'jpeg')))"
    )
    other = subprocess.run(
        [sys.executable, "-c", code], input=data, capture_output=True, check=True
    )
    assert other.stdout == once
    cmyk = encode(photo((400, 300), "CMYK"), "JPEG", icc_profile=cmyk_profile())
    other = subprocess.run(
        [sys.executable, "-c", code.replace("800", "200")],
        input=cmyk,
        capture_output=True,
        check=True,
    )
    assert other.stdout == render(cmyk, Recipe("width", 200, "jpeg"))


def test_a_jpeg_decodes_at_the_smallest_scale_still_wide_enough() -> None:
    """Draft decoding may only pick a DCT scale that leaves LANCZOS enough pixels: each width
    stays about as close to a full decode + LANCZOS as JPEG's own loss."""
    image = photo((4000, 3000))
    for x in range(0, 4000, 40):  # sharp stripes: a too small decode would blur them away
        image.paste((255, 255, 255), (x, 0, x + 20, 3000))
    data = encode(image, "JPEG", quality=92)
    for width in (480, 1200, 2400):
        height = width * 3 // 4
        made = opened(render(data, Recipe("width", width, "jpeg"))).convert("L").tobytes()
        full = image.resize((width, height), Image.Resampling.LANCZOS).convert("L").tobytes()
        diff = sum(abs(a - b) for a, b in zip(made, full, strict=True)) / (width * height)
        assert diff < 3, (width, diff)  # JPEG at q82 alone is about 2 here


def test_plan_never_widens_a_picture() -> None:
    def widths(w: int, h: int, alpha: bool = False) -> list[tuple[str, int, str]]:
        return [(r.kind, r.width, r.format) for r in plan(ImageInfo(w, h, "image/jpeg", 1, alpha))]

    assert widths(6000, 4000) == [("width", w, "jpeg") for w in (480, 800, 1200, 1600, 2400)] + [
        ("card", 1200, "jpeg")
    ]
    assert widths(800, 600) == [
        ("width", 480, "jpeg"),
        ("width", 800, "jpeg"),
        ("card", 1200, "jpeg"),
    ]
    assert widths(300, 200, alpha=True) == [("width", 300, "png"), ("card", 1200, "jpeg")]
    assert size(ImageInfo(6000, 4000, "image/jpeg", 1, False), Recipe("width", 800, "jpeg")) == (
        800,
        533,
    )


def test_names_are_content_addressed_and_known_before_processing() -> None:
    jpeg = Recipe("width", 800, "jpeg")
    assert name(SHA, jpeg).endswith("-800w.jpg") and len(name(SHA, jpeg)) == len(
        "0123456789abcdef-800w.jpg"
    )
    assert name(SHA, Recipe("card", 1200, "jpeg")).endswith("-card.jpg")
    assert name(SHA, jpeg) != name("cd" * 32, jpeg)
    assert name(SHA, jpeg) != name(SHA, Recipe("width", 800, "jpeg", quality=70))
    assert name(SHA, jpeg) != name(SHA, Recipe("width", 800, "jpeg", version=2))
    with pytest.raises(ValueError):
        name("../../etc/passwd", jpeg)
