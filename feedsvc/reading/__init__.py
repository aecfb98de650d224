"""Reading releases: a registry maps file endings to readers; `read_release` turns one file
into a `Release` or raises a `ReleaseError` naming the file, the line and what was wrong."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from feedsvc.config import Settings
from feedsvc.errors import ReleaseError
from feedsvc.model import (
    FileState,
    MediaRef,
    ReadProblem,
    Release,
    is_release_id,
    scoped,
    slugify,
)
from feedsvc.reading.base import Parsed, Reader
from feedsvc.reading.file_states import MediaSeen
from feedsvc.reading.front_matter import FrontMatter
from feedsvc.reading.language import named, release_language, site_languages
from feedsvc.reading.listing import file_at, is_release_name, release_files
from feedsvc.reading.media_refs import BadMedia, Limits, release_media
from feedsvc.reading.newsroom import read_newsroom_text
from feedsvc.reading.references import front_matter_references
from feedsvc.reading.source import Source, decode, split_front_matter, too_big
from feedsvc.search.text import index_text

__all__ = [
    "READERS",
    "FolderRead",
    "file_at",
    "is_release_name",
    "parse_release",
    "read_files",
    "read_folder",
    "read_release",
    "release_files",
]


def read_markdown(source: Source) -> Parsed:
    """reading/markdown.py's, imported when a Markdown file is read: markdown-it costs
    every command's start ~20 ms, and a build reads only the files that changed (issue 18)."""
    from feedsvc.reading.markdown import read_markdown as read

    return read(source)


READERS: dict[str, Reader] = {
    ".txt": read_newsroom_text,
    ".md": read_markdown,
    ".markdown": read_markdown,
}

# The widths of the store's columns (store/schema.py): PostgreSQL refuses a longer value.
ID_MAX_CHARS = SLUG_MAX_CHARS = 200
# Bump when a reader's output changes for the same bytes, so stored releases are re-read.
READER_VERSION = "3"  # 2: one-line Markdown titles, ids cut to the store's width;
# 3: a leading Markdown heading that repeats the title is dropped. Not bumped for issue 14:
# a release without files reads as before, and one with files gets a new content_hash.


def reading_fingerprint(settings: Settings) -> str:
    """What, besides the bytes, decides the Release a file reads as."""
    site, items, feeds = settings.site, settings.items, settings.feeds
    parts = [READER_VERSION, site.timezone, site.language, items.default_time]
    parts.append(str(feeds.summary_chars))
    # Not the configured languages (issue 15): which suffixes are languages decides a
    # file's key and language, not its content; ingest re-reads every file when they
    # change (`reading_languages`), and only the files whose key moves change.
    return "|".join(parts)


def reading_languages(settings: Settings) -> str:
    """The configured languages as the store remembers them (store fact READ_WITH)."""
    return ",".join([settings.site.language, *sorted(settings.languages)])


def read_release(path: str | Path, rel: str, settings: Settings) -> Release:
    return _read(path, rel, settings)[0]


def _read(path: str | Path, rel: str, settings: Settings) -> tuple[Release, MediaSeen | None]:
    limit = settings.items.max_bytes
    with open(path, "rb") as f:
        data = f.read(limit + 1)  # never more than the limit (and one byte) in memory
        if len(data) > limit:
            too_big(rel, os.fstat(f.fileno()).st_size, limit)
    return _parse(rel, data, settings)


def parse_release(rel: str, data: bytes, settings: Settings) -> Release:
    return _parse(rel, data, settings)[0]


def _parse(rel: str, data: bytes, settings: Settings) -> tuple[Release, MediaSeen | None]:
    """The release, and the files it names as they were when read (None: it names none)."""
    reader = READERS.get(os.path.splitext(rel)[1].lower())
    if reader is None:
        raise ReleaseError(rel, 1, f"no reader for this kind of file (known: {', '.join(READERS)})")
    text = decode(rel, data, settings.items.max_bytes)
    source = split_front_matter(rel, text)
    parsed = reader(source)
    digest = hashlib.sha256(reading_fingerprint(settings).encode() + b"\0" + data).hexdigest()
    release = _assemble(source, parsed, settings, digest)
    # Last, so that of several mistakes the text's are named first.
    media, seen = _media(source, parsed, settings)
    if not media:
        return release, None
    return replace(release, media=media, content_hash=_with_files(digest, media)), seen


