"""An entry's tags with their pages (issue 17), for the feeds' categories."""

from __future__ import annotations

from collections.abc import Iterable

from feedsvc import layout
from feedsvc.model import tag_slug
from feedsvc.publishing.feed import TagRef


def tag_refs(names: Iterable[str], base_url: str) -> tuple[TagRef, ...]:
    """One per slug, the first name given kept (as the store's release_tags rows keep
    it); `base_url` the language's."""
    refs: dict[str, TagRef] = {}
    for name in names:
        slug = tag_slug(name)
        if slug not in refs:
            refs[slug] = TagRef(name, slug, base_url + layout.tag_page(slug))
    return tuple(refs.values())
