"""Releases that name files (issue 14, "Input" and "Bad input"): bundles, a file beside a
single release, Markdown pictures and links, front matter `image` and `attachments` on both
formats, and every refusal with its `path:line: message`. Real pictures, made by Pillow."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from feedsvc.config import Settings
from feedsvc.model import MediaRef, ReadProblem, Release
from feedsvc.reading import read_folder
from tests.media.pictures import encode, photo, png_bomb
from tests.reading.helpers import make_settings

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JPEG = encode(photo((640, 480)), "JPEG", quality=80)
PNG = encode(photo((300, 200)), "PNG")
HEAD = '+++\ntitle = "Accord signed"\ndate = 2026-12-05T09:00:00+08:00\nsection = "News"\n'


def release_md(*lines: str, front: str = "") -> str:
    return HEAD + front + "+++\n" + "\n".join(lines or ("The minister signed.",)) + "\n"


def write(items: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = items / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)


def read_items(tmp_path: Path, files: dict[str, str | bytes], **items: object) -> list[Release]:
    write(tmp_path / "items", files)
    out = read_folder(settings_for(tmp_path, **items))
    assert out.problems == []
    return [release for release, _ in out.releases]


def problems(tmp_path: Path, files: dict[str, str | bytes], **items: object) -> list[str]:
    write(tmp_path / "items", files)
    out = read_folder(settings_for(tmp_path, **items))
    assert out.releases == []
    return [str(p) for p in out.problems]


def settings_for(tmp_path: Path, **items: object) -> Settings:
    return make_settings(tmp_path / "items", **items)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_bundle_is_one_release_named_by_its_folder(tmp_path: Path) -> None:
    index = release_md(
        "On the accord:",
        "",
        '![The minister signs the accord](photo.jpg "At the ministry")',
        "",
        "Read the [Full statement (PDF)](statement.pdf) or [the other one](../other/).",
        front='image = { src = "lead.png", alt = "The signing table", caption = "Signed", '
        'credit = "Ministry" }\nattachments = ["annex.pdf", { src = "statement.pdf", '
        'title = "Never used: named in the text first" }]\n',
    )
    files = {
        "signing/index.md": index,
        "signing/photo.jpg": JPEG,
        "signing/lead.png": PNG,
        "signing/statement.pdf": PDF,
        "signing/annex.pdf": PDF,
        "signing/notes.md": "# Not a release\n\nJust notes.\n",
        "signing/draft.txt": "not a release either",
    }
    [release] = read_items(tmp_path, files)
    assert release.id == "signing"
    assert release.source == "signing/index.md"
    assert release.media == (
        MediaRef(
            "lead.png",
            "signing/lead.png",
            "image",
            "image/png",
            len(PNG),
            sha(PNG),
            300,
            200,
            alt="The signing table",
            caption="Signed",
            credit="Ministry",
        ),
        MediaRef(
            "photo.jpg",
            "signing/photo.jpg",
            "inline",
            "image/jpeg",
            len(JPEG),
            sha(JPEG),
            640,
            480,
            alt="The minister signs the accord",
        ),
        MediaRef(
            "statement.pdf",
            "signing/statement.pdf",
            "attachment",
            "application/pdf",
            len(PDF),
            sha(PDF),
            title="Full statement (PDF)",
        ),
        MediaRef(
            "annex.pdf", "signing/annex.pdf", "attachment", "application/pdf", len(PDF), sha(PDF)
        ),
    )
    # The body keeps every src and href as written (relative to releases/<id>/).
    assert (
        '<img src="photo.jpg" alt="The minister signs the accord" title="At the ministry">'
        in release.body_html
    )
    assert '<a href="statement.pdf" rel="noopener noreferrer">' in release.body_html
    assert '<a href="../other/" rel="noopener noreferrer">' in release.body_html


def test_front_matter_id_still_names_a_bundle(tmp_path: Path) -> None:
    files = {"signing/index.txt": NEWSROOM.replace("+++\n", '+++\nid = "accord-2026"\n', 1)}
    files |= {"signing/photo.jpg": JPEG, "signing/statement.pdf": PDF}
    [release] = read_items(tmp_path, files)
    assert release.id == "accord-2026"


NEWSROOM = (
    '+++\nimage = { src = "photo.jpg", alt = "The accord" }\n'
    'attachments = [{ src = "statement.pdf", title = "Statement" }]\n+++\n'
    "Home\u00a0>\u00a0News\nAccord signed\n\n\nOn December 5, 2026, the minister signed.\n"
)


def test_front_matter_on_a_newsroom_file_beside_its_files(tmp_path: Path) -> None:
    files = {"2026/accord.txt": NEWSROOM, "2026/photo.jpg": JPEG, "2026/statement.pdf": PDF}
    [release] = read_items(tmp_path, files)
    assert release.id == "accord"
    assert [(m.source, m.role, m.alt, m.title) for m in release.media] == [
        ("2026/photo.jpg", "image", "The accord", ""),
        ("2026/statement.pdf", "attachment", "", "Statement"),
    ]
    assert release.lead_image is not None and release.lead_image.name == "photo.jpg"


def test_the_same_file_named_twice_is_one_file_the_first_naming_wins(tmp_path: Path) -> None:
    text = release_md("[Download the photo](photo.jpg)", "", "![The accord](photo.jpg)")
    [release] = read_items(tmp_path, {"a.md": text, "photo.jpg": JPEG})
    assert [(m.name, m.role, m.title, m.alt) for m in release.media] == [
        ("photo.jpg", "attachment", "Download the photo", "")
    ]


def test_plain_links_and_remote_pictures_are_not_files(tmp_path: Path) -> None:
    text = release_md(
        "[Other](../other-release/) [Site](/about/) [Top](#top) [Mail](mailto:a@b.org)",
        "[Report](https://example.org/report.pdf) ![Logo](https://example.org/logo.png)",
    )
    [release] = read_items(tmp_path, {"a.md": text})
    assert release.media == ()


def test_a_release_without_files_reads_as_before(tmp_path: Path) -> None:
    text = release_md("The minister signed.")
    settings = settings_for(tmp_path)
    [release] = read_items(tmp_path, {"a.md": text})
    from feedsvc.reading import reading_fingerprint

    fingerprint = reading_fingerprint(settings).encode()
    assert release.content_hash == sha(fingerprint + b"\0" + text.encode())


def test_the_version_covers_the_files_and_what_is_said_of_them(tmp_path: Path) -> None:
    text = release_md("![The accord](photo.jpg)")
    [first] = read_items(tmp_path, {"a.md": text, "photo.jpg": JPEG})
    [copied] = read_items(tmp_path, {"photo.jpg": JPEG})  # copied over: same bytes
    assert copied.content_hash == first.content_hash  # same bytes, same version
    [replaced] = read_items(tmp_path, {"photo.jpg": encode(photo((640, 480)).rotate(90), "JPEG")})
    assert replaced.content_hash != first.content_hash
    [described] = read_items(tmp_path, {"a.md": text.replace("The accord", "The signed accord")})
    assert described.content_hash not in (first.content_hash, replaced.content_hash)


ALLOWED = (
    "allowed are doc, docx, gif, jpeg, jpg, m4a, m4b, mp3, mp4, odp, ods, odt, pdf, png, ppt, "
    "pptx, webp, xls, xlsx"
)
BAD = {
    "missing": (
        {"a.md": release_md("Text.", "", "![The accord](photo.jpg)")},
        "a.md:8: photo.jpg does not exist (expected photo.jpg)",
    ),
    "missing in a bundle": (
        {"b/index.md": release_md("[Statement](statement.pdf)")},
        "b/index.md:6: statement.pdf does not exist (expected b/statement.pdf)",
    ),
    "no alt in Markdown": (
        {"a.md": release_md("Text", "and ![](photo.jpg)"), "photo.jpg": JPEG},
        "a.md:7: picture photo.jpg has no alt text: write ![what it shows](photo.jpg)",
    ),
    "no alt in front matter": (
        {"a.md": release_md(front='image = "photo.jpg"\n'), "photo.jpg": JPEG},
        "a.md:5: picture photo.jpg has no alt text: give front-matter 'image.alt'",
    ),
    "no alt in a newsroom file": (
        {"a.txt": NEWSROOM.replace(', alt = "The accord"', ""), "photo.jpg": JPEG},
        "a.txt:2: picture photo.jpg has no alt text: give front-matter 'image.alt'",
    ),
    "SVG": (
        {"a.md": release_md("[Logo](logo.svg)"), "logo.svg": '<svg xmlns="x"/>'},
        f"a.md:6: logo.svg: .svg is not allowed (SVG images can carry scripts); {ALLOWED}",
    ),
    "HTML": (
        {"a.md": release_md("[Page](page.html)"), "page.html": "<html><script>x</script>"},
        f"a.md:6: page.html: .html is not allowed (web pages can carry scripts); {ALLOWED}",
    ),
    "not what its name says": (
        {"a.md": release_md("![The accord](photo.jpg)"), "photo.jpg": PNG},
        "a.md:6: photo.jpg is a PNG image, not JPEG",
    ),
    "a PDF as a picture": (
        {"a.md": release_md("![The statement](statement.pdf)"), "statement.pdf": PDF},
        "a.md:6: statement.pdf is a PDF, not a picture: link it instead",
    ),
    "truncated": (
        {"a.md": release_md("![The accord](photo.jpg)"), "photo.jpg": JPEG[: len(JPEG) // 2]},
        "a.md:6: photo.jpg is truncated or corrupt (image file is truncated)",
    ),
    "a bomb": (
        {"a.md": release_md("![A bomb](bomb.png)"), "bomb.png": png_bomb(20_000, 20_000)},
        "a.md:6: bomb.png is 400,000,000 pixels, over the limit of 100,000,000; it was not "
        "decoded (a decompression bomb)",
    ),
    "up a folder": (
        {"a.md": release_md("![The accord](../secret/photo.jpg)")},
        "a.md:6: '../secret/photo.jpg' is not in the release's folder (no subfolders, no '..')",
    ),
    "a subfolder": (
        {"a.md": release_md("[Annex](annex/annex.pdf)")},
        "a.md:6: 'annex/annex.pdf' is not in the release's folder (no subfolders, no '..')",
    ),
    "an absolute path": (
        {"a.md": release_md(front='attachments = ["/etc/passwd.pdf"]\n')},
        "a.md:5: '/etc/passwd.pdf' is an absolute path; name a file in the release's folder",
    ),
    "a URL": (
        {"a.md": release_md(front='image = { src = "https://example.org/x.jpg", alt = "X" }\n')},
        "a.md:5: 'https://example.org/x.jpg' is a URL; a release's files are in its own folder",
    ),
    "a folder": (
        {"a.md": release_md("[Dir](dir.pdf)"), "dir.pdf/x": "x"},
        "a.md:6: dir.pdf is not a file",
    ),
    "an unknown image key": (
        {"a.md": release_md(front='image = { src = "x.jpg", alt = "X", width = 3 }\n')},
        "a.md:5: unknown key 'width' in front-matter 'image'; expected: src, alt, caption, credit",
    ),
    "attachments not a list": (
        {"a.md": release_md(front='attachments = "x.pdf"\n')},
        "a.md:5: front-matter 'attachments' must be a list of files",
    ),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_input_is_named_at_its_line(tmp_path: Path, case: str) -> None:
    files, message = BAD[case]
    assert problems(tmp_path, files) == [message]


def test_a_file_over_max_media_bytes_is_refused_unread(tmp_path: Path) -> None:
    files = {"a.md": release_md("![The accord](photo.jpg)"), "photo.jpg": JPEG}
    assert problems(tmp_path, files, max_media_bytes=1000) == [
        f"a.md:6: photo.jpg is {len(JPEG):,} bytes, over the limit of 1,000 bytes "
        "(items.max_media_bytes)"
    ]


def test_a_picture_over_max_image_pixels_is_refused(tmp_path: Path) -> None:
    files = {"a.md": release_md("![The accord](photo.jpg)"), "photo.jpg": JPEG}
    assert problems(tmp_path, files, max_image_pixels=640 * 480 - 1) == [
        "a.md:6: photo.jpg is 640×480 = 307,200 pixels, over the limit of 307,199; it was not "
        "decoded"
    ]


def test_a_symlink_out_of_items_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.pdf"
    secret.write_bytes(PDF)
    write(tmp_path / "items", {"a.md": release_md("[Statement](statement.pdf)")})
    os.symlink(secret, tmp_path / "items" / "statement.pdf")
    assert problems(tmp_path, {}) == [
        "a.md:6: statement.pdf leads out of the items folder (a link)"
    ]


def test_a_symlink_inside_items_is_followed(tmp_path: Path) -> None:
    write(tmp_path / "items", {"a.md": release_md("[Statement](statement.pdf)"), "s/x.pdf": PDF})
    os.symlink(tmp_path / "items" / "s" / "x.pdf", tmp_path / "items" / "statement.pdf")
    [release] = read_items(tmp_path, {})
    assert [m.sha256 for m in release.media] == [sha(PDF)]


def test_a_bad_file_keeps_the_rest_of_the_folder(tmp_path: Path) -> None:
    files = {"a.md": release_md("![](photo.jpg)"), "b.md": release_md("Fine."), "photo.jpg": JPEG}
    write(tmp_path / "items", files)
    out = read_folder(settings_for(tmp_path))
    assert [r.id for r, _ in out.releases] == ["b"]
    assert out.problems == [
        ReadProblem(
            "a.md", 6, "picture photo.jpg has no alt text: write ![what it shows](photo.jpg)"
        )
    ]


def test_files_are_checked_side_by_side_and_the_first_refusal_named_is_the_first_file(
    tmp_path: Path,
) -> None:
    """A release's files are checked at once (issue 14: in the feeds within 2 s); of several
    bad files the one named first is still the one reported, however the checks finish."""
    big = encode(photo((2400, 1800)), "PNG")  # slow to check; refused last in line order
    files = {
        "a.md": release_md(
            "![The accord](big.png)", "", "![Cut](cut.jpg)", "", "[Statement](fake.pdf)"
        ),
        "big.png": big[: len(big) - 40],
        "cut.jpg": JPEG[: len(JPEG) // 2],
        "fake.pdf": b"<html>not a pdf</html>",
    }
    for _ in range(3):
        [problem] = problems(tmp_path, files)
        assert problem.startswith("a.md:6: big.png is truncated or corrupt"), problem
    good = {"a.md": release_md(*(f"![Photo {i}](p{i}.jpg)\n" for i in range(4)))}
    good |= {f"p{i}.jpg": encode(photo((640 + i, 480)), "JPEG") for i in range(4)}
    [release] = read_items(tmp_path / "good", good)
    assert [m.name for m in release.media] == ["p0.jpg", "p1.jpg", "p2.jpg", "p3.jpg"]
    assert [m.width for m in release.media] == [640, 641, 642, 643]
