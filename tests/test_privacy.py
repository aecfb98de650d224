"""privacy.private_folder closes what is the service's own and never a shared folder."""

from __future__ import annotations

import stat
from pathlib import Path

from feedsvc.privacy import private_folder


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_loose_folder_of_ours_is_tightened_and_a_new_one_made_private(tmp_path: Path) -> None:
    loose = tmp_path / "var"
    loose.mkdir(mode=0o755)
    loose.chmod(0o755)
    private_folder(loose)
    assert mode(loose) == 0o700
    made = private_folder(tmp_path / "a" / "b")
    assert mode(made) == 0o700 and mode(made.parent) == 0o700


def test_a_shared_sticky_folder_is_left_as_it_is(tmp_path: Path) -> None:
    # A backup or key given a path in /tmp once made /tmp 0700, and PostgreSQL's initdb
    # (another user) could not reach its folder there.
    shared = tmp_path / "tmp"
    shared.mkdir()
    shared.chmod(0o1777)
    private_folder(shared)
    assert mode(shared) == 0o1777
