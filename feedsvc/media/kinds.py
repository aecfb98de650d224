"""What a file is, judged from its bytes; its name's extension must agree (issue 14).

Only the first bytes and, for ZIP containers, the central directory and one small entry are
read: a ZIP is never unpacked (a zip bomb costs nothing here) and XML is matched as text,
never parsed (no entity expansion).
"""

from __future__ import annotations

import io
import struct
import zipfile
from dataclasses import dataclass
from typing import Literal

from feedsvc.media.errors import MediaError

Disposition = Literal["inline", "attachment"]


@dataclass(frozen=True, slots=True)
class Kind:
    media_type: str
    is_image: bool
    disposition: Disposition  # how the server sends it: office documents are downloads
    extension: str  # the canonical one, without the dot
    label: str  # for people: "JPEG image"
    short: str  # for people, after "not": "JPEG"


def _kind(
    media_type: str,
    ext: str,
    label: str,
    short: str,
    *,
    image: bool = False,
    download: bool = False,
) -> Kind:
    return Kind(media_type, image, "attachment" if download else "inline", ext, label, short)


JPEG = _kind("image/jpeg", "jpg", "a JPEG image", "JPEG", image=True)
PNG = _kind("image/png", "png", "a PNG image", "PNG", image=True)
WEBP = _kind("image/webp", "webp", "a WebP image", "WebP", image=True)
GIF = _kind("image/gif", "gif", "a GIF image", "GIF", image=True)
PDF = _kind("application/pdf", "pdf", "a PDF", "a PDF")
MP3 = _kind("audio/mpeg", "mp3", "MP3 audio", "MP3 audio")
M4A = _kind("audio/mp4", "m4a", "M4A audio", "M4A audio")
MP4 = _kind("video/mp4", "mp4", "an MP4 video", "an MP4 video")
_OOXML = "application/vnd.openxmlformats-officedocument."
DOCX = _kind(
    _OOXML + "wordprocessingml.document", "docx", "a Word document (docx)", "a docx", download=True
)
XLSX = _kind(
    _OOXML + "spreadsheetml.sheet", "xlsx", "an Excel workbook (xlsx)", "an xlsx", download=True
)
PPTX = _kind(
    _OOXML + "presentationml.presentation",
    "pptx",
    "a PowerPoint presentation (pptx)",
    "a pptx",
    download=True,
)
_ODF = "application/vnd.oasis.opendocument."
ODT = _kind(_ODF + "text", "odt", "an OpenDocument text (odt)", "an odt", download=True)
ODS = _kind(
    _ODF + "spreadsheet", "ods", "an OpenDocument spreadsheet (ods)", "an ods", download=True
)
ODP = _kind(
    _ODF + "presentation", "odp", "an OpenDocument presentation (odp)", "an odp", download=True
)
DOC = _kind("application/msword", "doc", "a Word 97-2003 document (doc)", "a doc", download=True)
XLS = _kind(
    "application/vnd.ms-excel", "xls", "an Excel 97-2003 workbook (xls)", "an xls", download=True
)
PPT = _kind(
    "application/vnd.ms-powerpoint",
    "ppt",
    "a PowerPoint 97-2003 presentation (ppt)",
    "a ppt",
    download=True,
)

KINDS: tuple[Kind, ...] = (
    JPEG,
    PNG,
    WEBP,
    GIF,
    PDF,
    MP3,
    M4A,
    MP4,
    DOCX,
    XLSX,
    PPTX,
    ODT,
    ODS,
    ODP,
    DOC,
    XLS,
    PPT,
)
BY_EXTENSION: dict[str, Kind] = {k.extension: k for k in KINDS} | {"jpeg": JPEG, "m4b": M4A}
ALLOWED = ", ".join(sorted(BY_EXTENSION))

# Endings people try that are refused whatever the bytes, with the reason they are.
_REFUSED_EXTENSIONS = {
    "svg": "SVG images can carry scripts",
    "svgz": "SVG images can carry scripts",
    "html": "web pages can carry scripts",
    "htm": "web pages can carry scripts",
    "xhtml": "web pages can carry scripts",
    "xml": "XML files are not published as attachments",
    "js": "scripts are not published",
    "exe": "programs are not published",
    "docm": "documents with macros are not published",
    "xlsm": "documents with macros are not published",
    "pptm": "documents with macros are not published",
}

