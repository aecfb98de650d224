"""Real pictures made by Pillow for the media tests, with the metadata a camera leaves."""

from __future__ import annotations

import io
import itertools
import struct
import zlib

from PIL import ExifTags, Image, ImageChops

# Where the press photo was taken: what must never reach the public files.
LATITUDE, LONGITUDE = (52.0, 31.0, 12.5), (13.0, 24.0, 3.0)
XMP_GPS = b"52,31.2083N"
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-'
    b'syntax-ns#"><rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="'
    + XMP_GPS
    + b'" exif:GPSLongitude="13,24.05E"/></rdf:RDF></x:xmpmeta>'
)


def photo(size: tuple[int, int] = (1600, 1200), mode: str = "RGB") -> Image.Image:
    """Gradients and noise, like a photo (flat colour would hide resampling faults)."""
    red = Image.linear_gradient("L").resize(size)
    green = Image.radial_gradient("L").resize(size)
    noise = Image.effect_noise(size, 30)
    image = Image.merge("RGB", (ImageChops.add(red, noise, 2.0), green, noise))
    return image if mode == "RGB" else image.convert(mode)


def camera_exif(image: Image.Image, orientation: int | None = None) -> Image.Exif:
    exif = image.getexif()
    exif[ExifTags.Base.Make], exif[ExifTags.Base.Model] = "Canon", "EOS R5"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef], gps[ExifTags.GPS.GPSLatitude] = "N", LATITUDE
    gps[ExifTags.GPS.GPSLongitudeRef], gps[ExifTags.GPS.GPSLongitude] = "E", LONGITUDE
    return exif


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def png_bomb(width: int, height: int) -> bytes:
    """A valid PNG of `width`x`height` black pixels (grey, 1 bit) in a few kB: zlib shrinks
    the rows to nothing, a decoder would expand them to width*height pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + (width + 7) // 8)
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


def cmyk_profile() -> bytes:
    """A small but real ICC v2 output profile, CMYK to Lab through a 2-point lut16 (ICC.1
    10.9): enough for lcms to convert with, and unlike the naive CMYK->RGB formula."""

    def lab16(lightness: float, a: float, b: float) -> list[int]:
        return [round(lightness * 0xFF00 / 100), round((a + 128) * 256), round((b + 128) * 256)]

    clut = []
    for c, m, y, k in itertools.product((0, 1), repeat=4):  # first channel slowest
        ink = max(c, m, y)
        lightness = 96 * (1 - 0.85 * k) * (1 - 0.45 * ink)
        clut += lab16(lightness, 70 * m - 40 * c - 10 * y, 80 * y - 50 * c - 20 * m)
    ramp = [0, 0xFFFF]
    lut = b"mft2" + b"\0" * 4 + bytes([4, 3, 2, 0])
    lut += struct.pack(">9i", 65536, 0, 0, 0, 65536, 0, 0, 0, 65536)
    lut += struct.pack(">HH", 2, 2)
    lut += struct.pack(">8H", *ramp * 4) + struct.pack(f">{len(clut)}H", *clut)
    lut += struct.pack(">6H", *ramp * 3)
    white = b"XYZ " + b"\0" * 4 + struct.pack(">3i", 63190, 65536, 54061)  # D50
    text = b"desc" + b"\0" * 4 + struct.pack(">I", 5) + b"test\0" + b"\0" * (4 + 4 + 2 + 1 + 67)
    tags = [(b"A2B0", lut), (b"wtpt", white), (b"desc", text)]
    offset, table, data = 128 + 4 + 12 * len(tags), b"", b""
    for sig, body in tags:
        body += b"\0" * (-len(body) % 4)
        table += sig + struct.pack(">II", offset + len(data), len(body))
        data += body
    size = offset + len(data)
    header = struct.pack(">I4sI4s4s4s", size, b"lcms", 0x02100000, b"prtr", b"CMYK", b"Lab ")
    header += b"\0" * 12 + b"acsp" + b"\0" * 28 + struct.pack(">3i", 63190, 65536, 54061)
    header += b"\0" * (128 - len(header))
    return header + struct.pack(">I", len(tags)) + table + data