def _media(
    source: Source, parsed: Parsed, settings: Settings
) -> tuple[tuple[MediaRef, ...], MediaSeen | None]:
    fm = FrontMatter(source, parsed, settings.site.tz, settings.items.default_clock_time)
    image, attachments = front_matter_references(source.meta, source.meta_lines, fm.fail)
    items = settings.items
    limits = Limits(items.max_media_bytes, items.max_image_pixels)
    return release_media(source.path, [*image, *parsed.references, *attachments], items.dir, limits)


def _with_files(text_digest: str, media: tuple[MediaRef, ...]) -> str:
    """A release's version covers its files (issue 14): adding, replacing or removing one,
    or changing what is said of it, is an edit (`updated` moves, the feeds change)."""
    said = [(m.name, m.role, m.sha256, m.alt, m.caption, m.credit, m.title) for m in media]
    return hashlib.sha256(f"{text_digest}\0{json.dumps(said)}".encode()).hexdigest()


@dataclass
class FolderRead:
    """One pass over the items folder."""

    releases: list[tuple[Release, FileState]] = field(default_factory=list)
    problems: list[ReadProblem] = field(default_factory=list)
    present: set[str] = field(default_factory=set)  # every release file there, good or bad
    # release file -> the files it named, when it names any (good or bad): what to stat to
    # know when it must be read again (reading/file_states.py)
    media: dict[str, MediaSeen] = field(default_factory=dict)
    unchanged: int = 0  # files skipped because their state had not changed
    # release file -> its search text, when the reading process made it (ingest.py)
    search_texts: dict[str, str] = field(default_factory=dict)


