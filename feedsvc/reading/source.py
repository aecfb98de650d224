"""From a file's bytes to text and front matter, with line numbers kept for error messages."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from typing import Any, NoReturn

from feedsvc.errors import ReleaseError

_BOM = b"\xef\xbb\xbf"
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")
_TOML_WHERE = re.compile(r"\s*\(at (?:line (\d+)[^)]*|end of document)\)")
_FENCES = {"+++": "TOML", "---": "YAML"}


@cache
def _yaml_loader() -> Any:
    """SafeLoader that leaves timestamps as text: PyYAML raises a bare ValueError for an
    impossible one, and we parse dates ourselves, with the key and line in the message.
    Made when YAML front matter is first read: PyYAML costs every command's start ~10 ms,
    and a build reads only the files that changed (issue 18)."""
    import yaml

    class YamlLoader(yaml.SafeLoader):
        pass

    YamlLoader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return YamlLoader


@dataclass(frozen=True)
class Source:
    """A release file's text after its front matter, and the line that text starts on."""

    path: str
    text: str  # newlines normalised to '\n'
    first_line: int  # 1-based line number of text[0] in the file
    meta: dict[str, Any]
    meta_lines: dict[str, int]  # front-matter key -> its line, for error messages


def too_big(path: str, size: int, max_bytes: int) -> NoReturn:
    raise ReleaseError(
        path, 1, f"file is {size:,} bytes; the limit (items.max_bytes) is {max_bytes:,}"
    )


def decode(path: str, data: bytes, max_bytes: int) -> str:
    """Bytes -> text with '\\n' newlines. UTF-8, with or without BOM; LF, CRLF or CR."""
    if len(data) > max_bytes:
        too_big(path, len(data), max_bytes)
    skipped = 0
    if data.startswith(_BOM):
        skipped = len(_BOM)
        data = data[skipped:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = len(_LINE_BREAK.split(data[: e.start]))
        raise ReleaseError(
            path,
            line,
            f"not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start + skipped})",
        ) from None
    if "\x00" in text:
        before = text[: text.index("\x00")].encode("utf-8")
        raise ReleaseError(
            path, len(_LINE_BREAK.split(before)), "not a text file (contains NUL bytes)"
        )
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ReleaseError(path, 1, "empty file: expected a release")
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
    meta = _parse_meta(path, fence, lines[:end])
    return Source(path, "\n".join(lines[end + 1 :]), end + 3, meta, _key_lines(fence, lines[:end]))


def _key_lines(fence: str, lines: list[str]) -> dict[str, int]:
    """Top-level key -> line number (file lines; the fence is line 1)."""
    found: dict[str, int] = {}
    for i, line in enumerate(lines):
        if not line.strip() or line[0].isspace() or line.lstrip().startswith("#"):
            continue  # blank, nested (YAML) or a comment
        if fence == "+++" and line.startswith("["):
            key = line.strip().strip("[]").split(".")[0]
        else:
            key = line.split("=" if fence == "+++" else ":", 1)[0]
        key = key.strip().strip("\"'")
        if key:
            found.setdefault(key, i + 2)
    return found


def _parse_meta(path: str, fence: str, lines: list[str]) -> dict[str, Any]:
    raw = "\n".join(lines)
    try:
        # TOML gets a final newline so an error on the last line names that line rather
        # than "end of document"; YAML names the line where its stream ended.
        meta = (
            _parse_toml(path, raw + "\n", len(lines)) if fence == "+++" else _parse_yaml(path, raw)
        )
    except RecursionError:
        # The parsers give no position here; the longest line is where the nesting is.
        line = max(range(len(lines)), key=lambda i: len(lines[i]), default=0) + 2
        raise ReleaseError(path, line, "front matter is nested too deeply") from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise ReleaseError(path, 2, "front matter must be a table of keys and values")
    return {str(k): v for k, v in meta.items()}


def _parse_toml(path: str, raw: str, count: int) -> Any:
    try:
        return tomllib.loads(raw)
    except tomllib.TOMLDecodeError as e:
        # Python 3.11's TOMLDecodeError has no lineno; its message ends "(at line N, ...)".
        found = _TOML_WHERE.search(str(e))
        line = int(found.group(1)) + 1 if found and found.group(1) else count + 1
        message = _TOML_WHERE.sub("", str(e)).strip()
        raise ReleaseError(path, line, f"front matter is not valid TOML: {message}") from None


def _parse_yaml(path: str, raw: str) -> Any:
    import yaml
    from yaml.reader import ReaderError

    try:
        return yaml.load(raw, Loader=_yaml_loader())  # a SafeLoader subclass
    except ReaderError as e:
        # A character YAML refuses (a control character): no mark, but its position.
        line = raw.count("\n", 0, e.position) + 2
        problem = f"unacceptable character #x{e.character:04x}: {e.reason}"
        raise ReleaseError(path, line, f"front matter is not valid YAML: {problem}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        # YAML counts U+0085, U+2028 and U+2029 as line breaks too; the file's lines (what
        # an editor shows) end only at '\n': count those up to where YAML stopped.
        line = raw.count("\n", 0, mark.index) + 2 if mark is not None else 2
        problem = getattr(e, "problem", None) or str(e).split("\n", 1)[0]
        raise ReleaseError(path, line, f"front matter is not valid YAML: {problem}") from None
