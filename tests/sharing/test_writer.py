"""The share desk's group-commit writer on its own (issue 13): real threads, and a store
step that is a plain function, so each batch it is handed can be seen and held."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import Future

import pytest

from feedsvc.sharing.writer import GroupWriter
from feedsvc.store.shares import PendingShare, Refusal

NOW = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)


def pending(n: int) -> PendingShare:
    return PendingShare(
        id=f"share{n}",
        release_id="r",
        nonce=f"nonce{n}",
        ip_hash="0" * 64,
        sender_name=None,
        sender_email=None,
        sender_hash=None,
        message=None,
        emails=(),
    )


class Desk:
    """Stores batches: the first one waits for `release`, so that others queue behind it."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.batches: list[list[str]] = []
        self.started = threading.Event()
        self.release = threading.Event()
        self.fail = fail

    def accept(self, batch: list[PendingShare], now: dt.datetime) -> list[Refusal | None]:
        assert now == NOW
        self.started.set()
        self.release.wait(10)
        self.batches.append([p.id for p in batch])
        if self.fail is not None:
            raise self.fail
        return [Refusal("token") if p.id == "share2" else None for p in batch]


def put(writer: GroupWriter, n: int) -> Future[Refusal | None]:
    stored: Future[Refusal | None] = Future()
    writer.put(pending(n), stored)
    return stored


def test_shares_arriving_during_a_commit_are_stored_together_in_the_next() -> None:
    desk = Desk()
    writer = GroupWriter(desk.accept, lambda: NOW)
    first = put(writer, 1)
    assert desk.started.wait(10)
    later = [put(writer, n) for n in (2, 3, 4)]
    desk.release.set()
    assert first.result(10) is None
    outcomes = [f.result(10) for f in later]
    assert desk.batches == [["share1"], ["share2", "share3", "share4"]]
    # Each share is answered with its own outcome, in its own order.
    assert outcomes == [Refusal("token"), None, None]
    writer.close()


def test_a_failed_commit_fails_every_share_of_its_batch_and_the_writer_goes_on() -> None:
    desk = Desk(fail=RuntimeError("disk full"))
    desk.release.set()
    writer = GroupWriter(desk.accept, lambda: NOW)
    failed = put(writer, 1)
    with pytest.raises(RuntimeError, match="disk full"):
        failed.result(10)
    desk.fail = None
    assert put(writer, 3).result(10) is None
    writer.close()


def test_close_stores_what_was_queued_before_it() -> None:
    desk = Desk()
    writer = GroupWriter(desk.accept, lambda: NOW)
    first = put(writer, 1)
    assert desk.started.wait(10)
    queued = put(writer, 3)
    closing = threading.Thread(target=writer.close)
    closing.start()
    desk.release.set()
    closing.join(10)
    assert not closing.is_alive()
    assert first.done() and queued.done() and queued.result() is None
    assert desk.batches == [["share1"], ["share3"]]


def test_a_writer_never_used_closes_at_once() -> None:
    writer = GroupWriter(Desk().accept, lambda: NOW)
    writer.close()  # no thread was started: nothing to wait for
