"""Compiled templates kept between processes (issue 18 item 2): a `feedsvc build` compiled
every template it rendered again, a fifth of a second of a second build that renders a
dozen documents. Jinja's bytecode cache keeps each compiled template in the cache folder,
keyed here by everything its compiled code depends on:

- its name and source (Jinja's own checksum of the source);
- the catalog folded into it (folding.py: the same template compiles to other code for
  each language), by the catalog's messages, not its object;
- feedsvc's code and the libraries' versions (`code_fingerprint`): the folding, the
  environment's settings and Jinja's compiler are in them.

A cached file is Python bytecode that the process runs: the folder is the service's own
(0700, as var/cache is). One that cannot be read is compiled again, and one that cannot
be written is only not kept: the cache saves time, it is never needed.
"""

from __future__ import annotations

import contextlib
import gettext
import hashlib
import shutil
from pathlib import Path
from typing import Any

from jinja2 import Environment
from jinja2.bccache import Bucket, FileSystemBytecodeCache

from feedsvc.privacy import private_folder
from feedsvc.publishing.fingerprint import code_fingerprint


class CompiledTemplates(FileSystemBytecodeCache):
    def __init__(self, directory: Path) -> None:
        super().__init__(str(directory), "%s.jinja")
        self.salt = code_fingerprint()

    def get_bucket(
        self, environment: Environment, name: str, filename: str | None, source: str
    ) -> Bucket:
        catalog = getattr(environment, "folded_catalog", None)
        key = hashlib.blake2b(digest_size=16)
        for part in (self.salt, catalog_digest(catalog), name, filename or ""):
            key.update(part.encode() + b"\0")
        bucket = Bucket(environment, key.hexdigest(), self.get_source_checksum(source))
        self.load_bytecode(bucket)
        return bucket

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # cut short or not ours: compiled again, and written over
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        with contextlib.suppress(OSError):  # a read-only or full folder: compiled next time
            super().dump_bytecode(bucket)


_DIGESTS: dict[int, tuple[Any, str]] = {}  # id(catalog) -> (catalog, its digest)


def catalog_digest(catalog: gettext.NullTranslations | None) -> str:
    """The messages a catalog (and its fallbacks) says, as a digest; "" for none."""
    if catalog is None:
        return ""
    found = _DIGESTS.get(id(catalog))
    if found is not None and found[0] is catalog:
        return found[1]
    digest = hashlib.blake2b(digest_size=16)
    layer: gettext.NullTranslations | None = catalog
    while layer is not None:
        messages = getattr(layer, "_catalog", {})
        said = sorted(repr(item) for item in messages.items())  # keys: str, or (str, n)
        digest.update(type(layer).__name__.encode() + repr(said).encode())
        layer = getattr(layer, "_fallback", None)
    _DIGESTS[id(catalog)] = catalog, digest.hexdigest()
    return digest.hexdigest()


def keep_compiled(environments: list[Environment], folder: Path) -> None:
    """Give `environments` the compiled templates kept in `folder` (made private if it is
    missing), in a folder of this code's own: another code's (an upgrade's, a checkout's)
    are removed, not kept for ever. Without a folder that can be made, they compile as
    before."""
    mine = folder / code_fingerprint()[:16]
    try:
        if not mine.is_dir():
            private_folder(folder)
            for other in folder.iterdir():
                shutil.rmtree(other, ignore_errors=True)
        cache = CompiledTemplates(private_folder(mine))
    except OSError:
        return
    for env in environments:
        env.bytecode_cache = cache
