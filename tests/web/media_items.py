"""Releases with files as a press office drops them (issue 14): bundles under items/ with
a real photo that carries GPS in its EXIF and XMP, a PDF and a Word document."""

from __future__ import annotations

import hashlib
from pathlib import Path

from feedsvc.media import name, plan
from feedsvc.media.images import ImageInfo
from tests.media.pictures import XMP, XMP_GPS, camera_exif, encode, photo
from tests.media.test_kinds import ooxml

__all__ = [
    "DOCX",
    "INFO",
    "JPEG",
    "LEAKS",
    "NARROW",
    "PDF",
    "SHA",
    "WIDEST",
    "WIDTHS",
    "XMP_GPS",
    "bundle",
]

PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    + bytes(range(256)) * 40
)
DOCX = ooxml("docx")
PICTURE = photo((1600, 1200))
JPEG = encode(PICTURE, "JPEG", exif=camera_exif(PICTURE), xmp=XMP, quality=90)
SHA = hashlib.sha256(JPEG).hexdigest()
INFO = ImageInfo(1600, 1200, "image/jpeg", 1, False)
WIDTHS = [r for r in plan(INFO) if r.kind == "width"]
WIDEST = name(SHA, WIDTHS[-1])
NARROW = name(SHA, WIDTHS[0])
LEAKS = (b"Exif", b"Canon", b"EOS R5", XMP_GPS, b"http://ns.adobe.com")


def bundle(
    folder: Path,
    rid: str,
    files: dict[str, bytes],
    extra: str = "",
    date: str = "2026-11-20T10:00:00+08:00",
) -> None:
    """items/<rid>/index.md naming photo.jpg (if given) and every other file."""
    folder.mkdir(parents=True, exist_ok=True)
    for file_name, data in files.items():
        (folder / file_name).write_bytes(data)
    lines = ["+++", f'title = "Release {rid}"', 'section = "Statements"']
    lines += [f"date = {date}", extra]
    if "photo.jpg" in files:
        lines += ["[image]", 'src = "photo.jpg"', 'alt = "The minister at the lectern"']
    for file_name in files:
        if file_name != "photo.jpg":
            lines += ["[[attachments]]", f'src = "{file_name}"', f'title = "The {file_name}"']
    lines += ["+++", "What was said.", ""]
    (folder / "index.md").write_text("\n".join(lines), encoding="utf-8")
