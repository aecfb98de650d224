"""sniff: the kind from the bytes, and the name must agree (issue 14, "Bad input")."""

from __future__ import annotations

import io
import tracemalloc
import zipfile

import pytest
from PIL import Image

from feedsvc.media import MediaError, sniff
from tests.media.pictures import encode, photo

OOXML_MAIN = {
    "docx": ("/word/document.xml", "wordprocessingml.document.main+xml"),
    "xlsx": ("/xl/workbook.xml", "spreadsheetml.sheet.main+xml"),
    "pptx": ("/ppt/presentation.xml", "presentationml.presentation.main+xml"),
}


def ooxml(ext: str) -> bytes:
    part, kind = OOXML_MAIN[ext]
    types = (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="{part}" ContentType="application/vnd.openxmlformats-'
        f'officedocument.{kind}"/></Types>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr(part.lstrip("/"), "<document/>")
    return buffer.getvalue()


def odf(kind: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", f"application/vnd.oasis.opendocument.{kind}")  # stored
        archive.writestr("content.xml", "<office:document-content/>", zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def plain_zip(**entries: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry, body in entries.items():
            archive.writestr(entry, body)
    return buffer.getvalue()


OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504
SMALL = photo((64, 48))
FILES = {
    "photo.jpg": (encode(SMALL, "JPEG"), "image/jpeg", "inline"),
    "PHOTO.JPEG": (encode(SMALL, "JPEG"), "image/jpeg", "inline"),
    "chart.png": (encode(SMALL, "PNG"), "image/png", "inline"),
    "photo.webp": (encode(SMALL, "WEBP"), "image/webp", "inline"),
    "banner.gif": (encode(SMALL, "GIF"), "image/gif", "inline"),
    "statement.pdf": (
        b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
        "application/pdf",
        "inline",
    ),
    "speech.mp3": (
        b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\0" * 400,
        "audio/mpeg",
        "inline",
    ),
    "raw.mp3": (b"\xff\xfb\x90\x64" + b"\0" * 400, "audio/mpeg", "inline"),
    "speech.m4a": (
        b"\x00\x00\x00\x18ftypM4A \x00\x00\x02\x00isomM4A " + b"\0" * 64,
        "audio/mp4",
        "inline",
    ),
    "visit.mp4": (
        b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomavc1" + b"\0" * 64,
        "video/mp4",
        "inline",
    ),
    "letter.docx": (
        ooxml("docx"),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "attachment",
    ),
    "budget.xlsx": (
        ooxml("xlsx"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "attachment",
    ),
    "slides.pptx": (
        ooxml("pptx"),
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "attachment",
    ),
    "letter.odt": (odf("text"), "application/vnd.oasis.opendocument.text", "attachment"),
    "budget.ods": (
        odf("spreadsheet"),
        "application/vnd.oasis.opendocument.spreadsheet",
        "attachment",
    ),
    "slides.odp": (
        odf("presentation"),
        "application/vnd.oasis.opendocument.presentation",
        "attachment",
    ),
    "old.doc": (OLE2, "application/msword", "attachment"),
    "old.xls": (OLE2, "application/vnd.ms-excel", "attachment"),
    "old.ppt": (OLE2, "application/vnd.ms-powerpoint", "attachment"),
}


@pytest.mark.parametrize("name", FILES)
def test_every_allowed_kind_is_known_from_its_bytes(name: str) -> None:
    data, media_type, disposition = FILES[name]
    kind = sniff(data, name)
    assert (kind.media_type, kind.disposition) == (media_type, disposition)
    assert kind.is_image == media_type.startswith("image/")


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("photo.jpg", FILES["chart.png"][0], "photo.jpg is a PNG image, not JPEG"),
        ("chart.png", FILES["photo.jpg"][0], "chart.png is a JPEG image, not PNG"),
        (
            "report.pdf",
            b"<!DOCTYPE html><html><body>hi",
            "report.pdf is not a PDF (its bytes start like HTML)",
        ),
        (
            "report.pdf",
            b"MZ\x90\x00" + b"\0" * 60,
            "report.pdf is not a PDF (its bytes start like a Windows program)",
        ),
        (
            "tool.docx",
            b"\x7fELF\x02\x01\x01" + b"\0" * 60,
            "tool.docx is not a docx (its bytes start like an ELF program)",
        ),
        (
            "logo.png",
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
            "logo.png is not PNG (its bytes start like an SVG image)",
        ),
        (
            "logo.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"/>',
            "logo.svg: .svg is not allowed (SVG images can carry scripts)",
        ),
        (
            "page.html",
            b"<html></html>",
            "page.html: .html is not allowed (web pages can carry scripts)",
        ),
        (
            "setup.exe",
            b"MZ" + b"\0" * 60,
            "setup.exe: .exe is not allowed (programs are not published)",
        ),
        ("README", b"hello", "README: a name without an extension is not allowed"),
        (
            "letter.docx",
            plain_zip(**{"word/document.xml": b"<w/>"}),
            "letter.docx is not a docx (its bytes start like a ZIP archive)",
        ),
        ("budget.xlsx", ooxml("docx"), "budget.xlsx is a Word document (docx), not an xlsx"),
        (
            "letter.odt",
            odf("spreadsheet"),
            "letter.odt is an OpenDocument spreadsheet (ods), not an odt",
        ),
        ("speech.mp3", FILES["speech.m4a"][0], "speech.mp3 is M4A audio, not MP3 audio"),
        (
            "clip.mp4",
            b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ",
            "clip.mp4 is not an MP4 video (its bytes start like an ISO media file of brand 'qt  ')",
        ),
        ("photo.jpg", b"", "photo.jpg is not JPEG (its bytes start like an empty file)"),
        (
            "song.mp3",
            b"\xff\xf1\x50\x80\x02\x1f\xfc" + b"\0" * 100,  # AAC in ADTS, not MPEG Layer III
            "song.mp3 is not MP3 audio (its bytes start like nothing allowed)",
        ),
        (
            "run.pdf",
            b"#!/bin/sh\nrm -rf /\n",
            "run.pdf is not a PDF (its bytes start like a script)",
        ),
        ("old.doc", FILES["photo.jpg"][0], "old.doc is a JPEG image, not a doc"),
    ],
)
def test_refused_with_what_the_bytes_are(name: str, data: bytes, message: str) -> None:
    with pytest.raises(MediaError) as caught:
        sniff(data, name)
    assert caught.value.message.startswith(message), caught.value.message


def test_a_refused_ending_lists_what_is_allowed() -> None:
    with pytest.raises(MediaError, match=r"allowed are .*docx.*jpeg.*jpg.*mp4.*webp"):
        sniff(b"<svg/>", "x.svg")


def test_a_zip_bomb_is_not_unpacked() -> None:
    """[Content_Types].xml of 200 MB of zeros (200 kB deflated): refused from its declared
    size, and reading the package costs no more than a few MB."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("[Content_Types].xml", "w", force_zip64=True) as entry,
    ):
        for _ in range(200):
            entry.write(b"\0" * (1 << 20))
    data = buffer.getvalue()
    assert len(data) < 1_000_000
    tracemalloc.start()
    try:
        with pytest.raises(MediaError, match="is not a docx"):
            sniff(data, "bomb.docx")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 * len(data) + (4 << 20), peak


def test_a_zip_of_too_many_entries_is_refused_before_its_directory_is_read() -> None:
    entries = {f"f{i}": b"" for i in range(10_001)}
    entries["[Content_Types].xml"] = (
        FILES["letter.docx"][0][:0] + b"wordprocessingml.document.main+xml"
    )
    with pytest.raises(MediaError, match="too many entries"):
        sniff(plain_zip(**entries), "big.docx")


def test_kinds_of_pictures_agree_with_pillow() -> None:
    for name in ("photo.jpg", "chart.png", "photo.webp", "banner.gif"):
        data = FILES[name][0]
        assert Image.MIME[Image.open(io.BytesIO(data)).format] == sniff(data, name).media_type
