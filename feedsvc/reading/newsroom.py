"""The newsroom's plain-text layout (the seed release's):

Home > News & Events          breadcrumb; separators may be NO-BREAK SPACEs
<title>
<blank line(s)>
On September 11, 2020, ...    paragraphs split by blank lines; the first holds the dateline
<Suggest To A Friend>         optional footer: the share feature, not body text
"""

from __future__ import annotations

import re
from html import escape
from itertools import pairwise

from feedsvc.errors import ReleaseError
from feedsvc.reading.base import Parsed, dateline_of
from feedsvc.reading.source import Source

_FOOTER = re.compile(r"\s*<\s*suggest\s+to\s+a\s+friend\s*>\s*", re.IGNORECASE)


def breadcrumb(line: str) -> list[str] | None:
    """The crumbs of 'Home > News & Events', or None if the line is not a breadcrumb.

    Crumbs are joined by '>' with white space on both sides (str.isspace covers U+00A0
    NO-BREAK SPACE) and contain no angle brackets. Checked by splitting, not by a regular
    expression: a backtracking pattern would take exponential time on hostile lines.
    """
    pieces = line.split(">")
    if len(pieces) < 2 or "<" in line:
        return None
    for left, right in pairwise(pieces):
        if not (left[-1:].isspace() and right[:1].isspace()):
            return None
    crumbs = [" ".join(piece.split()) for piece in pieces]
    return crumbs if all(crumbs) else None


def read_newsroom_text(source: Source) -> Parsed:
    lines = source.text.split("\n")
    found: dict[str, int] = {}  # what the text says -> its line, for error messages
    at = _first_text_line(source, lines)
    section, at = _breadcrumb(source, lines, at, found)
    title, at = _title_line(source, lines, at, found, under_breadcrumb=section is not None)
    paragraphs = _body(source, lines, at)
    first_line, first_text = paragraphs[0]
    date, date_line = dateline_of(source, first_text, first_line)
    found["date"] = date_line
    body = "\n".join(f"<p>{escape(text, quote=False)}</p>" for _, text in paragraphs)
    return Parsed(
        body_html=body,
        first_paragraph=_squash(first_text),
        title=title,
        section=section,
        date=date,
        lines=found,
    )


def _first_text_line(source: Source, lines: list[str]) -> int:
    at = 0
    while at < len(lines) and not lines[at].strip():
        at += 1
    if at == len(lines):
        raise ReleaseError(source.path, source.first_line, "no text after the front matter")
    return at


def _breadcrumb(
    source: Source, lines: list[str], at: int, found: dict[str, int]
) -> tuple[str | None, int]:
    """The section the breadcrumb at lines[at] names, and the line after it."""
    crumbs = breadcrumb(lines[at])
    if crumbs is not None:
        found["section"] = source.first_line + at
        return crumbs[-1], at + 1
    if "section" not in source.meta:
        raise ReleaseError(
            source.path,
            source.first_line + at,
            f"expected a breadcrumb such as 'Home > News & Events', found {_quote(lines[at])}",
        )
    return None, at


def _title_line(
    source: Source, lines: list[str], at: int, found: dict[str, int], *, under_breadcrumb: bool
) -> tuple[str | None, int]:
    """The title line is the line right under the breadcrumb. Front matter may override it,
    or stand in for it: then the text has no title line (a blank line under the
    breadcrumb, or no breadcrumb at all)."""
    has_title_line = at < len(lines) and bool(lines[at].strip())
    if not under_breadcrumb and "title" in source.meta:
        has_title_line = False
    if not has_title_line and "title" in source.meta:
        return None, at
    if not has_title_line:
        raise ReleaseError(
            source.path,
            source.first_line + at,
            "no title: expected the title on the line after the breadcrumb",
        )
    found["title"] = source.first_line + at
    return _squash(lines[at]), at + 1


def _body(source: Source, lines: list[str], at: int) -> list[tuple[int, str]]:
    """The paragraphs from lines[at] on, without the footer; at least one."""
    paragraphs = _paragraphs(lines, at, source.first_line)
    if paragraphs:
        # The footer, on its own line: usually after a blank line, sometimes right under
        # the last paragraph.
        line, last = paragraphs[-1]
        head, _, tail = last.rpartition("\n")
        if _FOOTER.fullmatch(tail):
            paragraphs[-1:] = [(line, head)] if head.strip() else []
    if not paragraphs:
        raise ReleaseError(
            source.path,
            source.first_line + at,
            "no body: expected paragraphs separated by blank lines after the title",
        )
    return paragraphs


def _paragraphs(lines: list[str], start: int, first_line: int) -> list[tuple[int, str]]:
    """(line number, text) of each paragraph from lines[start:]."""
    out: list[tuple[int, str]] = []
    current: list[str] = []
    current_line = 0
    for i in range(start, len(lines)):
        line = lines[i].rstrip()
        if line.strip():
            if not current:
                current_line = first_line + i
            current.append(line.strip())
        elif current:
            out.append((current_line, "\n".join(current)))
            current = []
    if current:
        out.append((current_line, "\n".join(current)))
    return out


def _squash(text: str) -> str:
    """Collapse runs of white space (NO-BREAK SPACEs included) to one space."""
    return " ".join(text.split())


def _quote(line: str) -> str:
    line = line.strip()
    return repr(line if len(line) <= 60 else line[:57] + "...")
