"""Which change-log entries a change this instance made stands for (issue 18 item 5).

A look logs an entry per batch it stores and one for what it published, and `ingest` merges
them into one `Changes` without a generation; the next tick's `Service.follow` replayed each
entry as if another instance had written it, re-rendering the hot documents each time
(three renders for one release added). An entry logged since the last follow whose every
part lies within the change is covered by the apply that comes next, which reads the store
after the entry was committed, whoever wrote it.
"""

from __future__ import annotations

from feedsvc.model import Changes
from feedsvc.store.releases import Releases


def logged_by(releases: Releases, since: int, changes: Changes) -> set[int]:
    """The generations after `since` that applying `changes` makes redundant; call it
    before that apply."""
    if changes.generation:
        return {changes.generation}
    return {
        logged.generation for logged in releases.changes_since(since) if within(logged, changes)
    }


def within(part: Changes, whole: Changes) -> bool:
    """Whether applying `whole` does everything applying `part` would."""
    return (
        {*part.added} <= {*whole.added}
        and {*part.updated} <= {*whole.updated}
        and {*part.withdrawn} <= {*whole.withdrawn}
        and {*part.published} <= {*whole.published}
        and part.sections <= whole.sections
        and part.tags <= whole.tags
        and part.seqs <= whole.seqs
    )