def read_folder(
    settings: Settings,
    skip: dict[str, FileState] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> FolderRead:
    """Read every release file, except those whose state is as in `skip` (already stored).
    A bad file becomes a ReadProblem; it never stops the others."""
    return read_files(settings, release_files(settings.items.dir), skip, progress)


def read_files(
    settings: Settings,
    files: list[tuple[str, str, FileState]],
    skip: dict[str, FileState] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> FolderRead:
    out = FolderRead()
    for done, (rel, path, state) in enumerate(files, start=1):
        out.present.add(rel)
        if skip is not None and skip.get(rel) == state:
            out.unchanged += 1
        else:
            try:
                release, seen = _read(path, rel, settings)
                if seen is not None:
                    out.media[rel] = seen
                    state = seen.state(state)
                out.releases.append((release, state))
            except BadMedia as e:
                out.media[rel] = e.seen
                out.problems.append(ReadProblem(e.path, e.line, e.message))
            except ReleaseError as e:
                out.problems.append(ReadProblem(e.path, e.line, e.message))
            except OSError as e:
                out.problems.append(ReadProblem(rel, 1, f"cannot read the file: {e.strerror}"))
        if progress is not None:
            progress(done, len(files))
    return out


def read_indexed(settings: Settings, files: list[tuple[str, str, FileState]]) -> FolderRead:
    """read_files, and each good release's search text made (issue 18): what a first
    import's reading processes run. Here, not in ingest.py, so a spawned reading process
    imports the readers and search/text.py, not the store (27 MiB more a process)."""
    folder = read_files(settings, files)
    folder.search_texts = {
        release.source: index_text(release.title, release.summary, release.body_html)
        for release, _ in folder.releases
    }
    return folder


def _assemble(source: Source, parsed: Parsed, settings: Settings, digest: str) -> Release:
    # The steps run in this order so that, of several mistakes, the same one is named.
    fm = FrontMatter(source, parsed, settings.site.tz, settings.items.default_clock_time)
    fm.refuse_unknown_keys()
    languages = site_languages(settings)
    stem, named_language = named(fm.path, languages)
    release_id = _release_id(fm, stem)
    title = _title(fm, parsed)
    section = _section(fm, parsed)
    published = _published(fm, parsed)
    language = release_language(fm, named_language, languages)
    summary = fm.text("summary", None) or cut_summary(
        parsed.first_paragraph, settings.feeds.summary_chars
    )
    return Release(
        id=release_id,
        title=title,
        section=section,
        published=published,
        body_html=parsed.body_html,
        summary=summary,
        language=language.tag,
        source=fm.path,
        content_hash=digest,
        tags=fm.tags(),
        author=fm.text("author", None),
        publish_at=fm.moment("publish_at"),
        updated=fm.moment("updated"),
        time_stated=fm.names_a_time("date"),
        change_note=fm.text("change_note", None),
        contact=_contact(fm, settings),
        notes_to_editors=fm.notes("notes_to_editors"),
        # Issue 15: translations share the id; the site's own language keeps the bare id.
        key=scoped(release_id, language.scope),
    )


def _release_id(fm: FrontMatter, stem: str) -> str:
    """`stem`: the file's name (a bundle's folder's) without its language suffix
    (language.named), so that budget.txt and budget.zh.txt are one release."""
    release_id = fm.text("id", None)
    if release_id is not None and not is_release_id(release_id):
        raise fm.fail("id", "front-matter 'id' must be letters, digits, '.', '_' or '-' (<= 200)")
    link = fm.text("translation_key", None)
    if link is not None:
        # Issue 15: translations named otherwise share this id (Hugo's translationKey).
        if not is_release_id(link):
            raise fm.fail(
                "translation_key",
                "front-matter 'translation_key' is the release's id: letters, digits, '.', "
                "'_' or '-' (<= 200)",
            )
        if release_id is not None and release_id != link:
            raise fm.fail(
                "translation_key",
                f"front-matter 'translation_key' {link!r} and 'id' {release_id!r} differ: "
                "a translation's id is its translation key, give one of them",
            )
        return link
    if release_id is None:
        # A file name that is no id (or too long for one) gives its slug, cut to fit; ASCII,
        # as an id is (model.RELEASE_ID).
        slug = slugify(stem, ascii_only=True)
        release_id = stem if is_release_id(stem) else slug[:ID_MAX_CHARS].rstrip("-")
    return release_id


def _contact(fm: FrontMatter, settings: Settings) -> str | None:
    """Front matter `contact`: a name of config.toml's [contacts] tables (issue 17)."""
    contact = fm.text("contact", None)
    if contact is not None and contact not in settings.contacts:
        known = ", ".join(sorted(settings.contacts)) or "none: add [contacts.<name>] tables"
        raise fm.fail(
            "contact", f"front-matter 'contact' {contact!r} is no contact of config.toml ({known})"
        )
    return contact


def _title(fm: FrontMatter, parsed: Parsed) -> str:
    title = fm.text("title", parsed.title)
    if not title:
        raise fm.fail("title", "no title")
    return title


def _section(fm: FrontMatter, parsed: Parsed) -> str:
    section = fm.text("section", parsed.section)
    if not section:
        raise fm.fail("section", "no section: expected a breadcrumb or 'section' in front matter")
    if len(slugify(section)) > SLUG_MAX_CHARS:
        raise fm.fail(
            "section",
            f"section is too long: {len(slugify(section)):,} characters in its URL form "
            f"(at most {SLUG_MAX_CHARS})",
        )
    return section


def _published(fm: FrontMatter, parsed: Parsed) -> dt.datetime:
    """The front matter's date, else the dateline's day at items.default_time."""
    published = fm.moment("date")
    if published is not None:
        return published
    if parsed.date is None:
        raise fm.fail(
            "date",
            "no date: expected a dateline at the start of the first paragraph "
            "(e.g. 'On September 11, 2020, ...') or 'date' in front matter",
        )
    return fm.day_at_default_time(parsed.date)


def cut_summary(text: str, limit: int) -> str:
    """The first paragraph, cut at a word boundary to at most `limit` characters."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:–—-") + "…"
