"""Everything besides the store that decides a build's bytes, as one digest (issue 18 item 2):
a document rendered by an earlier build is reused only under the same fingerprint.

The settings (all but the database's: a `--now` preview reads the same folder into a
throwaway store, and the rows themselves are in each document's key), feedsvc's own files
(code, templates, catalogs, stylesheets: their bytes, not their dates), the installed
libraries' versions (feedgen, Jinja, nh3... write the bytes too) and Python's.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import sys
from functools import cache
from pathlib import Path

import feedsvc
from feedsvc.config import Settings


def build_fingerprint(settings: Settings) -> str:
    digest = hashlib.blake2b(digest_size=16)
    shown = [
        (f.name, getattr(settings, f.name))
        for f in dataclasses.fields(settings)
        if f.name != "database"
    ]
    digest.update(repr(shown).encode())
    digest.update(code_fingerprint().encode())
    return digest.hexdigest()


@cache
def code_fingerprint() -> str:
    """feedsvc's own files, the libraries' versions and Python's, as one digest: read once
    a process (a build's and the compiled templates' keys both have it)."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(sys.version.encode())
    for name in _libraries():
        digest.update(name.encode() + b"\0")
    package = Path(feedsvc.__file__).parent
    for path in _files(package):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _files(root: Path) -> list[Path]:
    found = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        found += [Path(folder, name) for name in sorted(names)]
    return found


def _libraries() -> list[str]:
    """The installed distributions, named with their versions (`jinja2-3.1.4.dist-info`)."""
    names: list[str] = []
    for entry in sys.path:
        if entry.endswith(("site-packages", "dist-packages")) and os.path.isdir(entry):
            names += sorted(n for n in os.listdir(entry) if n.endswith((".dist-info", ".egg-info")))
    return names


def digest(*parts: object) -> str:
    """A document key's digest (doc_keys.py, sitemap_keys.py): the parts as text, joined."""
    return hashed("\x1f".join(map(str, parts)))


def hashed(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
