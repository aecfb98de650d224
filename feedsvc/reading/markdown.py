"""Markdown releases: CommonMark (plus tables and strikethrough) rendered with markdown-it-py,
then sanitised with nh3 — raw HTML in a release is allowed only as far as it is safe."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

from feedsvc.errors import ReleaseError
from feedsvc.reading.base import Parsed, dateline_of
from feedsvc.reading.references import markdown_references
from feedsvc.reading.source import Source

_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)")
_HIDDEN = {"script", "style"}
_ALLOWED_TAGS = nh3.ALLOWED_TAGS | {"figure", "figcaption", "picture", "source", "del", "s"}


@cache
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def read_markdown(source: Source) -> Parsed:
    md = _markdown()
    tokens = md.parse(source.text)
    found: dict[str, int] = {}
    title = None
    # An opening '# Title' is the title (unless front matter has one), not body text.
    if (
        "title" not in source.meta
        and len(tokens) >= 3
        and tokens[0].type == "heading_open"
        and tokens[0].tag == "h1"
    ):
        # One line, as every title: a setext heading may span several.
        title = " ".join(_plain_text(tokens[1]).split()) or None
        found["title"] = _line(source, tokens[0])
        tokens = tokens[3:]
    elif _repeats_title(tokens, source.meta.get("title")):
        # The page prints the title as its <h1>: a body opening with it again would give
        # the page two (issue 12).
        tokens = tokens[3:]
    if title is None and "title" not in source.meta:
        first_text = next((i for i, line in enumerate(source.text.split("\n")) if line.strip()), 0)
        raise ReleaseError(
            source.path,
            source.first_line + first_text,
            "no title: expected a 'title' in front matter or a '# Title' first line",
        )

    first_text, first_line = "", source.first_line
    for i, token in enumerate(tokens):
        if token.type == "paragraph_open" and i + 1 < len(tokens):
            first_text = _plain_text(tokens[i + 1])
            first_line = _line(source, token)
            break
    date = None
    if "date" not in source.meta:
        date, found["date"] = dateline_of(source, first_text, first_line)

    html = md.renderer.render(tokens, md.options, {})
    body = nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        # Pictures keep src, alt and title (issue 14): title is one of nh3's generic
        # attributes (tests/reading/test_media_refs.py pins it).
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer",
    ).strip()
    if not body:
        raise ReleaseError(source.path, source.first_line, "no body: the release has no text")
    return Parsed(
        body_html=body,
        first_paragraph=" ".join(first_text.split()),
        title=title,
        date=date,
        lines=found,
        references=tuple(
            markdown_references(
                tokens,
                source.first_line,
                lambda children: md.renderer.renderInlineAsText(children, md.options, {}),
            )
        ),
    )


def _repeats_title(tokens: list[Token], title: object) -> bool:
    """Whether the body opens with a '# Heading' that reads as the front matter's title."""
    if not isinstance(title, str) or len(tokens) < 3:
        return False
    if tokens[0].type != "heading_open" or tokens[0].tag != "h1":
        return False
    return _normalised(_plain_text(tokens[1])) == _normalised(title)


def _normalised(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _plain_text(inline: Token) -> str:
    """The text a reader sees: without the content of inline <script>/<style>, which nh3
    removes from the body too."""
    parts = []
    hidden = None
    for child in inline.children or []:
        if child.type == "html_inline":
            tag = _TAG.match(child.content)
            if tag and hidden is None and not tag.group(1) and tag.group(2).lower() in _HIDDEN:
                hidden = tag.group(2).lower()
            elif tag and tag.group(1) and tag.group(2).lower() == hidden:
                hidden = None
        elif hidden is not None:
            continue
        elif child.type in ("text", "code_inline"):
            # Only soft and hard breaks are line breaks of the file, and the dateline's line
            # is counted from this text's '\n's: one from an entity (&#10;) is a space.
            parts.append(child.content.replace("\n", " "))
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
    return "".join(parts)


def _line(source: Source, token: Token) -> int:
    return source.first_line + (token.map[0] if token.map else 0)
