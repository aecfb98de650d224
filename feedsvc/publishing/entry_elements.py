"""Each feed entry's element, made by feedgen once and moved into each feed that lists it
(issue 18).

A change re-renders the main feed, its section's feed and the newest archive page, in RSS
and Atom: ~200 entries, all but one of them as they were the time before, each built again
by feedgen's Python (~45 us an entry and format, most of a change's render). feedgen still
makes every element (FeedEntry.atom_entry / rss_entry, with our extensions); what is kept
is the element it made, by everything it was made of (the key), and the next feed that
lists the entry takes the element itself: lxml moves an element appended to another tree
out of the one it was in, which was serialized already (a feed is made and serialized in
one call, in one thread; each thread keeps its own). The bytes are those of a fresh entry:
tests/publishing/test_entry_elements.py compares them.

Kept where changes are rendered, the renderer process (hot_worker.py), which turns it on:
`remember_entries(KEPT)`, the newest entries its feeds listed, ~11 KiB an element (~11 MiB
in all). Elsewhere nothing is kept: a cold build lists each entry about once, and the
serving process's threads render archive pages on request, where 11 MiB a thread would
cost more memory than the time it saves.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from feedgen.entry import FeedEntry

# Elements a thread keeps, RSS and Atom together: the main feed, the sections' feeds, the
# newest archive page and the tags' feeds a few changes touch (~11 KiB each).
KEPT = 1024


class Made(FeedEntry):  # type: ignore[misc]
    """An entry whose element is made: feedgen appends it as it is (lxml moves it out of
    the feed that listed it last)."""

    def __init__(self, element: Any) -> None:  # no FeedEntry state: nothing is set on it
        self._element = element

    def register_extension(self, *_args: Any, **_kwargs: Any) -> None:
        """The element was made with the feed's extensions already."""

    def atom_entry(self, extensions: bool = True) -> Any:
        return self._element  # moved into this feed from the last that listed it

    def rss_entry(self, extensions: bool = True) -> Any:
        return self._element


class EntryElements:
    """The last `kept` elements made in each thread, by key (none unless turned on)."""

    def __init__(self) -> None:
        self.kept = 0
        self._local = threading.local()

    def element(self, key: Hashable, make: Callable[[], Any]) -> Any:
        """The element kept for `key`, else `make()`'s (and kept). The key must hold
        everything the element is made of; the element must be appended to one feed and
        that feed serialized before this thread asks again."""
        if self.kept <= 0:
            return make()
        made: OrderedDict[Hashable, Any] | None = getattr(self._local, "made", None)
        if made is None:
            made = self._local.made = OrderedDict()
        kept = made.get(key)
        if kept is None:
            kept = made[key] = make()
            if len(made) > self.kept:
                made.popitem(last=False)
        else:
            made.move_to_end(key)
        return kept


ELEMENTS = EntryElements()


def remember_entries(count: int) -> None:
    """How many elements each thread of this process keeps (0: none, the default)."""
    ELEMENTS.kept = count
    ELEMENTS._local = threading.local()
