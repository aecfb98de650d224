"""Changes without stalls (issue 18 item 5): a change's hot documents rendered in a renderer
process, swapped in whole, each change rendered once; a renderer that dies is replaced."""

from __future__ import annotations

import gc
import os
import signal
import time
from collections.abc import Iterator

import pytest

from feedsvc.hot_worker import HotRenderer
from feedsvc.publishing.entry_elements import ELEMENTS, KEPT
from feedsvc.publishing.hot import HotJob
from feedsvc.publishing.ready import Ready
from feedsvc.service import Service
from tests.test_service import release
from tests.test_service import service as service


@pytest.fixture
def apart(service: Service) -> Iterator[tuple[Service, HotRenderer]]:
    service.start()
    service.render_apart()
    renderer = service.cache.renderer
    assert isinstance(renderer, HotRenderer)
    renderer.warm()  # the first change would be rendered here while it starts
    assert renderer.wait(60), "the renderer process did not start"
    yield service, renderer


def _publish(service: Service, name: str, title: str) -> None:
    release(service, f"{name}.txt", title, "November 26, 2026")
    assert service.scan().changes.published, f"{name} was not published"


def test_a_change_rendered_in_the_renderer_process_is_served(
    apart: tuple[Service, HotRenderer],
) -> None:
    service, renderer = apart
    here = _counting_here(renderer)
    before = service.cache.hot
    _publish(service, "first", "Renderer Tested Apart")
    assert here == [], "rendered in the serving process"
    assert renderer.pid is not None and renderer.pid != os.getpid()
    for path in ("feed.xml", "atom.xml", "feed.json", ""):  # "": the home page
        assert b"Renderer Tested Apart" in service.cache.hot[path].body, path
        assert service.cache.hot[path] is not before[path]
    # The served dict is replaced whole, never written into: a reader that took it before
    # the change saw the old documents only, one that takes it after sees the new ones only.
    assert all(b"Renderer Tested Apart" not in r.body for r in before.values())
    assert service.cache.hot["404.html"] is before["404.html"]  # untouched: the same object


def test_a_renderer_that_dies_is_replaced_and_the_change_still_appears(
    apart: tuple[Service, HotRenderer],
) -> None:
    service, renderer = apart
    _publish(service, "first", "Before The Kill")
    first = renderer.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while _alive(first) and time.monotonic() < deadline:
        time.sleep(0.05)
    _publish(service, "second", "After The Kill")  # rendered here, a new renderer starting
    assert b"After The Kill" in service.cache.hot["feed.xml"].body
    assert renderer.wait(60), "no renderer process was started again"
    assert renderer.pid not in (None, first, os.getpid())
    _publish(service, "third", "With The New One")
    assert b"With The New One" in service.cache.hot["feed.xml"].body


def test_a_change_while_the_renderer_starts_is_not_kept_waiting(service: Service) -> None:
    service.start()
    service.render_apart()
    renderer = service.cache.renderer
    assert isinstance(renderer, HotRenderer) and renderer.pid is None
    here = _counting_here(renderer)
    _publish(service, "first", "Rendered Here Meanwhile")
    assert len(here) == 1  # not kept waiting for the renderer's imports
    assert b"Rendered Here Meanwhile" in service.cache.hot["feed.xml"].body
    assert renderer.wait(60), "the first change did not start the renderer"


def test_each_change_is_rendered_once(service: Service) -> None:
    """A look logs an entry per batch and one for what it published; the next tick's
    follow() must not render them again (each did a full hot re-render before)."""
    service.start()
    jobs: list[HotJob] = []

    def counting(job: HotJob) -> list[Ready]:
        jobs.append(job)
        return service.cache._render_hot(job)

    service.cache.renderer = counting
    _publish(service, "first", "Rendered Once")
    assert len(jobs) == 1
    assert not service.scan().changes
    assert len(jobs) == 1, "follow() applied the scan's own change again"
    assert b"Rendered Once" in service.cache.hot["feed.xml"].body


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _counting_here(renderer: HotRenderer) -> list[HotJob]:
    """The jobs rendered in this process from now on."""
    jobs: list[HotJob] = []
    real = renderer.here

    def here(job: HotJob) -> list[Ready]:
        jobs.append(job)
        return real(job)

    renderer.here = here
    return jobs


def test_the_renderer_keeps_what_it_holds_for_good_out_of_full_collections(
    apart: tuple[Service, HotRenderer],
) -> None:
    """Issue 18: a full collection in the renderer walked its imports and site (~30 ms of
    a change at 10,000 releases); they are frozen once it opened, with the templates and
    locale data its rendering of the main feeds ahead loaded, so its first change is not
    held up by a collection of its own."""
    service, renderer = apart
    assert renderer._pool is not None
    opened = renderer._pool.submit(gc.get_freeze_count).result(30)
    assert opened > 10_000, "the renderer froze nothing when it opened"
    # It keeps the feeds' entry elements (publishing/entry_elements.py); this process not.
    assert renderer._pool.submit(_elements_kept).result(30) == KEPT
    assert _elements_kept() == 0
    _publish(service, "first", "Frozen After")
    # Not frozen again (what it freed of the frozen leaves the count lower).
    assert renderer._pool.submit(gc.get_freeze_count).result(30) <= opened


def test_the_renderer_renders_the_main_feeds_ahead_when_it_opens(service: Service) -> None:
    """Issue 18: a renderer's first change cost it its templates, locale data and every
    entry of the main feeds (68 against ~24 ms at 10,000 releases); it renders them when it
    opens, so that change costs what the next ones do."""
    service.start()
    _publish(service, "before", "Published Before The Renderer")  # rendered here
    service.render_apart()
    renderer = service.cache.renderer
    assert isinstance(renderer, HotRenderer)
    renderer.warm()
    assert renderer.wait(60), "the renderer process did not start"
    assert renderer._pool is not None
    assert renderer._pool.submit(_elements_made).result(30) >= 2  # an Atom and an RSS entry


def _elements_kept() -> int:
    return ELEMENTS.kept


def _elements_made() -> int:
    return len(getattr(ELEMENTS._local, "made", ()))
