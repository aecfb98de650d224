"""The files a release names, as written (issue 14): Markdown pictures and links to files in
the text, `image` and `attachments` in front matter, each with the line that named it.

Only the naming is read here; `media_refs.py` resolves and checks the files. A link is a
file of the release when it is relative (no scheme, not '/'-rooted, not '#'-only) and its
path ends in an extension without a trailing '/': `statement.pdf` is one, `../other/` and
`https://example.org/x.pdf` are plain links. The body keeps every src and href as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from feedsvc.errors import ReleaseError

if TYPE_CHECKING:  # markdown-it is imported when a Markdown file is read (issue 18)
    from markdown_it.token import Token

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_EXTENSION = re.compile(r"\.[A-Za-z0-9_-]{1,20}$")
IMAGE_KEYS = ("src", "alt", "caption", "credit")
ATTACHMENT_KEYS = ("src", "title")


@dataclass(frozen=True)
class Reference:
    """One naming of a file: `src` as written, its role (model.MEDIA_ROLES), its line."""

    src: str
    role: str
    line: int
    alt: str = ""
    caption: str = ""
    credit: str = ""
    title: str = ""


def names_a_file(target: str) -> bool:
    """Whether a Markdown link or picture target is a file of the release (see above)."""
    path = re.split(r"[?#]", target, maxsplit=1)[0]
    if not path or path.startswith("/") or _SCHEME.match(path) or path.endswith("/"):
        return False
    return _EXTENSION.search(path) is not None


def file_path(target: str) -> str:
    """The file a target names: without its query or fragment (`statement.pdf#page=2`)."""
    return re.split(r"[?#]", target, maxsplit=1)[0]


def markdown_references(
    tokens: list[Token], first_line: int, as_text: Callable[[list[Token]], str]
) -> list[Reference]:
    """Pictures (role `inline`, alt from the picture's text) and links to files (role
    `attachment`, title from the link's text) in the order they appear."""
    found = []
    for block in tokens:
        if block.type != "inline" or not block.children:
            continue
        line = first_line + (block.map[0] if block.map else 0)
        for at, child, text in _inline(block.children, line, as_text):
            target = child.attrs.get("src" if child.type == "image" else "href")
            if isinstance(target, str) and names_a_file(target):
                role = "inline" if child.type == "image" else "attachment"
                found.append(
                    Reference(
                        file_path(target),
                        role,
                        at,
                        alt=" ".join(text.split()) if role == "inline" else "",
                        title=" ".join(text.split()) if role == "attachment" else "",
                    )
                )
    return found


def _inline(
    children: list[Token], line: int, as_text: Callable[[list[Token]], str]
) -> Iterator[tuple[int, Token, str]]:
    """(line, token, its text) of each picture and link opening, the line counted from the
    paragraph's first by its line breaks."""
    for i, child in enumerate(children):
        if child.type in ("softbreak", "hardbreak"):
            line += 1
        elif child.type == "image":
            yield line, child, as_text(child.children or [])
        elif child.type == "link_open":
            close = next(
                (j for j in range(i + 1, len(children)) if children[j].type == "link_close"),
                len(children),
            )
            yield line, child, as_text(children[i + 1 : close])


def front_matter_references(
    meta: dict[str, Any], lines: dict[str, int], fail: Callable[[str, str], ReleaseError]
) -> tuple[list[Reference], list[Reference]]:
    """(the lead `image`, the `attachments`) as front matter gives them; `fail(key,
    message)` names the key's line."""
    image = []
    if "image" in meta:
        fields = _table(meta["image"], IMAGE_KEYS, "image", lambda m: fail("image", m))
        image.append(Reference(role="image", line=lines.get("image", 1), **fields))
    attachments = []
    if "attachments" in meta:
        items = meta["attachments"]
        if not isinstance(items, list):
            raise fail("attachments", "front-matter 'attachments' must be a list of files")
        line = lines.get("attachments", 1)
        for item in items:
            fields = _table(item, ATTACHMENT_KEYS, "attachments", lambda m: fail("attachments", m))
            attachments.append(Reference(role="attachment", line=line, **fields))
    return image, attachments


def _table(
    value: Any, keys: tuple[str, ...], key: str, fail: Callable[[str], ReleaseError]
) -> dict[str, str]:
    """A file given as its name, or as a table of `keys` (`src` required), all text."""
    if isinstance(value, str):
        value = {"src": value}
    if not isinstance(value, dict):
        raise fail(f"front-matter {key!r} must be a file name or a table ({', '.join(keys)})")
    unknown = sorted(set(map(str, value)) - set(keys))
    if unknown:
        raise fail(
            f"unknown key {unknown[0]!r} in front-matter {key!r}; expected: {', '.join(keys)}"
        )
    if not isinstance(value.get("src"), str) or not value["src"].strip():
        raise fail(f"front-matter {key!r} needs a 'src': the file's name")
    fields = {}
    for name in keys:
        text = value.get(name, "")
        if not isinstance(text, str):
            raise fail(f"front-matter '{key}.{name}' must be text")
        fields[name] = " ".join(text.split()) if name != "src" else text.strip()
    return fields