# OOXML: the content type of the main part that [Content_Types].xml must name (ECMA-376-2).
_OOXML_MAIN = {
    DOCX: b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    XLSX: b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    PPTX: b"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
}
_ODF_MIMETYPE = {
    ODT.media_type.encode(): ODT,
    ODS.media_type.encode(): ODS,
    ODP.media_type.encode(): ODP,
}
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MP4_BRANDS = {
    b"isom",
    b"iso2",
    b"iso4",
    b"iso5",
    b"iso6",
    b"mp41",
    b"mp42",
    b"avc1",
    b"M4V ",
    b"dash",
    b"MSNV",
}
_M4A_BRANDS = {b"M4A ", b"M4B "}
MAX_ZIP_ENTRIES = 10_000  # an office document has tens to a few thousand parts
MAX_CONTENT_TYPES_BYTES = 1 << 20


def sniff(data: bytes, name: str) -> Kind:
    """The kind of `data`, which must agree with `name`'s extension; else `MediaError`."""
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    expected = BY_EXTENSION.get(ext)
    if expected is None:
        why = _REFUSED_EXTENSIONS.get(ext, "not a picture, document or media type")
        shown = f".{ext}" if ext else "a name without an extension"
        raise MediaError(f"{name}: {shown} is not allowed ({why}); allowed are {ALLOWED}")
    found = _from_bytes(data, expected)
    if isinstance(found, str):
        raise MediaError(f"{name} is not {expected.short} (its bytes start like {found})")
    if found != expected:
        raise MediaError(f"{name} is {found.label}, not {expected.short}")
    return found


def _from_bytes(data: bytes, expected: Kind) -> Kind | str:
    """An allowed kind, or what the bytes look like for the message."""
    head = data[:64]
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head.startswith(b"%PDF-"):
        return PDF
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _M4A_BRANDS:
            return M4A
        if brand in _MP4_BRANDS:
            return MP4
        return f"an ISO media file of brand {brand.decode('latin-1')!r}"
    if head.startswith(b"ID3") or _mpeg_audio_frame(head):
        return MP3
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    if head.startswith(_OLE2):
        # A legacy Office file's type is in its directory; the header alone cannot tell a doc
        # from an xls, so the name decides among the three.
        return expected if expected in (DOC, XLS, PPT) else "a legacy Office (OLE2) file"
    return _describe(head)


def _mpeg_audio_frame(head: bytes) -> bool:
    """An MPEG-1/2 Layer III frame header: 11 sync bits, a version, layer bits 01."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer = (head[1] >> 3) & 3, (head[1] >> 1) & 3
    bitrate, rate = head[2] >> 4, (head[2] >> 2) & 3
    return version != 1 and layer == 1 and bitrate not in (0, 15) and rate != 3


def _zip_kind(data: bytes) -> Kind | str:
    entries = _zip_entry_count(data)
    if entries is None or entries > MAX_ZIP_ENTRIES:
        return "a ZIP archive with too many entries" if entries else "a damaged ZIP archive"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if infos and infos[0].filename == "mimetype":  # ODF, part 3, 3.3
                with archive.open(infos[0]) as entry:
                    found = _ODF_MIMETYPE.get(entry.read(100).strip())
                return found or "an OpenDocument file of another type"
            try:
                info = archive.getinfo("[Content_Types].xml")
            except KeyError:
                return "a ZIP archive"
            if info.file_size > MAX_CONTENT_TYPES_BYTES:
                return "a ZIP archive"
            with archive.open(info) as entry:
                # read() stops at the limit even when the header lies about the size
                text = entry.read(MAX_CONTENT_TYPES_BYTES + 1)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, ValueError):
        return "a damaged ZIP archive"
    for kind, main in _OOXML_MAIN.items():
        if main in text:
            return kind
    if b"macroEnabled" in text:
        return "an Office document with macros"
    return "an Office Open XML package of another type"


def _zip_entry_count(data: bytes) -> int | None:
    """Entries in the end-of-central-directory record (APPNOTE 4.3.16), before zipfile
    builds one object per entry; None when there is none."""
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 0xFFFF))
    if at < 0 or len(data) < at + 22:
        return None
    (total,) = struct.unpack_from("<H", data, at + 10)
    return None if total == 0xFFFF else total  # ZIP64: no office document needs it


def _describe(head: bytes) -> str:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<script")):
        return "HTML"
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in text):
        return "an SVG image"
    if text.startswith(b"<"):
        return "XML or HTML"
    if text.startswith(b"#!"):
        return "a script"
    if head.startswith(b"MZ"):
        return "a Windows program"
    if head.startswith(b"\x7fELF"):
        return "an ELF program"
    if head[:4] in (
        b"\xfe\xed\xfa\xce",
        b"\xfe\xed\xfa\xcf",
        b"\xcf\xfa\xed\xfe",
        b"\xca\xfe\xba\xbe",
    ):
        return "a macOS program"
    if head.startswith(b"\x1f\x8b"):
        return "a gzip archive"
    if not head:
        return "an empty file"
    return "nothing allowed"
