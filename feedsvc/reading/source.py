"""From a file's bytes to text and front matter, with line numbers kept for error messages."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from typing import Any

import yaml

from feedsvc.errors import ReleaseError

_BOM = b"\xef\xbb\xbf"
_TOML_LINE = re.compile(r"\s*\(at line (\d+)[^)]*\)")
_FENCES = {"+++": "TOML", "---": "YAML"}


@dataclass(frozen=True)
class Source:
    """A release file's text after its front matter, and the line that text starts on."""

    path: str
    text: str  # newlines normalised to '\n'
    first_line: int  # 1-based line number of text[0] in the file
    meta: dict[str, Any]
    meta_lines: dict[str, int]  # front-matter key -> its line, for error messages


def decode(path: str, data: bytes, max_bytes: int) -> str:
    """Bytes -> text with '\\n' newlines. UTF-8, with or without BOM; LF, CRLF or CR."""
    if len(data) > max_bytes:
        raise ReleaseError(
            path, 1, f"file is {len(data):,} bytes; the limit (items.max_bytes) is {max_bytes:,}"
        )
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        if b"\n" not in data[: e.start]:
            line = data[: e.start].count(b"\r") + 1
        raise ReleaseError(
            path, line, f"not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start})"
        ) from None
    if "\x00" in text:
        line = _normalise_newlines(text[: text.index("\x00")]).count("\n") + 1
        raise ReleaseError(path, line, "not a text file (contains NUL bytes)")
    text = _normalise_newlines(text)
    if not text.strip():
        raise ReleaseError(path, 1, "empty file: expected a release")
    return text


def _normalise_newlines(text: str) -> str:
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def split_front_matter(path: str, text: str) -> Source:
    """Take off `+++` TOML or `---` YAML front matter, if the file begins with one."""
    first, _, rest = text.partition("\n")
    fence = first.rstrip()
    if fence not in _FENCES:
        return Source(path, text, 1, {}, {})
    lines = rest.split("\n")
    try:
        end = next(i for i, line in enumerate(lines) if line.rstrip() == fence)
    except StopIteration:
        raise ReleaseError(
            path, 1, f"front matter opened with {fence!r} is never closed by another {fence!r}"
        ) from None
    raw = "\n".join(lines[:end])
    meta = _parse_meta(path, fence, raw)
    meta_lines = {}
    for i, line in enumerate(lines[:end]):
        key = line.split("=" if fence == "+++" else ":", 1)[0].strip()
        if key and key not in meta_lines:
            meta_lines[key] = i + 2
    body = "\n".join(lines[end + 1 :])
    return Source(path, body, end + 3, meta, meta_lines)


def _parse_meta(path: str, fence: str, raw: str) -> dict[str, Any]:
    if fence == "+++":
        try:
            meta = tomllib.loads(raw)
        except tomllib.TOMLDecodeError as e:
            # Python 3.11's TOMLDecodeError has no lineno; its message ends "(at line N, ...)".
            found = _TOML_LINE.search(str(e))
            line = int(found.group(1)) + 1 if found else 2
            message = _TOML_LINE.sub("", str(e)).strip()
            raise ReleaseError(path, line, f"front matter is not valid TOML: {message}") from None
    else:
        try:
            meta = yaml.safe_load(raw) if raw.strip() else {}
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            line = mark.line + 2 if mark is not None else 1
            problem = getattr(e, "problem", None) or str(e)
            raise ReleaseError(path, line, f"front matter is not valid YAML: {problem}") from None
        if meta is None:
            meta = {}
    if not isinstance(meta, dict):
        raise ReleaseError(path, 2, "front matter must be a table of keys and values")
    return {str(k): v for k, v in meta.items()}
